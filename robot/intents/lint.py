"""Checks beyond the file's structure: intents whose examples mean nearly the same thing (needs the
sentence encoder) and words the speech recogniser cannot pronounce (needs pocketsphinx's dictionary)."""

from __future__ import annotations

import numpy as np

from robot.intents.annotations import plain_text
from robot.intents.compose import Composition
from robot.intents.encoder import SentenceEncoder
from robot.intents.schema import IntentData, Problem, check
from robot.language import ENGLISH, base_language
from robot.speech.language_model import pronunciations, words_of

NEAR_DUPLICATE_COSINE = 0.9
NEAR_DUPLICATE_MAX_INTENTS = 2000  # beyond this many intents the check is skipped (and says so)
CENTROID_EXAMPLES = 10  # examples per intent that make its centroid (spread over its list)


def centroid_rows(n_examples: int, keep: int = CENTROID_EXAMPLES) -> np.ndarray:
    """Which of an intent's examples make its centroid: all, or `keep` spread evenly over them."""
    return np.unique(np.linspace(0, n_examples - 1, min(n_examples, keep)).round().astype(int))


def near_duplicate_intents(data: IntentData, encoder: SentenceEncoder,
                           threshold: float = NEAR_DUPLICATE_COSINE) -> list[Problem]:
    """A warning for each pair of intents whose example centroids (normalised sentence embeddings: MiniLM's
    last-layer mean pool for English) have a cosine similarity above `threshold` (on MiniLM's scale). Each
    centroid is made of at most CENTROID_EXAMPLES examples, so the cost follows the number of intents."""
    intents = [i for i in data.intents if i.examples]
    if len(intents) < 2:
        return []
    if len(intents) > NEAR_DUPLICATE_MAX_INTENTS:
        return [Problem("warning", f"near-duplicate intents not checked: {len(intents):,} intents (the check "
                        f"compares up to {NEAR_DUPLICATE_MAX_INTENTS:,}); `robot eval intents --folds 4` shows "
                        "which intents the model confuses", "intents", data.lines.get(("intents",)))]
    picked = [[plain_text(i.examples[k]) for k in centroid_rows(len(i.examples))] for i in intents]
    vectors = encoder.unit_vectors([text for texts in picked for text in texts])
    owner = np.repeat(np.arange(len(intents)), [len(texts) for texts in picked])
    centroids = np.zeros((len(intents), vectors.shape[1]), dtype=np.float64)
    np.add.at(centroids, owner, vectors)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True).clip(min=1e-9)
    similarity = encoder.similarity(centroids.astype(np.float32), centroids.astype(np.float32))
    problems = []
    for a, b in zip(*np.nonzero(np.triu(similarity > threshold, k=1))):
        field = f"intents.{intents[b].name}"
        message = (f"very similar to intent {intents[a].name!r} (similarity {similarity[a, b]:.2f}): "
                   "merge them or make their examples more distinct")
        problems.append(Problem("warning", message, field, data.lines.get(("intents", intents[b].name))))
    return problems


def unpronounceable_words(data: IntentData) -> list[Problem]:
    """One warning per intent listing words of its examples the speech recogniser has no pronunciation
    for (numbers count as the words they are spoken as)."""
    known = pronunciations()
    problems = []
    for intent in data.intents:
        missing = sorted({w for e in intent.examples for w in words_of(plain_text(e)) if w not in known})
        if missing:
            problems.append(Problem("warning", "the speech recogniser cannot pronounce: " + ", ".join(missing[:12])
                                    + (" …" if len(missing) > 12 else ""), f"intents.{intent.name}.examples",
                                    data.lines.get(("intents", intent.name, "examples"))))
    return problems


def composition_problems(composition: Composition, encoder: SentenceEncoder | None = None) -> list[Problem]:
    """Every check of composed data (robot/intents/compose.py), and a warning where the user's intents meet the
    built-in ones: an intent that replaces one, an example taken from one (near duplicates are found above)."""
    data = composition.data
    builtin = {i.name for i in data.intents if i.builtin}  # what is said of them is not the user's to act on
    problems = [p for p in all_problems(data, encoder)
                if not (p.severity == "warning" and p.field.split(".")[1:2] and p.field.split(".")[1] in builtin)]
    for name in composition.replaced:
        problems.append(Problem("warning", f"replaces the built-in intent {name!r} (its examples and replies are not "
                                "used; leave it out to keep them, or ask for your intents only)", f"intents.{name}",
                                data.lines.get(("intents", name))))
    for example, builtin, intent in composition.claimed:
        problems.append(Problem("warning", f"example {example!r} is also an example of the built-in intent "
                                f"{builtin!r}: it goes to yours", f"intents.{intent}.examples",
                                data.lines.get(("intents", intent))))
    return problems


def all_problems(data: IntentData, encoder: SentenceEncoder | None = None) -> list[Problem]:
    """Every check: structure (errors and warnings), then near-duplicate intents and, for English (the only
    language pocketsphinx's dictionary has), pronunciations."""
    problems = check(data)
    if encoder is not None:
        problems += near_duplicate_intents(data, encoder)
    english = base_language(data.language_or_detected()) == ENGLISH
    return problems + (unpronounceable_words(data) if english else [])
