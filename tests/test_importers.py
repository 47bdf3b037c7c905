"""Importers on real samples (tests/fixtures/formats) and on broken variants; convert round trips."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from robot.errors import InputError
from robot.intents.annotations import Span, annotate, parse_example
from robot.intents.classic_json import parse_classic_json
from robot.intents.formats import load_intents, save_intents
from robot.intents.rasa import parse_rasa
from robot.intents.schema import check
from tests.conftest import FORMATS


@pytest.mark.parametrize(("name", "n_intents", "n_examples"), [
    ("pytorch-chatbot/intents.json", 7, 26), ("context/intents_context.json", 6, 19),
    ("rasa/demo-rasa.yml", 6, 46), ("rasa/formbot_nlu.yml", 9, 289), ("rasa/moodbot_nlu.yml", 7, 67),
])
def test_real_samples_import(name, n_intents, n_examples):
    data = load_intents(FORMATS / name)
    assert len(data.intents) == n_intents and sum(len(i.examples) for i in data.intents) == n_examples
    assert not [p for p in check(data) if p.severity == "error"]


def test_classic_contexts_and_responses():
    data = load_intents(FORMATS / "context" / "intents_context.json")
    assert data.intent("rental").context_out == ["rentalday"] and data.intent("today").context_in == ["rentalday"]
    assert data.intent("later").context_in == ["rentalday"]  # a list works as well as a string
    assert data.intent("greeting").context_out == [] and data.intent("prices").context_in == []  # "" means none
    chatbot = load_intents(FORMATS / "pytorch-chatbot" / "intents.json")
    assert chatbot.intent("greeting").responses[0] == "Hey :-)"


def test_rasa_entities_synonyms_regex():
    data = load_intents(FORMATS / "rasa" / "demo-rasa.yml")
    entities = {e.name: e for e in data.entities}
    assert "chines" in [v.casefold() for v in entities["cuisine"].synonyms["chinese"]]
    assert entities["zipcode"].regex and data.intent("chitchat/ask_name").examples
    spans = dict((t, s) for t, s in data.annotated_examples())
    assert [Span("cuisine", "chinese", 8, 14), Span("location", "north", 34, 39)] == \
        spans["show me chines restaurants in the north"]
    formbot = load_intents(FORMATS / "rasa" / "formbot_nlu.yml")
    values = {s.value for _, spans in formbot.annotated_examples() for s in spans if s.entity == "cuisine"}
    assert "gastropub" in values  # from the [gastro pub](cuisine:gastropub) short form


@pytest.mark.parametrize(("text", "words"), [
    ('{"intents": [{"tag": "a", "patterns": ["x"]},]}', "invalid JSON"),
    ('{"intents": [{"patterns": ["x"]}]}', "intents[0].tag: missing field"),
    ('{"intents": [{"tag": "a", "patterns": "x"}]}', "intents[0].patterns: must be a list"),
    ('{"intents": [{"tag": "a", "patterns": ["x"], "context_filter": 3}]}', "context_filter"),
    ('{"tags": []}', 'expected {"intents"'),
])
def test_broken_classic_json(text, words):
    with pytest.raises(InputError) as info:
        parse_classic_json(text, source="x.json")
    assert words in str(info.value) and str(info.value).startswith("x.json")


@pytest.mark.parametrize(("text", "words"), [
    ("nlu:\n- intent: greet\n", "nlu[0].examples: missing field"),
    ("nlu:\n- intent: greet\n  regex: x\n  examples: |\n    - hi\n", "exactly one of"),
    ("nlu:\n- intent: greet\n  examples: |\n    hi\n", "must start with '- '"),
    ("nlu: {greet: hi}\n", "'nlu:' list"),
    ("nlu:\n- intent: greet\n  examples: |\n    - hi\n   bad: [\n", "YAML syntax error"),
])
def test_broken_rasa(text, words):
    with pytest.raises(InputError) as info:
        parse_rasa(text, source="nlu.yml")
    assert words in str(info.value) and info.value.line is not None


def test_annotation_markup_round_trip():
    example = 'show me [chines]{"entity": "cuisine", "value": "chinese"} food in the [north](location)'
    text, spans = parse_example(example)
    assert text == "show me chines food in the north"
    assert parse_example(annotate(text, spans)) == (text, spans)


def convert(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "robot.cli", "data", "convert", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("source", ["rasa/demo-rasa.yml", "rasa/formbot_nlu.yml", "pytorch-chatbot/intents.json"])
def test_convert_round_trips_through_every_format(tmp_path, source):
    original = load_intents(FORMATS / source)
    native = tmp_path / "native.yaml"
    assert convert(str(FORMATS / source), str(native)).returncode == 0
    for fmt, name in [("rasa", "back.yml"), ("json", "back.json"), ("csv", "back.csv"), ("jsonl", "back.jsonl"),
                      ("tsv", "back.tsv")]:
        result = convert(str(native), str(tmp_path / name), "--to", fmt)
        assert result.returncode == 0, result.stderr
        again = load_intents(tmp_path / name)
        assert again.labelled_examples() == original.labelled_examples(), fmt
    assert load_intents(native).entities == original.entities
    assert load_intents(tmp_path / "back.yml").annotated_examples() == original.annotated_examples()
    if source.endswith(".json"):
        assert json.loads((tmp_path / "back.json").read_text())["intents"][0]["responses"] == \
            original.intents[0].responses


def test_convert_bad_input_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = convert(str(bad), str(tmp_path / "out.yaml"))
    assert result.returncode == 2 and "bad.json:1: invalid JSON" in result.stderr
    ok = tmp_path / "ok.csv"
    ok.write_text("text,intent\nhi,greet\n")
    assert convert(str(ok), str(tmp_path / "out.docx")).returncode == 2


def test_save_intents_by_suffix(tmp_path):
    data = load_intents(FORMATS / "rasa" / "moodbot_nlu.yml")
    save_intents(data, tmp_path / "m.json")
    assert load_intents(tmp_path / "m.json").labelled_examples() == data.labelled_examples()
