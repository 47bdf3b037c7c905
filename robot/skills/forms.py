"""Forms: an intent with `slots:` asks for each missing one in turn ("What size would you like?") before it
answers. A slot is filled by its entity, found by the entity's own rules (lookup values, synonyms, regexes) in
the message that starts the form or in any later one; "cancel" or "never mind" (算了, 取消) leaves the form; the
filled slots live in the session, so Undo and Retry rewind them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from robot.intents.schema import Intent
from robot.language import ENGLISH, base_language

CANCEL = {ENGLISH: re.compile(r"^(?:oh,? )?(?:cancel|never ?mind|forget (?:it|about it)|stop|nothing|no thanks|"
                              r"i changed my mind)(?: (?:it|that|please|the order))*[.!]*$", re.IGNORECASE),
          "zh": re.compile(r"^(?:算了|取消|不用了|不要了|没事了?)(?:吧|了)?[。！!]*$")}
LINES = {
    "cancelled": {ENGLISH: "Okay, I've cancelled that.", "zh": "好的，已经取消了。"},
    "again": {ENGLISH: "Sorry, I didn't get that. {ask}", "zh": "抱歉，我没听明白。{ask}"},
    "resume": {ENGLISH: "{reply} Now, back to where we were: {ask}", "zh": "{reply} 我们接着刚才的：{ask}"},
}


@dataclass
class Form:
    """A form in progress: its intent, the slots filled so far, and the one asked for last."""

    intent: str
    filled: dict[str, str] = field(default_factory=dict)
    asking: str | None = None


def said(key: str, language: str, **details: str) -> str:
    lines = LINES[key]
    return lines.get(base_language(language), lines[ENGLISH]).format(**details)


def is_cancel(message: str) -> bool:
    """Whether a message asks to leave the form, in any language that has the words for it."""
    return any(pattern.match(message.strip()) for pattern in CANCEL.values())


def fill(form: Form, intent: Intent, rule_entities: dict[str, str]) -> None:
    """Fill every missing slot whose entity the message carries (found by that entity's rules)."""
    for name, slot in intent.slots.items():
        if name not in form.filled and slot.entity in rule_entities:
            form.filled[name] = rule_entities[slot.entity]


def missing(form: Form, intent: Intent) -> str | None:
    """The first slot still to ask for, or None when the form is complete."""
    return next((name for name in intent.slots if name not in form.filled), None)
