"""Rule-based entity extraction: regexes (time-limited per pattern and per message, see user_regex.py), lookup
lists and synonyms mapped to canonical values."""

from __future__ import annotations

import re

import regex

from robot.intents.encoder import TokenStates
from robot.intents.schema import Entity
from robot.intents.tagger import EntityTagger
from robot.intents.user_regex import Budget, compile_user_regex, search_user_regex


def _phrase_pattern(phrases: list[str]) -> re.Pattern | None:
    phrases = sorted({p for p in phrases if p.strip()}, key=len, reverse=True)
    if not phrases:
        return None
    alternatives = "|".join(re.escape(p) for p in phrases)
    return re.compile(rf"(?<!\w)({alternatives})(?!\w)", re.IGNORECASE)


class EntityExtractor:
    """Compiled once per intents set; `extract` returns {entity name: value} for one message.

    Rules win (they are the user's explicit word); the learned tagger, when the model has one and the
    message's token states are given, adds the entities the rules did not find."""

    def __init__(self, entities: list[Entity], tagger: EntityTagger | None = None) -> None:
        self.tagger = tagger
        self.rules: list[tuple[str, list[regex.Pattern], re.Pattern | None, dict[str, str]]] = []
        for entity in entities:
            canonical = {v.casefold(): v for v in entity.lookup}
            for value, variants in entity.synonyms.items():
                canonical[value.casefold()] = value
                canonical.update({v.casefold(): value for v in variants})
            regexes = [compile_user_regex(p) for p in entity.regex]
            self.rules.append((entity.name, regexes, _phrase_pattern(list(canonical)), canonical))

    def extract(self, text: str, tokens: TokenStates | None = None) -> dict[str, str]:
        return self.with_learned(text, tokens, self.by_rules(text))

    def with_learned(self, text: str, tokens: TokenStates | None, by_rules: dict[str, str]) -> dict[str, str]:
        """The rules' entities, and the learned tagger's for the entities they did not find."""
        found = dict(by_rules)
        if self.tagger is not None and tokens is not None:
            for name, value in self.tagger.tag(text, tokens).items():
                found.setdefault(name, value)
        return found

    def by_rules(self, text: str) -> dict[str, str]:
        """The entities the rules find: values a form's slot may take (checked against the entity's rules)."""
        found: dict[str, str] = {}
        budget = Budget()  # all the patterns together: a slow one leaves less time to the others
        for name, regexes, phrases, canonical in self.rules:
            for pattern in regexes:
                match = search_user_regex(pattern, text, budget)
                if match:
                    value = match.group("value") if "value" in pattern.groupindex else match.group(0)
                    if value:
                        found[name] = canonical.get(value.casefold(), value.strip())
                        break
            if name not in found and phrases is not None:
                match = phrases.search(text)
                if match:
                    found[name] = canonical[match.group(1).casefold()]
        return found
