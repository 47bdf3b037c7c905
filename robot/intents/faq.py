"""Knowledge the robot is given: question/answer pairs (`faq:` in an intents file, or a Markdown or CSV file of
them). A message close enough to a question gets its answer, by the sentence encoder's cosine similarity.

How close is close enough is calibrated at training, like the out-of-scope threshold: the similarity the
training examples (intent examples and out-of-scope ones, none of them meant as these questions) reach with the
nearest question, at the quantile that lets at most FALSE_ANSWERS of them through, and never below FLOOR (on
MiniLM's scale: paraphrases sit around 0.7-0.9, unrelated sentences below 0.3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robot.intents.annotations import plain_text
from robot.intents.encoder import SentenceEncoder
from robot.intents.schema import Faq, IntentData, normalise

FAQ_FILE = "faq.json"  # in a model folder: the calibrated threshold
FLOOR = 0.65
FALSE_ANSWERS = 0.01


@dataclass(frozen=True)
class FaqMatch:
    faq: Faq
    similarity: float


def calibrate(data: IntentData, encoder: SentenceEncoder) -> float | None:
    """The similarity a message needs to a question to get its answer; None without questions."""
    if not data.faq:
        return None
    questions = encoder.unit_vectors([f.question for f in data.faq])
    asked = {normalise(f.question) for f in data.faq}
    texts = [t for t in data.labelled_examples()[0] if normalise(t) not in asked]
    if not texts:
        return FLOOR
    nearest = encoder.similarity(encoder.unit_vectors(texts), questions).max(axis=1)
    return float(max(FLOOR, np.quantile(nearest, 1 - FALSE_ANSWERS)))


def save_threshold(folder: Path, threshold: float | None) -> None:
    if threshold is not None:
        (folder / FAQ_FILE).write_text(json.dumps({"threshold": threshold}) + "\n")


class FaqIndex:
    """The questions of a model's data, encoded once, and its threshold."""

    def __init__(self, faq: list[Faq], encoder: SentenceEncoder, threshold: float) -> None:
        self.faq, self.encoder, self.threshold = faq, encoder, threshold
        self.questions = encoder.unit_vectors([plain_text(f.question) for f in faq])

    @classmethod
    def load(cls, folder: Path | None, data: IntentData, encoder: SentenceEncoder) -> FaqIndex | None:
        if not data.faq:
            return None
        path = folder / FAQ_FILE if folder is not None else None
        threshold = json.loads(path.read_text())["threshold"] if path is not None and path.exists() \
            else calibrate(data, encoder)
        return cls(data.faq, encoder, threshold)

    def match(self, features: np.ndarray) -> FaqMatch | None:
        """The question a message's features (`encode_message`) are closest to, if close enough."""
        vector = features[:, :self.encoder.unit_dim]
        vector = vector / np.linalg.norm(vector, axis=1, keepdims=True).clip(min=1e-9)
        similarity = self.encoder.similarity(vector, self.questions)[0]
        best = int(similarity.argmax())
        return FaqMatch(self.faq[best], float(similarity[best])) if similarity[best] >= self.threshold else None
