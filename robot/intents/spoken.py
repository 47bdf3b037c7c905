"""What users say to the robot, as the recogniser's language model needs it: every example (in scope or not:
both are things users say), plus variants with other entity values and other numbers."""

from __future__ import annotations

import random
from collections import defaultdict

from robot.intents.annotations import parse_example
from robot.intents.schema import IntentData
from robot.speech.language_model import NUMBER, BuiltModel, LanguageModelConfig, build, words_of


def spoken_sentences(data: IntentData, config: LanguageModelConfig = LanguageModelConfig(),
                       seed: int = 0) -> list[list[str]]:
    """Every example (in scope or not: both are things users say), plus variants with other entity values
    and other numbers, so that 'what is 2 plus 2' also teaches 'seventeen plus four'."""
    rng = random.Random(seed)
    values: dict[str, set[str]] = defaultdict(set)
    for entity in data.entities:
        values[entity.name].update(entity.lookup)
        for canonical, synonyms in entity.synonyms.items():
            values[entity.name].update([canonical, *synonyms])
    examples = [e for intent in data.intents for e in intent.examples] + list(data.oos_examples)
    parsed = [parse_example(e) for e in examples]
    for text, spans in parsed:
        for span in spans:
            values[span.entity].add(text[span.start:span.end])
    sentences = []
    for text, spans in parsed:
        sentences.append(words_of(text))
        for _ in range(config.entity_variants if spans else 0):
            variant = text
            for span in sorted(spans, key=lambda s: -s.start):
                choice = rng.choice(sorted(values[span.entity]))
                variant = variant[:span.start] + choice + variant[span.end:]
            sentences.append(words_of(variant))
        for _ in range(config.number_variants if NUMBER.search(text) else 0):
            sentences.append(words_of(NUMBER.sub(lambda m: str(rng.choice([rng.randint(0, 20), rng.randint(0, 100),
                                                                            rng.randint(0, 1000)])), text)))
    return [s for s in sentences if s]


def adapted_model(data: IntentData, config: LanguageModelConfig = LanguageModelConfig()) -> BuiltModel:
    """The language model for these intents; `save` it into the model folder's speech/ directory."""
    return build(spoken_sentences(data, config), config)
