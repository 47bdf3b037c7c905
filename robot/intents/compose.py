"""Your intents extend the robot: a model trained on a user's files holds the built-in skills of the data's
language (the default persona's intents, entities and actions: assets/intents.yaml, assets/<language>/) plus the
user's intents, unless the user asks to replace them (`robot train intents --replace`, "only my intents").

- A user intent of a built-in's name replaces it.
- An example under both a user intent and a built-in one stays with the user's intent (and is reported).
- A built-in entity is kept unless the user defines one of the same name.
- The built-ins' out-of-scope examples are kept beside the user's, except those close to one of the user's
  examples (`negatives.generic_negatives`): a user's own "order a pizza" intent is never taught as out of scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from robot.intents.annotations import plain_text
from robot.intents.encoder import SentenceEncoder
from robot.intents.formats import load_intents
from robot.intents.negatives import generic_negatives
from robot.intents.schema import IntentData, normalise
from robot.language import ENGLISH, base_language
from robot.paths import ASSETS, DEFAULT_INTENTS


def builtin_file(language: str):
    """The built-in intents of a language (None for a language without them)."""
    code = base_language(language)
    path = DEFAULT_INTENTS if code == ENGLISH else ASSETS / code / "intents.yaml"
    return path if path.is_file() else None


def builtin_intents(language: str) -> IntentData | None:
    """The built-in skills of a language, each intent marked as built-in."""
    path = builtin_file(language)
    if path is None:
        return None
    data = load_intents(path)
    return replace(data, intents=[replace(i, builtin=True) for i in data.intents], language=base_language(language))


@dataclass
class Composition:
    data: IntentData  # what is trained
    given: IntentData  # what the user brought (shown in the Train tab's editor)
    user: list[str] = field(default_factory=list)  # the user's intents
    builtin: list[str] = field(default_factory=list)  # the built-in intents kept
    replaced: list[str] = field(default_factory=list)  # built-in intents a user intent of that name replaced
    claimed: list[tuple[str, str, str]] = field(default_factory=list)  # (example, built-in intent, user intent)
    with_builtins: bool = True  # False: the user's intents only (replaced, or a language without built-ins)

    def summary(self) -> dict:
        return {"with_builtins": self.with_builtins, "user_intents": self.user, "builtin_intents": self.builtin,
                "replaced_builtin_intents": self.replaced,
                "examples_claimed_from_builtins": [{"example": e, "builtin": b, "intent": u}
                                                   for e, b, u in self.claimed]}


def alone(user: IntentData) -> Composition:
    """The user's intents without the built-ins."""
    return Composition(user, user, [i.name for i in user.intents], with_builtins=False)


def compose(user: IntentData, builtins: IntentData, encoder: SentenceEncoder | None = None) -> Composition:
    """The user's intents and the built-ins, by the rules above (`encoder`: to leave out the built-ins'
    out-of-scope examples close to the user's examples)."""
    names = {i.name for i in user.intents}
    owner = {normalise(plain_text(e)): i.name for i in user.intents for e in i.examples}
    kept, claimed = [], []
    for intent in builtins.intents:
        if intent.name in names:
            continue
        examples = []
        for example in intent.examples:
            if normalise(plain_text(example)) in owner:
                claimed.append((example, intent.name, owner[normalise(plain_text(example))]))
            else:
                examples.append(example)
        if examples:
            kept.append(replace(intent, examples=examples))
    user_entities = {e.name for e in user.entities}
    negatives = [n for n in builtins.oos_examples if normalise(n) not in owner]
    if encoder is not None and user.intents:
        close = set(negatives) - set(generic_negatives(user, encoder, negatives))
        negatives = [n for n in negatives if n not in close]
    user_oos = {normalise(e) for e in user.oos_examples}
    data = replace(user, intents=[*user.intents, *kept],
                   entities=[*user.entities, *(e for e in builtins.entities if e.name not in user_entities)],
                   oos_examples=[*user.oos_examples, *(n for n in negatives if normalise(n) not in user_oos)],
                   language=user.language or builtins.language)
    return Composition(data, user, [i.name for i in user.intents], [i.name for i in kept],
                       sorted(names & {i.name for i in builtins.intents}), claimed)
