"""The shipped default model is complete and was trained on the shipped default intents."""

from __future__ import annotations

from robot.intents.compose import builtin_intents
from robot.intents.formats import load_intents
from robot.lifecycle import check_model_folder
from robot.paths import SHIPPED_MODELS


def test_shipped_model_matches_the_default_intents():
    folder = SHIPPED_MODELS / "intents"
    check_model_folder(folder)
    shipped = load_intents(folder / "intents.yaml")
    assets = builtin_intents("en")  # the built-in skills, each intent marked as built-in
    assert shipped.intents == assets.intents and shipped.oos_examples == assets.oos_examples, \
        "models/intents is stale: retrain it (docs/retraining.md, 'Models on disk')"


def test_the_shipped_model_keeps_the_folds_composed_trainings_start_from(encoder):
    """Every built-in example has its fold, and a fold head per fold (robot/intents/start.py)."""
    from robot.intents.start import Start
    from robot.intents.train import TrainConfig

    start = Start.load(SHIPPED_MODELS / "intents", encoder, TrainConfig().hidden)
    assert start is not None, "models/intents has no folds.safetensors: retrain it (docs/retraining.md)"
    texts, _ = builtin_intents("en").labelled_examples()
    assert set(start.fold_of) == set(texts) and set(start.fold_of.values()) == set(range(len(start.folds))) == \
        set(range(4))
