"""Word error rate after Whisper's English text normaliser (the one of Whisper's paper and the Open ASR
leaderboard): "Mr." and "mister", "metres" and "meters", "I'm" and "I am" are the same words to a listener, so
they are not errors. One change: numbers are spelled out as words first ("42" -> "forty two") instead of
merged into digits, which read "five five" (two cards) as 55 and "forty plus twelve" as "40 +12". Evaluation
code (tests and benchmarks): the normaliser comes with the dev extra (`whisper-normalizer`)."""

from __future__ import annotations

import functools

from robot.speech.language_model import words_of

_SAME = {"ok": "okay"}  # a spelling the normaliser's list lacks


@functools.cache
def _normaliser():
    from whisper_normalizer.english import EnglishTextNormalizer

    normaliser = EnglishTextNormalizer()
    normaliser.standardize_numbers = str  # numbers are words already (`words_of`)
    return normaliser


def normalise(text: str) -> list[str]:
    return [_SAME.get(w, w) for w in _normaliser()(" ".join(words_of(text))).split()]


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance: substitutions + deletions + insertions."""
    row = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        previous, row[0] = row[:], i
        for j, guess in enumerate(hypothesis, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (word != guess))
    return row[-1]


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER: all errors over all reference words."""
    pairs = [(normalise(r), normalise(h)) for r, h in zip(references, hypotheses, strict=True)]
    return sum(edit_distance(r, h) for r, h in pairs) / max(1, sum(len(r) for r, _ in pairs))
