"""Generic out-of-scope negatives for intent data that brings none.

Trained on its own intents only, a classifier shares the whole space of messages among them: with the
pytorch-chatbot intents, "what time is it" was 'delivery' at 100%. The default persona's out-of-scope
examples (everyday requests and chit-chat that no particular intent set owns) give it a rejection region.
Any of them close to one of the user's own examples is left out, so that a user's own "book a flight"
intent is never taught as out of scope.
"""

from __future__ import annotations

from dataclasses import replace

from robot.intents.encoder import SentenceEncoder
from robot.intents.formats import load_intents
from robot.intents.schema import IntentData, normalise
from robot.paths import DEFAULT_INTENTS

TOO_SIMILAR = 0.7  # cosine (MiniLM last-layer mean pools) to a user's example above which a negative is left out


def generic_negatives(data: IntentData, encoder: SentenceEncoder, candidates: list[str] | None = None,
                      too_similar: float = TOO_SIMILAR) -> list[str]:
    """The `candidates` (default: the default persona's out-of-scope examples) not close to any example of
    `data`."""
    texts, _ = data.labelled_examples()
    known = {normalise(t) for t in texts}
    candidates = load_intents(DEFAULT_INTENTS).oos_examples if candidates is None else candidates
    candidates = [n for n in candidates if normalise(n) not in known]
    if not candidates or not texts:
        return candidates
    similarity = encoder.similarity(encoder.unit_vectors(candidates), encoder.unit_vectors(texts))
    return [c for c, s in zip(candidates, similarity.max(axis=1)) if s < too_similar]


def with_generic_negatives(data: IntentData, encoder: SentenceEncoder) -> tuple[IntentData, int]:
    """`data` itself when it has out-of-scope examples; else a copy with generic negatives, and their number."""
    if data.oos_examples:
        return data, 0
    negatives = generic_negatives(data, encoder)
    return replace(data, oos_examples=negatives), len(negatives)


def negatives_note(metrics: dict) -> str:
    """One sentence for reports, when the out-of-scope negatives were not the user's own."""
    n = metrics.get("generic_negatives", 0)
    return (f"The data has no out-of-scope examples: {n} generic negatives from the default persona were added "
            "so that unrelated messages are refused." if n else "")
