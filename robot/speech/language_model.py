"""A recogniser language model adapted to the robot's sentences, the way Rhasspy adapts to the user's.

A trigram model is counted from plain sentences (the intents' examples with their variants, made in
robot/intents/spoken.py) with interpolated absolute discounting, and its unigram level is blended with
pocketsphinx's general English model over the most frequent general words: in-domain requests get
sharp predictions, and a word the intents never use can still come through. Written as ARPA text plus
a dictionary holding only the model's words, so the decoder starts in a fraction of a second.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pocketsphinx

from robot.atomic import write_atomically
from robot.numbers import number_words

MODEL_DIR = Path(pocketsphinx.get_model_path()) / "en-us"
ACOUSTIC_MODEL = MODEL_DIR / "en-us"
GENERAL_LM = MODEL_DIR / "en-us.lm.bin"
DICTIONARY = MODEL_DIR / "cmudict-en-us.dict"
SPEECH_DIR, LM_FILE, DICT_FILE = "speech", "lm.arpa", "words.dict"  # inside an intent model folder

NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WORD = re.compile(r"[a-z][a-z']*")


@dataclass(frozen=True)
class LanguageModelConfig:
    general_words: int = 500  # most frequent general English words in the vocabulary (more: slower, no better)
    general_weight: float = 0.05  # share of the unigram distribution given to the general model
    discount: float = 0.5  # absolute discount of bigram and trigram counts
    entity_variants: int = 4  # copies of each annotated example with other values of its entities
    number_variants: int = 6  # copies of each example holding a number, with other numbers


def words_of(text: str) -> list[str]:
    """The words a recogniser would output for a sentence: lower case, numbers spelled out, no punctuation."""
    text = NUMBER.sub(lambda m: f" {number_words(m.group(0))} ", text.casefold().replace("’", "'"))
    return [w.strip("'") if w.endswith("'") and not w.endswith("s'") else w for w in _WORD.findall(text)]


@functools.cache
def pronunciations() -> dict[str, list[str]]:
    """Dictionary lines by word: 'read' -> ['read R IY D', 'read(2) R EH D']."""
    lines: dict[str, list[str]] = defaultdict(list)
    with DICTIONARY.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip():
                lines[line.split(" ", 1)[0].split("(", 1)[0]].append(line.rstrip("\n"))
    return dict(lines)


@functools.cache
def general_unigrams() -> dict[str, float]:
    """Unigram probabilities of pocketsphinx's general English model for every pronounceable word."""
    config = pocketsphinx.Config(hmm=str(ACOUSTIC_MODEL), lm=None, dict=str(DICTIONARY), loglevel="FATAL")
    logmath = pocketsphinx.LogMath()
    model = pocketsphinx.NGramModel(config, logmath, str(GENERAL_LM))
    scale = math.log(1.0001)  # pocketsphinx's default log base
    probabilities = {}
    for word in [*pronunciations(), "</s>"]:
        score = model.prob([word])
        if score > -(2**28):  # unknown words score -2**29
            probabilities[word] = math.exp(score * scale)
    return probabilities


@dataclass(frozen=True)
class BuiltModel:
    arpa: str
    dictionary: str
    vocabulary: int
    missing: list[str]  # words of the sentences that have no pronunciation (left out of the model)

    def save(self, folder: Path) -> None:
        """The dictionary, then the model atomically: a folder with lm.arpa is complete."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DICT_FILE).write_text(self.dictionary)
        write_atomically(folder / LM_FILE, self.arpa)

    def summary(self) -> dict:
        return {"vocabulary": self.vocabulary, "unpronounceable": self.missing}


def build(sentences: list[list[str]], config: LanguageModelConfig = LanguageModelConfig()) -> BuiltModel | None:
    """An interpolated trigram model as ARPA text (see the module docstring) and its dictionary; None when no
    sentence has a word the English dictionary knows (intents in another language)."""
    known = pronunciations()
    missing = sorted({w for s in sentences for w in s if w not in known})
    general = general_unigrams()
    common = sorted((w for w in general if w != "</s>"), key=general.get, reverse=True)[:config.general_words]
    domain = {w for s in sentences for w in s if w in known}
    vocabulary = sorted(domain | set(common)) + ["</s>"]

    # Counts over sentences with <s> and </s>; a word without pronunciation splits the sentence there.
    unigrams, bigrams, trigrams = Counter(), Counter(), Counter()
    for sentence in sentences:
        for piece in " ".join(w if w in known else "|" for w in sentence).split("|"):
            tokens = ["<s>", *piece.split(), "</s>"]
            if len(tokens) == 2:
                continue
            unigrams.update(tokens[1:])
            bigrams.update(zip(tokens, tokens[1:]))
            trigrams.update(zip(tokens, tokens[1:], tokens[2:]))

    if not unigrams:
        return None
    general_total = sum(general.get(w, 0.0) for w in vocabulary)
    floor = min(general.values())
    total = sum(unigrams.values())
    p1 = {w: (1 - config.general_weight) * unigrams[w] / total
          + config.general_weight * general.get(w, floor) / general_total for w in vocabulary}

    def level(counts: Counter, lower) -> tuple[dict, dict]:
        """Discounted probabilities of the seen n-grams and the back-off weight of each history."""
        history_total, history_types = Counter(), Counter()
        for gram, count in counts.items():
            history_total[gram[:-1]] += count
            history_types[gram[:-1]] += 1
        gamma = {h: config.discount * history_types[h] / history_total[h] for h in history_total}
        probs = {g: (c - config.discount) / history_total[g[:-1]] + gamma[g[:-1]] * lower(g[1:])
                 for g, c in counts.items()}
        return probs, gamma

    p2, gamma2 = level(bigrams, lambda g: p1[g[0]])
    p3, gamma3 = level(trigrams, lambda g: p2[g])

    log = lambda p: f"{math.log10(p):.4f}"  # noqa: E731
    lines = ["\\data\\", f"ngram 1={len(vocabulary) + 1}", f"ngram 2={len(p2)}", f"ngram 3={len(p3)}", "",
             "\\1-grams:", f"-99.0000 <s> {log(gamma2[('<s>',)])}"]
    lines += [f"{log(p1[w])} {w}" + (f" {log(gamma2[(w,)])}" if (w,) in gamma2 else "") for w in vocabulary]
    lines += ["", "\\2-grams:"]
    lines += [f"{log(p)} {' '.join(g)}" + (f" {log(gamma3[g])}" if g in gamma3 else "") for g, p in sorted(p2.items())]
    lines += ["", "\\3-grams:"]
    lines += [f"{log(p)} {' '.join(g)}" for g, p in sorted(p3.items())]
    lines += ["", "\\end\\", ""]
    dictionary = "".join(line + "\n" for w in vocabulary[:-1] for line in known[w])
    return BuiltModel("\n".join(lines), dictionary, len(vocabulary) - 1, missing)
