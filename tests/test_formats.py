"""The native YAML format, tables, validation errors with file/line/field, conversion round trips."""

from __future__ import annotations

import pytest

from robot.errors import InputError
from robot.intents.formats import load_intents, parse_native_yaml, save_intents
from robot.intents.schema import check, raise_first_error
from robot.paths import DEFAULT_INTENTS

GOOD = """\
intents:
  greet:
    examples: [hi, hello, hey there]
    responses: ["Hello {user_name}!", "Hi!"]
  time:
    examples: [what time is it, tell me the time]
    responses: ["It's {time}."]
    action: time
  oos:
    examples: [book a flight]
entities:
  city:
    lookup: [Paris]
    synonyms: {New York: [NYC, big apple]}
"""


def first_error(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        raise_first_error(parse_native_yaml(text, source="t.yaml"))
    return info.value


def test_native_yaml_parses_intents_entities_and_negatives():
    data = parse_native_yaml(GOOD, source="t.yaml")
    assert [i.name for i in data.intents] == ["greet", "time"]
    assert data.intent("time").action == "time"
    assert data.oos_examples == ["book a flight"]
    assert data.entities[0].synonyms == {"New York": ["NYC", "big apple"]}
    assert [p for p in check(data) if p.severity == "error"] == []


def test_default_assets_are_rich_and_valid():
    data = load_intents(DEFAULT_INTENTS)
    assert len(data.intents) >= 25
    assert all(len(i.examples) >= 15 and len(i.responses) >= 2 for i in data.intents)
    assert [p for p in check(data) if p.severity == "error"] == []


def test_yaml_syntax_error_names_file_and_line():
    with pytest.raises(InputError) as info:
        parse_native_yaml("intents:\n  greet:\n    examples: [hi\n", source="t.yaml")
    assert str(info.value).startswith("t.yaml:") and "YAML syntax error" in str(info.value)
    assert info.value.line is not None


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    ("intents:\n  greet:\n    responses: [hi]\n", 2, "intents.greet.examples", "missing field"),
    ("intents:\n  greet:\n    examples: []\n    responses: [hi]\n  bye:\n    examples: [bye, ciao]\n",
     3, "intents.greet.examples", "no examples"),
    ("intents:\n  greet:\n    examples: [hi, hey]\n    action: fly\n  bye:\n    examples: [bye]\n",
     4, "intents.greet.action", "unknown action 'fly'"),
    ("intents:\n  greet:\n    examples: [hi, hey]\n    responses:\n      - ok\n      - 'hi {nobody}'\n"
     "  bye:\n    examples: [bye]\n", 6, "intents.greet.responses[1]", "{nobody} is never filled"),
    ("intents:\n  yes_no:\n    examples: [yes, maybe]\n", 3, "intents.yes_no.examples[0]", "quote it"),
    ("intents:\n  greet:\n    exampels: [hi]\n", 3, "intents.greet.exampels", "unknown key"),
])
def test_validation_errors_name_line_and_field(text, line, field, words):
    error = first_error(text)
    assert (error.line, error.field) == (line, field)
    assert words in str(error) and str(error).startswith(f"t.yaml:{line}: {field}: ")


def test_a_text_under_two_intents_is_a_warning_and_training_keeps_one_label():
    """Real data sets have conflicts (CLINC150's export has them): both places are named, the label most
    copies carry wins, else the first, and what was left out is reported."""
    from robot.intents.schema import one_label_per_text

    data = parse_native_yaml("intents:\n  greet:\n    examples: [hi, hello, hey there]\n  bye:\n"
                             "    examples: [bye, Hello, see you, hey there, hey there]\n", source="t.yaml")
    problems = [p for p in check(data) if "also under intent" in p.message]
    assert [p.severity for p in problems] == ["warning"] * 3
    assert problems[0].field == "intents.bye.examples[1]" and "(line 3)" in problems[0].message
    kept, dropped = one_label_per_text(data)
    assert kept.intent("greet").examples == ["hi", "hello"]  # 'hey there': two copies under bye, one here
    assert kept.intent("bye").examples == ["bye", "see you", "hey there", "hey there"]  # 'Hello': a tie, first wins
    assert dropped == [("hey there", "greet"), ("Hello", "bye")]


@pytest.mark.parametrize("template", ["{}", "{0}", "{user_name!r}", "{user_name:d}", "{robot_name:>999999999}",
                                      "{user_name.upper}", "{user_name[0]}", "open {brace"])
def test_validation_rejects_templates_the_reply_step_cannot_fill(template):
    text = (f"intents:\n  greet:\n    examples: [hi, hey]\n    responses:\n      - ok\n      - '{template}'\n"
            "  bye:\n    examples: [bye]\n")
    error = first_error(text)
    assert (error.line, error.field) == (6, "intents.greet.responses[1]") and "bad template" in str(error)


def test_literal_braces_in_templates_are_fine():
    data = parse_native_yaml("intents:\n  greet:\n    examples: [hi, hey]\n    responses: ['{{hi}} {user_name}']\n"
                             "  bye:\n    examples: [bye]\n", source="t.yaml")
    assert [p for p in check(data) if p.severity == "error"] == []


def test_tables_parse_and_convert_round_trip(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text('text,intent\nhi,greet\n"hello, you",greet\nbook a flight,oos\nbye,goodbye\n')
    data = load_intents(csv_path)
    assert data.intent("greet").examples == ["hi", "hello, you"] and data.oos_examples == ["book a flight"]
    for suffix in (".jsonl", ".tsv", ".yaml"):
        out = tmp_path / f"d{suffix}"
        save_intents(data, out)
        again = load_intents(out)
        assert again.labelled_examples() == data.labelled_examples()
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text('{"text": "hi", "label": "greet"}\n{not json}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: invalid JSON"):
        load_intents(jsonl)
    with pytest.raises(InputError, match="unsupported file type"):
        load_intents(tmp_path / "x.docx")


def test_native_round_trip_keeps_everything(tmp_path):
    data = load_intents(DEFAULT_INTENTS)
    save_intents(data, tmp_path / "copy.yaml")
    again = load_intents(tmp_path / "copy.yaml")
    assert again.intents == data.intents and again.entities == data.entities
    assert again.oos_examples == data.oos_examples
