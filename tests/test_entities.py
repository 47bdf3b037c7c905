"""Entity extraction: rules (regex, lookup, synonyms) and the learned PyTorch tagger, on annotated examples."""

from __future__ import annotations

import json

import pytest

from robot.brain import Brain, Persona, Robot, Session
from robot.intents.entities import EntityExtractor
from robot.intents.entity_train import train_entities
from robot.intents.formats import load_intents
from robot.intents.schema import Entity
from robot.lifecycle import ModelRegistry
from robot.service import train_intent_model
from tests.conftest import FORMATS


def test_rules_regex_lookup_and_synonyms():
    extractor = EntityExtractor([
        Entity("name", regex=[r"my name is (?P<value>\w+)"]),
        Entity("city", lookup=["Paris", "New York"], synonyms={"New York": ["NYC", "big apple"]}),
        Entity("zip", regex=[r"\b\d{5}\b"]),
    ])
    assert extractor.extract("my name is Ada and I live in the Big Apple, 10001") == \
        {"name": "Ada", "city": "New York", "zip": "10001"}
    assert extractor.extract("paris in spring") == {"city": "Paris"}
    assert extractor.extract("nothing here") == {}


@pytest.fixture(scope="module")
def formbot():
    return load_intents(FORMATS / "rasa" / "formbot_nlu.yml")


def test_a_backtracking_regex_cannot_freeze_a_turn_and_fails_validation():
    """One message costs bad patterns a bounded time, all together (then they are no match); validation rejects
    them first."""
    import time

    from robot.intents.schema import Intent, IntentData, check

    slow, nested = r"(.*){1,32000}[bc]", r"(a|aa)+$"
    extractor = EntityExtractor([Entity("n", regex=[r"\d+"]), Entity("x", regex=[slow, nested, r"(a+)+$"])])
    started = time.perf_counter()
    assert extractor.extract("a" * 41 + "! 42") == {"n": "42"}
    assert time.perf_counter() - started < 0.5
    data = IntentData([Intent("greet", ["hi there", "hello", "hey", "good morning", "hiya"])], oos_examples=["x"],
                      entities=[Entity("x", regex=[slow]), Entity("y", regex=[nested]), Entity("z", regex=["(x"])])
    errors = [(p.field, p.message) for p in check(data) if p.severity == "error"]
    assert [field for field, _ in errors] == ["entities.x.regex[0]", "entities.y.regex[0]", "entities.z.regex[0]"]
    assert "backtrack" in errors[0][1] and "backtrack" in errors[1][1] and "invalid regular expression" in errors[2][1]


def test_learned_tagger_finds_unseen_values(formbot, encoder):
    tagger, metrics = train_entities(formbot, encoder)
    assert metrics["held_out"] >= 20 and metrics["micro"]["f1"] > 0.8, metrics["micro"]
    extractor = EntityExtractor(formbot.entities, tagger)
    for text, want in [("i would like some ethiopian food", "ethiopian"), ("can we sit outside", "outside")]:
        _, tokens = encoder.encode_message(text)
        found = extractor.extract(text, tokens)
        assert want in found.values(), (text, found)
    _, tokens = encoder.encode_message("hello there")
    assert extractor.extract("hello there", tokens) == {}


def test_trained_model_returns_entities_and_reports_them(formbot, tmp_path, encoder):
    data_file = tmp_path / "restaurant.yml"
    data_file.write_text((FORMATS / "rasa" / "formbot_nlu.yml").read_text())
    registry = ModelRegistry("intents", home=tmp_path)
    result = train_intent_model([data_file], encoder=encoder, registry=registry)
    assert (result.folder / "tagger.safetensors").exists()
    card = (result.folder / "README.md").read_text()
    assert "entities (held-out" in card and result.metrics["entities"]["micro"]["f1"] > 0.8
    assert json.loads((result.folder / "metrics.json").read_text())["entities"]["per_entity"]["cuisine"]
    robot = Robot(Brain.load(result.folder, result.version, encoder=encoder), Persona.load())
    reply = robot.respond("im looking for a korean restaurant", Session())
    assert reply.entities.get("cuisine", "").lower() == "korean"
    assert (result.folder / "report" / "confusion_matrix.png").exists()
