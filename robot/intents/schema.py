"""The intent data model and its checks.

Checks return `Problem`s (errors and warnings) rather than raising, so the CLI and the web Train tab can
show them all; `raise_first_error` turns the first error into an `InputError` for commands that stop.
"""

from __future__ import annotations

import string
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from robot.errors import InputError
from robot.intents.annotations import Span, parse_example, plain_text
from robot.intents.user_regex import regex_problem
from robot.language import detect_language
from robot.skills.builtin import MEMORY_SLOTS, PERSONA_SLOTS
from robot.skills.registry import actions
from robot.skills.webhook import url_problem

OOS_LABELS = ("oos", "out_of_scope")


@dataclass(frozen=True)
class Slot:
    """A detail a form asks for: filled by an entity (checked by its rules), asked for with `ask` when missing."""

    entity: str
    ask: str


@dataclass
class Intent:
    name: str
    examples: list[str]
    responses: list[str] = field(default_factory=list)
    action: str | None = None
    context_in: list[str] = field(default_factory=list)
    context_out: list[str] = field(default_factory=list)
    description: str | None = None  # what the robot says it can do with this intent ("order a pizza")
    webhook: str | None = None  # an HTTP(S) URL the robot POSTs the turn to (robot/skills/webhook.py)
    slots: dict[str, Slot] = field(default_factory=dict)  # a form: every slot filled before it answers
    builtin: bool = False  # one of the default persona's skills, composed with the user's intents


@dataclass(frozen=True)
class Faq:
    """A question the robot answers with `answer` when a message is close enough to it (robot/intents/faq.py)."""

    question: str
    answer: str


@dataclass
class Entity:
    """Rule-based entity: regexes (group `value` if present), lookup values, synonyms -> canonical value."""

    name: str
    regex: list[str] = field(default_factory=list)
    lookup: list[str] = field(default_factory=list)
    synonyms: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class IntentData:
    intents: list[Intent]
    entities: list[Entity] = field(default_factory=list)
    oos_examples: list[str] = field(default_factory=list)
    faq: list[Faq] = field(default_factory=list)
    source: str = "<memory>"
    lines: dict[tuple, int] = field(default_factory=dict, repr=False)
    language: str | None = None  # declared (`language:` in the file, --language), or set from the examples

    def language_or_detected(self) -> str:
        """The declared language, else the one the examples' script shows."""
        return self.language or detect_language(self.labelled_examples()[0])

    def intent(self, name: str) -> Intent:
        for intent in self.intents:
            if intent.name == name:
                return intent
        raise KeyError(name)

    def labelled_examples(self) -> tuple[list[str], list[str]]:
        """All examples (plain text, annotations removed) and their labels, out-of-scope ones labelled `oos`."""
        texts = [plain_text(e) for i in self.intents for e in i.examples] + [plain_text(e) for e in self.oos_examples]
        labels = [i.name for i in self.intents for _ in i.examples] + ["oos"] * len(self.oos_examples)
        return texts, labels


    def annotated_examples(self) -> list[tuple[str, list[Span]]]:
        """(plain text, entity spans) of every example that carries an annotation."""
        parsed = [parse_example(e) for i in self.intents for e in i.examples if "[" in e]
        return [(text, spans) for text, spans in parsed if spans]


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" or "warning"
    message: str
    field: str
    line: int | None = None

    def as_error(self, source: str | Path) -> InputError:
        return InputError(self.message, path=source, line=self.line, field=self.field)


def line_of(data: IntentData, path: tuple) -> int | None:
    """The line of a field, or of the nearest enclosing field the reader recorded."""
    return next((data.lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in data.lines), None)


def normalise(text: str) -> str:
    """The form under which two examples count as the same sentence."""
    return " ".join(text.casefold().split())


def template_slots(template: str) -> list[str]:
    """The slot names of a response template. Only plain `{name}` placeholders are allowed (and `{{`/`}}` for
    braces): slot values are strings, so a conversion, a format spec, an index or a positional `{}` could
    only fail, or build a huge reply, at reply time. Raises ValueError on anything else."""
    slots = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"{shown} is not a plain {{slot}} placeholder (write {{{{ and }}}} for literal braces)")
        slots.append(name)
    return slots


def check(data: IntentData, min_examples: int = 5) -> list[Problem]:
    """Every problem of the data, errors first."""
    problems: list[Problem] = []

    def add(severity: str, message: str, path: tuple) -> None:
        name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        problems.append(Problem(severity, message, name, line_of(data, path)))

    if not data.intents:
        add("error", "no intents defined", ("intents",))
    annotated = {span.entity for _, spans in data.annotated_examples() for span in spans}
    entities = {e.name for e in data.entities} | annotated
    fillable = set(MEMORY_SLOTS) | set(PERSONA_SLOTS) | entities
    owner: dict[str, str] = {}
    first_at: dict[str, tuple] = {}  # where each text was first seen
    for text in data.oos_examples:
        owner[normalise(plain_text(text))] = "oos"
    for intent in data.intents:
        where = ("intents", intent.name)
        if not intent.examples:
            add("error", "intent has no examples", (*where, "examples"))
        elif len(intent.examples) < min_examples:
            add("warning", f"only {len(intent.examples)} examples (at least {min_examples} advised)",
                (*where, "examples"))
        for k, text in enumerate(intent.examples):
            key = normalise(plain_text(text))
            if not key:
                add("error", "empty example", (*where, "examples", k))
            elif key in owner and owner[key] != intent.name:
                line = line_of(data, first_at[key]) if key in first_at else None
                add("warning", f"example {text!r} is also under intent {owner[key]!r}"
                    + (f" (line {line})" if line else "") + ": training keeps one label per text (the one most of "
                    "its copies have, else the first)", (*where, "examples", k))
            elif key in owner:
                add("warning", f"example {text!r} is repeated", (*where, "examples", k))
            owner.setdefault(key, intent.name)
            first_at.setdefault(key, (*where, "examples", k))
        provided = set(intent.slots)
        if intent.action is not None and intent.webhook is not None:
            add("error", "an intent has an action or a webhook, not both", (*where, "webhook"))
        if intent.action is not None:
            known = actions()
            if intent.action not in known:
                add("error", f"unknown action {intent.action!r} (known: {', '.join(sorted(known))}; "
                    "`robot actions list`)", (*where, "action"))
            else:
                provided |= set(known[intent.action].provides)
        if intent.webhook is not None and (problem := url_problem(intent.webhook)):
            add("error", problem, (*where, "webhook"))
        for name, slot in intent.slots.items():
            if slot.entity not in entities:
                add("error", f"slot {name!r} is filled by entity {slot.entity!r}, which is not defined (entities: "
                    f"{', '.join(sorted(entities)) or 'none'})", (*where, "slots", name, "entity"))
            if not slot.ask.strip():
                add("error", f"slot {name!r} needs the question that asks for it (ask:)", (*where, "slots", name))
        if not intent.responses and intent.webhook is None:
            add("warning", "intent has no responses: the robot will use its fallback", (*where, "responses"))
        for k, template in enumerate(intent.responses):
            try:
                slots = template_slots(template)
            except ValueError as exc:
                add("error", f"bad template {template!r}: {exc}", (*where, "responses", k))
                continue
            for slot in slots:
                if slot not in fillable | provided and intent.webhook is None:  # a webhook may fill any slot
                    add("error", f"template slot {{{slot}}} is never filled (no entity, action, form slot or "
                        f"memory gives it)", (*where, "responses", k))
    if data.intents and not data.oos_examples:
        add("warning", "no out-of-scope examples (intent `oos`): training adds generic negatives from the default "
            "persona so that unrelated messages are refused; your own examples of what the robot should not "
            "answer work better", ("intents",))
    asked: dict[str, int] = {}
    for k, faq in enumerate(data.faq):
        if not faq.question.strip() or not faq.answer.strip():
            add("error", "an FAQ entry needs a question and an answer", ("faq", k))
        elif normalise(faq.question) in asked:
            add("warning", f"question {faq.question!r} is asked twice (entry {asked[normalise(faq.question)]}): "
                "the first answer is used", ("faq", k))
        asked.setdefault(normalise(faq.question), k)
    for entity in data.entities:
        for k, pattern in enumerate(entity.regex):
            if problem := regex_problem(pattern):
                add("error", problem, ("entities", entity.name, "regex", k))
        if not (entity.regex or entity.lookup or entity.synonyms):
            add("error", "entity has no regex, lookup or synonyms", ("entities", entity.name))
    problems.sort(key=lambda p: p.severity != "error")
    return problems


def one_label_per_text(data: IntentData) -> tuple[IntentData, list[tuple[str, str]]]:
    """Real data sets have the same text under two intents (Rasa warns and trains): each text keeps the label
    most of its copies have, else the first one's (intents in order, then out-of-scope examples). Returns the
    data without the other copies, and the (example, intent) pairs left out. An intent left without examples
    is left out too."""
    labelled = [(i.name, e) for i in data.intents for e in i.examples] + [("oos", e) for e in data.oos_examples]
    keys = {text: normalise(plain_text(text)) for _, text in labelled}
    votes: dict[str, Counter] = defaultdict(Counter)
    for label, text in labelled:
        votes[keys[text]][label] += 1
    kept = {key: counts.most_common(1)[0][0] for key, counts in votes.items()}  # ties: the first counted
    dropped = [(text, label) for label, text in labelled if kept[keys[text]] != label]
    if not dropped:
        return data, []
    intents = [replace(i, examples=[e for e in i.examples if kept[keys[e]] == i.name]) for i in data.intents]
    return replace(data, intents=[i for i in intents if i.examples],
                   oos_examples=[e for e in data.oos_examples if kept[keys[e]] == "oos"]), dropped


def raise_first_error(data: IntentData) -> None:
    for problem in check(data):
        if problem.severity == "error":
            raise problem.as_error(data.source)
