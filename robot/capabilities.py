"""What a model says it can do, built from its intents, never from fixed text: the answer to "what can you do?",
the page's welcome line and example prompts, and the fallback's suggestions follow every activation and rollback.

An intent describes itself with `description:` ("order a pizza"); one without is named by its first example.
Built-in intents without a description (greetings, thanks, moods) are conversation, not skills: not listed.
The user's own intents come first.
"""

from __future__ import annotations

from dataclasses import dataclass

from robot.intents.annotations import plain_text
from robot.intents.schema import IntentData
from robot.language import ENGLISH, base_language

HELP_INTENT = "capabilities"  # the built-in intent that answers "what can you do?"
MAX_SKILLS = 10
MAX_EXAMPLES = 4
QUOTES = {ENGLISH: "'{}'", "zh": "“{}”"}


@dataclass(frozen=True)
class Capabilities:
    skills: tuple[str, ...]  # what it can do, as said
    examples: tuple[str, ...]  # messages to try, one per skill
    help: str  # how to ask what it can do

    def said(self, language: str) -> dict[str, str]:
        """Template slots: {skills} (a list as said in `language`), {example}, {help}."""
        return {"skills": join(list(self.skills), language), "example": self.examples[0] if self.examples else "",
                "help": self.help}


def join(items: list[str], language: str) -> str:
    if base_language(language) == "zh":
        return "、".join(items[:-1]) + ("和" if len(items) > 1 else "") + items[-1] if items else ""
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1] if items else ""


def capabilities(data: IntentData) -> Capabilities:
    language = data.language_or_detected()
    quote = QUOTES.get(base_language(language), QUOTES[ENGLISH])
    ordered = [i for i in data.intents if not i.builtin] + [i for i in data.intents if i.builtin]
    skills, examples = [], []
    for intent in ordered:
        if not intent.examples or intent.name == HELP_INTENT or (intent.builtin and not intent.description):
            continue
        example = plain_text(intent.examples[0])
        skills.append(intent.description or quote.format(example))
        examples.append(example)
    helper = next((plain_text(i.examples[0]) for i in data.intents if i.name == HELP_INTENT and i.examples), None)
    return Capabilities(tuple(skills[:MAX_SKILLS]), tuple(examples[:MAX_EXAMPLES]),
                        helper or (examples[0] if examples else ""))
