"""`Robot`: one turn of conversation. Classify the message, then answer: a form's question while a detail is
missing, an FAQ answer, an intent's template filled by its action or webhook, or the fallback (a seam: any object
with `stream(text, session)` yielding text pieces can take it over: the dialogue model, or persona lines).
"""

from __future__ import annotations

import functools
import random
import re
import sys
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import yaml

from robot.capabilities import Capabilities, capabilities
from robot.errors import InputError
from robot.intents.bundle import load_bundle
from robot.intents.classifier import IntentClassifier, Prediction
from robot.intents.entities import EntityExtractor
from robot.intents.faq import FaqIndex
from robot.intents.schema import Intent, IntentData, template_slots
from robot.language import ENGLISH, base_language
from robot.paths import DEFAULT_PERSONA
from robot.skills import forms, webhook
from robot.skills.forms import Form
from robot.skills.registry import ActionContext, ActionResult, actions
from robot.skills.timers import Timer
from robot.skills.webhook import WebhookPolicy

MAX_MESSAGE_CHARS = 1000  # longer messages are cut here; the encoder reads 128 tokens anyway
MAX_INPUT_CHARS = 20 * MAX_MESSAGE_CHARS  # read at most this much before cleaning (controls go, then the cut)
MAX_HISTORY_TURNS = 50  # turns a session remembers (the dialogue model reads the last 8)
CONTEXT_TURNS = 5  # how many turns a context set by an intent stays active


@dataclass
class Session:
    """What the robot remembers of one conversation (all of it rewound by Undo and Retry)."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    contexts: dict[str, int] = field(default_factory=dict)  # context -> turns left
    memory: dict[str, str] = field(default_factory=dict)
    history: list[tuple[str, str]] = field(default_factory=list)
    last_template: dict[str, str] = field(default_factory=dict)
    form: Form | None = None  # a form in progress: the details it still asks for
    timers: list[Timer] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    text: str
    intent: str | None
    confidence: float
    source: str  # "template", "action", "webhook", "form" (asking for a detail), "faq", "dialogue" (the dialogue
    # model) or "fallback" (canned persona lines)
    entities: dict[str, str] = field(default_factory=dict)
    ranking: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["confidence"] = round(self.confidence, 4)
        out["ranking"] = [{"intent": i, "confidence": round(c, 4)} for i, c in self.ranking]
        return out


@dataclass(frozen=True)
class Persona:
    name: str
    description: str
    fallback: tuple[str, ...]
    empty: str
    warming: str = "(My chat model is still warming up: ask me that again in a minute.)"

    @classmethod
    def load(cls, path: Path = DEFAULT_PERSONA) -> Persona:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"cannot read persona ({exc})", path=path) from None
        missing = [k for k in ("name", "description", "fallback", "empty") if not raw.get(k)]
        if missing:
            raise InputError("missing field", path=path, field=missing[0])
        optional = {"warming": str(raw["warming"])} if raw.get("warming") else {}
        return cls(str(raw["name"]), str(raw["description"]), tuple(map(str, raw["fallback"])), str(raw["empty"]),
                   **optional)


class Fallback(Protocol):
    source: str  # what a reply from it says it came from

    def stream(self, text: str, session: Session) -> Iterator[str]: ...

    def prepare(self, session: Session) -> None:
        """Called when a turn is over: the time to get ready for the next one while the user reads."""


class PersonaFallback:
    """Canned persona replies for out-of-scope messages, when no dialogue model is loaded. Their {skills},
    {example} and {help} come from the model in use (`details`)."""

    source = "fallback"

    def __init__(self, persona: Persona, rng: random.Random,
                 details: Callable[[], dict[str, str]] = lambda: {}) -> None:
        self.persona, self.rng, self.details = persona, rng, details

    def line(self) -> str:
        return fill_in(self.rng.choice(self.persona.fallback), self.details())

    def stream(self, text: str, session: Session) -> Iterator[str]:
        yield self.line()

    def prepare(self, session: Session) -> None:
        """Nothing to prepare: the lines are at hand."""


def fill_in(template: str, slots: dict[str, str]) -> str:
    """A persona line with the slots it names filled (a line naming a slot nobody gives is said without it)."""
    try:
        return template.format(**slots)
    except (KeyError, IndexError, ValueError):
        return template.split("{")[0].strip() or template


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_message(text: str) -> str:
    """The message the robot reads: NFC, no control or invisible formatting characters, whitespace collapsed,
    cut at `MAX_MESSAGE_CHARS`."""
    text = unicodedata.normalize("NFC", str(text or "")[:MAX_INPUT_CHARS])
    return " ".join(_CONTROL.sub(" ", text).split())[:MAX_MESSAGE_CHARS]


@dataclass(frozen=True)
class Brain:
    """What a trained model version gives the robot: classifier, intents and their entity rules."""

    classifier: IntentClassifier
    data: IntentData
    extractor: EntityExtractor
    version: str = "default"
    folder: Path | None = None  # the model folder, when loaded from one (its speech/ language model)
    faq: FaqIndex | None = None

    @classmethod
    def load(cls, folder: Path, version: str, encoder=None, device: str = "cpu") -> Brain:
        classifier, data, tagger = load_bundle(folder, device=device, encoder=encoder)
        faq = FaqIndex.load(folder, data, classifier.encoder)
        return cls(classifier, data, EntityExtractor(data.entities, tagger), version, folder, faq)

    @functools.cached_property
    def language(self) -> str:
        """The intents' language (models from before languages were recorded: their examples' script)."""
        return self.data.language_or_detected()

    @functools.cached_property
    def capabilities(self) -> Capabilities:
        return capabilities(self.data)


@dataclass(frozen=True)
class Turn:
    """A message as the policy sees it: its prediction, entities (all, and those of the rules alone), features."""

    message: str
    prediction: Prediction
    entities: dict[str, str]
    by_rules: dict[str, str]
    features: np.ndarray


@dataclass(frozen=True)
class Answer:
    text: str
    source: str
    intent: str | None
    confidence: float | None = None  # None: the classifier's (an FAQ answer gives its question's similarity)
APOLOGY = {ENGLISH: "Sorry, I couldn't get that done just now. Please try again in a moment.",
           "zh": "抱歉，这件事我暂时没能办好，请稍后再试。"}


class Robot:
    """Answers with the brain's intents; out of scope, with the dialogue model (`fallback`, English) or, for
    a brain in another language, with that language's persona lines (`personas`, by language code)."""

    def __init__(self, brain: Brain, persona: Persona, fallback: Fallback | None = None,
                 seed: int | None = None, personas: dict[str, Persona] | None = None,
                 webhooks: WebhookPolicy = WebhookPolicy()) -> None:
        self.brain, self.persona, self.webhooks = brain, persona, webhooks
        self.personas = {ENGLISH: persona, **(personas or {})}
        self.rng = random.Random(seed)
        self.fallback = fallback or self.persona_lines(persona)

    def persona_lines(self, persona: Persona) -> PersonaFallback:
        """The persona's fixed lines, their suggestions taken from the model in use."""
        return PersonaFallback(persona, self.rng, lambda: self.brain.capabilities.said(self.brain.language))

    def speaking(self, brain: Brain) -> tuple[Persona, Fallback]:
        """The persona and out-of-scope replies for a brain's language."""
        language = base_language(brain.language)
        if language == ENGLISH:
            return self.persona, self.fallback
        persona = self.personas.get(language, self.persona)
        return persona, self.persona_lines(persona)

    def swap(self, brain: Brain) -> None:
        """Hot swap the model: turns already running finish on the old one (one attribute write)."""
        self.brain = brain

    def respond(self, text: str, session: Session) -> Reply:
        *_, last = self.stream(text, session)
        return last

    def stream(self, text: str, session: Session) -> Iterator[Reply]:
        """Replies of growing text for one turn; the last one is complete."""
        brain = self.brain
        persona, fallback = self.speaking(brain)
        message = clean_message(text)
        if not message:
            yield Reply(persona.empty, None, 0.0, "fallback")
            return
        eligible = {i.name for i in brain.data.intents
                    if not i.context_in or any(c in session.contexts for c in i.context_in)}
        features, tokens = brain.classifier.encoder.encode_message(message)
        prediction = brain.classifier.classify_message(features, eligible)
        by_rules = brain.extractor.by_rules(message)
        turn = Turn(message, prediction, brain.extractor.with_learned(message, tokens, by_rules), by_rules, features)
        reply = Reply("", prediction.intent, prediction.confidence, "fallback", turn.entities, prediction.ranking)
        answered = self._form_turn(brain, persona, turn, session) if session.form is not None \
            else self._answer(brain, persona, turn, session)
        if answered is not None:
            reply = replace(reply, text=answered.text, source=answered.source, intent=answered.intent,
                            confidence=reply.confidence if answered.confidence is None else answered.confidence)
            yield reply
        else:
            reply = replace(reply, source=fallback.source)
            for piece in fallback.stream(message, session):
                reply = replace(reply, text=reply.text + piece)
                yield reply
        self._advance_contexts(brain, reply.intent if answered else None, session)
        session.history.append((message, reply.text))
        del session.history[:-MAX_HISTORY_TURNS]
        fallback.prepare(session)

    def _answer(self, brain: Brain, persona: Persona, turn: Turn, session: Session) -> Answer | None:
        """An FAQ answer, an intent's (a form's first question when it needs details), or None (out of scope)."""
        found = brain.faq.match(turn.features) if brain.faq is not None else None
        if found is not None:
            return Answer(found.faq.answer, "faq", None, found.similarity)
        if turn.prediction.intent is None:
            return None
        intent = brain.data.intent(turn.prediction.intent)
        if not intent.slots:
            return self._compose(brain, persona, intent, turn, session, {})
        form = Form(intent.name)
        forms.fill(form, intent, turn.by_rules)
        return self._ask_or_finish(brain, persona, intent, form, turn, session)

    def _ask_or_finish(self, brain: Brain, persona: Persona, intent: Intent, form: Form, turn: Turn,
                       session: Session) -> Answer | None:
        """The question for the next missing detail, or (all given) the intent's answer."""
        slot = forms.missing(form, intent)
        if slot is not None:
            form.asking, session.form = slot, form
            return Answer(intent.slots[slot].ask, "form", intent.name)
        session.form = None
        return self._compose(brain, persona, intent, turn, session, form.filled)

    def _form_turn(self, brain: Brain, persona: Persona, turn: Turn, session: Session) -> Answer | None:
        """A message while a form asks for a detail: the detail (the next question, or the answer), "cancel", an
        unrelated question answered before the form's question again, or the question again."""
        form = session.form
        try:
            intent = brain.data.intent(form.intent)
        except KeyError:  # the model was swapped for one without this intent
            session.form = None
            return self._answer(brain, persona, turn, session)
        before = len(form.filled)
        forms.fill(form, intent, turn.by_rules)
        if len(form.filled) > before:
            return self._ask_or_finish(brain, persona, intent, form, turn, session)
        ask = intent.slots[form.asking].ask if form.asking in intent.slots else ""
        if forms.is_cancel(turn.message):
            session.form = None
            return Answer(forms.said("cancelled", brain.language), "form", intent.name)
        if turn.prediction.intent != form.intent:
            answered = self._answer(brain, persona, turn, session)
            if answered is not None and session.form is form:  # answered, and the form is still this one
                return replace(answered, text=forms.said("resume", brain.language, reply=answered.text, ask=ask))
            if answered is not None:  # it started a form of its own
                return answered
        return Answer(forms.said("again", brain.language, ask=ask), "form", intent.name)

    def _compose(self, brain: Brain, persona: Persona, intent: Intent, turn: Turn, session: Session,
                 filled: dict[str, str]) -> Answer | None:
        """An intent's answer: its action's or webhook's reply, or a template filled from the persona, the session's
        memory, the entities, the form's slots and what the action or webhook gave. None: no template fits."""
        slots = {"robot_name": persona.name, **session.memory, **turn.entities, **filled}
        source = "template"
        if intent.webhook or intent.action:
            source = "webhook" if intent.webhook else "action"
            result = self._run(brain, intent, turn, session, filled)
            if result.reply is not None:
                return Answer(result.reply, source, intent.name)
            slots.update(result.slots)
        usable = [t for t in intent.responses if all(s in slots for s in template_slots(t))]
        if not usable:
            return None
        fresh = [t for t in usable if t != session.last_template.get(intent.name)] or usable
        template = self.rng.choice(fresh)
        session.last_template[intent.name] = template
        return Answer(template.format(**slots), source, intent.name)

    def _run(self, brain: Brain, intent: Intent, turn: Turn, session: Session, filled: dict[str, str]) -> ActionResult:
        """What an intent's webhook or action gives; an apology (and a line on stderr) when it fails."""
        apology = ActionResult({}, APOLOGY.get(base_language(brain.language), APOLOGY[ENGLISH]))
        if intent.webhook:
            payload = {"intent": intent.name, "text": turn.message, "entities": turn.entities, "slots": filled,
                       "memory": session.memory, "language": brain.language, "session": session.id}
            try:
                result, memory = webhook.call(intent.webhook, payload, self.webhooks)
            except webhook.WebhookError as error:
                webhook.log_failure(intent.webhook, intent.name, error)
                return apology
            session.memory.update(memory)
            return result
        action = actions().get(intent.action)
        context = ActionContext(turn.message, turn.entities, session.memory, language=brain.language, slots=filled,
                                session=session, capabilities=brain.capabilities.said(brain.language))
        try:
            if action is None:
                raise LookupError(f"no action {intent.action!r} is installed")
            return action.run(context)
        except Exception as error:  # noqa: BLE001 - a plugin's failure is an apology, never a traceback
            print(f"warning: action {intent.action!r} of intent {intent.name!r} failed: {type(error).__name__}: "
                  f"{error}", file=sys.stderr, flush=True)
            return apology

    @staticmethod
    def _advance_contexts(brain: Brain, intent: str | None, session: Session) -> None:
        session.contexts = {c: n - 1 for c, n in session.contexts.items() if n > 1}
        if intent:
            for context in brain.data.intent(intent).context_out:
                session.contexts[context] = CONTEXT_TURNS
