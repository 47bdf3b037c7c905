"""Word error rate with the usual English normalisation, so that "I'm" and "I am" count as the same words
(a recogniser's dictionary has both; a user hears no difference)."""

from __future__ import annotations

from robot.speech.language_model import words_of

_EXPANSIONS = {
    "i'm": "i am", "you're": "you are", "we're": "we are", "they're": "they are", "it's": "it is",
    "what's": "what is", "that's": "that is", "there's": "there is", "who's": "who is", "where's": "where is",
    "how's": "how is", "let's": "let us", "don't": "do not", "doesn't": "does not", "didn't": "did not",
    "can't": "can not", "cannot": "can not", "won't": "will not", "isn't": "is not", "aren't": "are not",
    "i'll": "i will", "you'll": "you will", "i'd": "i would", "you'd": "you would", "i've": "i have",
    "you've": "you have", "ok": "okay", "name's": "name is",
}


def normalise(text: str) -> list[str]:
    return " ".join(_EXPANSIONS.get(w, w) for w in words_of(text)).split()


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
