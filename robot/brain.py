"""`Robot`: one turn of conversation. Classify the message, then answer from a template, an action, or
the fallback (a seam: any object with `stream(text, session)` yielding text pieces can take it over).
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

import yaml

from robot.actions import ACTIONS, ActionContext
from robot.errors import InputError
from robot.intents.bundle import load_bundle
from robot.intents.classifier import IntentClassifier
from robot.intents.entities import EntityExtractor
from robot.intents.schema import IntentData, template_slots
from robot.language import ENGLISH, base_language
from robot.paths import DEFAULT_PERSONA

MAX_MESSAGE_CHARS = 1000  # longer messages are cut here; the encoder reads 128 tokens anyway
MAX_INPUT_CHARS = 20 * MAX_MESSAGE_CHARS  # read at most this much before cleaning (controls go, then the cut)
MAX_HISTORY_TURNS = 50  # turns a session remembers (the dialogue model reads the last 8)
CONTEXT_TURNS = 5  # how many turns a context set by an intent stays active


@dataclass
class Session:
    """What the robot remembers of one conversation."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    contexts: dict[str, int] = field(default_factory=dict)  # context -> turns left
    memory: dict[str, str] = field(default_factory=dict)
    history: list[tuple[str, str]] = field(default_factory=list)
    last_template: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    text: str
    intent: str | None
    confidence: float
    source: str  # "template", "action", "dialogue" (the dialogue model) or "fallback" (canned persona lines)
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


class PersonaFallback:
    """Canned persona replies for out-of-scope messages, when no dialogue model is loaded."""

    source = "fallback"

    def __init__(self, persona: Persona, rng: random.Random) -> None:
        self.persona, self.rng = persona, rng

    def stream(self, text: str, session: Session) -> Iterator[str]:
        yield self.rng.choice(self.persona.fallback)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_message(text: str) -> str:
    """NFC, no control or invisible formatting characters, whitespace collapsed."""
    text = unicodedata.normalize("NFC", str(text or ""))
    return " ".join(_CONTROL.sub(" ", text).split())


@dataclass(frozen=True)
class Brain:
    """What a trained model version gives the robot: classifier, intents and their entity rules."""

    classifier: IntentClassifier
    data: IntentData
    extractor: EntityExtractor
    version: str = "default"
    folder: Path | None = None  # the model folder, when loaded from one (its speech/ language model)

    @classmethod
    def load(cls, folder: Path, version: str, encoder=None, device: str = "cpu") -> Brain:
        classifier, data, tagger = load_bundle(folder, device=device, encoder=encoder)
        return cls(classifier, data, EntityExtractor(data.entities, tagger), version, folder)

    @functools.cached_property
    def language(self) -> str:
        """The intents' language (models from before languages were recorded: their examples' script)."""
        return self.data.language_or_detected()


class Robot:
    """Answers with the brain's intents; out of scope, with the dialogue model (`fallback`, English) or, for
    a brain in another language, with that language's persona lines (`personas`, by language code)."""

    def __init__(self, brain: Brain, persona: Persona, fallback: Fallback | None = None,
                 seed: int | None = None, personas: dict[str, Persona] | None = None) -> None:
        self.brain, self.persona = brain, persona
        self.personas = {ENGLISH: persona, **(personas or {})}
        self.rng = random.Random(seed)
        self.fallback = fallback or PersonaFallback(persona, self.rng)

    def speaking(self, brain: Brain) -> tuple[Persona, Fallback]:
        """The persona and out-of-scope replies for a brain's language."""
        language = base_language(brain.language)
        if language == ENGLISH:
            return self.persona, self.fallback
        persona = self.personas.get(language, self.persona)
        return persona, PersonaFallback(persona, self.rng)

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
        message = clean_message(text[:MAX_INPUT_CHARS])[:MAX_MESSAGE_CHARS]
        if not message:
            yield Reply(persona.empty, None, 0.0, "fallback")
            return
        eligible = {i.name for i in brain.data.intents
                    if not i.context_in or any(c in session.contexts for c in i.context_in)}
        features, tokens = brain.classifier.encoder.encode_message(message)
        prediction = brain.classifier.classify_message(features, eligible)
        entities = brain.extractor.extract(message, tokens)
        reply = Reply("", prediction.intent, prediction.confidence, "fallback", entities, prediction.ranking)
        text_out = self._compose(brain, persona, prediction.intent, message, entities, session) \
            if prediction.intent else None
        if text_out is not None:
            reply = replace(reply, text=text_out[0], source=text_out[1])
            yield reply
        else:
            reply = replace(reply, source=fallback.source)
            for piece in fallback.stream(message, session):
                reply = replace(reply, text=reply.text + piece)
                yield reply
        self._advance_contexts(brain, prediction.intent if text_out else None, session)
        session.history.append((message, reply.text))
        del session.history[:-MAX_HISTORY_TURNS]

    def _compose(self, brain: Brain, persona: Persona, name: str, message: str, entities: dict[str, str],
                 session: Session) -> tuple[str, str] | None:
        """(text, source) for an in-scope intent, or None when no template can be filled."""
        intent = brain.data.intent(name)
        slots = {"robot_name": persona.name, **session.memory, **entities}
        source = "template"
        if intent.action:
            context = ActionContext(message, entities, session.memory, language=brain.language)
            result = ACTIONS[intent.action].run(context)
            if result.reply is not None:
                return result.reply, "action"
            slots.update(result.slots)
            source = "action"
        usable = [t for t in intent.responses if all(s in slots for s in template_slots(t))]
        if not usable:
            return None
        fresh = [t for t in usable if t != session.last_template.get(name)] or usable
        template = self.rng.choice(fresh)
        session.last_template[name] = template
        return template.format(**slots), source

    @staticmethod
    def _advance_contexts(brain: Brain, intent: str | None, session: Session) -> None:
        session.contexts = {c: n - 1 for c, n in session.contexts.items() if n > 1}
        if intent:
            for context in brain.data.intent(intent).context_out:
                session.contexts[context] = CONTEXT_TURNS
