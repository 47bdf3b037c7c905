"""What users say to the robot, as the recognisers need it: for pocketsphinx, a language model of every
example (in scope or not: both are things users say) plus variants with other entity values and other
numbers; for Whisper, a prompt of examples it reads as text said before the utterance."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from robot.atomic import write_atomically
from robot.intents.annotations import parse_example, plain_text
from robot.intents.schema import IntentData
from robot.language import CJK, ENGLISH, base_language
from robot.speech import whisper
from robot.speech.language_model import NUMBER, BuiltModel, LanguageModelConfig, build, words_of

RECOGNIZER_FILE = "recognizer.json"  # in a model's speech/: the backend and settings it was built for
PROMPT_WORDS = 120  # Whisper reads at most 223 prompt tokens; English words are 1.3 tokens or so, and a
# Chinese character (counted as a word here) about 1.5


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


def adapted_model(data: IntentData, config: LanguageModelConfig = LanguageModelConfig()) -> BuiltModel | None:
    """The language model for these intents; `save` it into the model folder's speech/ directory."""
    return build(spoken_sentences(data, config), config)


def prompt_length(text: str) -> int:
    """Words, counting each Chinese, Japanese or Korean character as one (those scripts have no spaces)."""
    return len(CJK.sub(" ", text).split()) + len(CJK.findall(text))


def whisper_prompt(data: IntentData, max_words: int = PROMPT_WORDS) -> str:
    """Examples of what users say, one intent after another (the first example of each, then the second...),
    as sentences, until `max_words`: Whisper then expects this vocabulary and these names."""
    columns = [[plain_text(e) for e in intent.examples] for intent in data.intents]
    stop = "。" if data.language and base_language(data.language) in ("zh", "ja") else "."
    sentences, words = [], 0
    for row in range(max((len(c) for c in columns), default=0)):
        for column in columns:
            if row < len(column) and words + prompt_length(column[row]) <= max_words:
                sentences.append(column[row].strip().rstrip(".?!。？！") + stop)
                words += prompt_length(column[row])
    return ("" if stop == "。" else " ").join(sentences)


@dataclass(frozen=True)
class SpeechAdaptation:
    """The recognisers' adaptation to a model's intents, saved into its speech/ folder."""

    language_model: BuiltModel | None  # pocketsphinx (English only: None for other languages, or when no
    # example has a word of its dictionary)
    prompt: str  # Whisper
    backend: str  # the recogniser the robot uses with this model unless told otherwise
    language: str = ENGLISH  # what Whisper listens for
    skipped: str = ""  # why there is no language model

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.language_model is not None:
            self.language_model.save(folder)
        settings = {"backend": self.backend, "whisper_model": whisper.DEFAULT_MODEL, "prompt": self.prompt,
                    "language": self.language}
        write_atomically(folder / RECOGNIZER_FILE, json.dumps(settings, indent=2) + "\n")  # last: complete

    def summary(self) -> dict:
        language_model = self.language_model.summary() if self.language_model is not None else \
            {"vocabulary": 0, "unpronounceable": [], "skipped": self.skipped}
        return {"backend": self.backend, **language_model, "prompt_words": prompt_length(self.prompt),
                "language": self.language}


NO_LANGUAGE_MODEL = "no example has a word of pocketsphinx's English dictionary: it cannot listen for these intents"


def default_backend(language_model: BuiltModel | None) -> str:
    """Whisper where its weights are installed, else pocketsphinx (light, always there, English only)."""
    return "whisper" if whisper.installed() or language_model is None else "pocketsphinx"


def adapt(data: IntentData, config: LanguageModelConfig = LanguageModelConfig()) -> SpeechAdaptation:
    language = data.language or ENGLISH
    english = base_language(language) == ENGLISH
    language_model = adapted_model(data, config) if english else None
    skipped = "" if language_model is not None else NO_LANGUAGE_MODEL if english else \
        f"pocketsphinx listens in English only, and these intents are in {language!r}: Whisper listens for them"
    return SpeechAdaptation(language_model, whisper_prompt(data), default_backend(language_model), language, skipped)


def recognizer_settings(folder: Path) -> dict:
    """What a complete speech/ folder was built for: backend, Whisper model and prompt."""
    return json.loads((folder / RECOGNIZER_FILE).read_text())
