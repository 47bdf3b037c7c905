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
