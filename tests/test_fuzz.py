"""Hostile and malformed intent files, in every format: whatever a file holds, reading and validating it ends
in InputError (exit 2, a clear message) or in data, never in another exception, and within bounded time.

Property-based (hypothesis): seeds from every format are mutated (characters replaced, inserted, deleted,
lines duplicated or cut, the file truncated), and structures are generated (deep nesting, huge fields,
surrogates and control characters in names, aliases)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robot.errors import InputError
from robot.intents.formats import load_intents, to_native_yaml
from robot.intents.schema import check
from robot.paths import DEFAULT_INTENTS
from tests.conftest import FORMATS

SEEDS = {
    ".yaml": DEFAULT_INTENTS.read_text(),
    ".yml": (FORMATS / "rasa" / "moodbot_nlu.yml").read_text(),
    ".json": (FORMATS / "pytorch-chatbot" / "intents.json").read_text(),
    ".csv": "text,intent\nhello there,greet\nbye now,goodbye\nbook a flight,oos\n",
    ".tsv": "text\tintent\nhello there\tgreet\nbye now\tgoodbye\n",
    ".jsonl": '{"text": "hello there", "intent": "greet"}\n{"text": "bye", "intent": "goodbye"}\n',
}
ODD = st.sampled_from(["\ud800", "\x00", "\u202e", "\ufeff", "🤖", "\n", "\t", ",", '"', "'", ":", "-", "[", "]", "{",
                       "}", "&a", "*a", "!!python/object", "%", "#", "\\", " " * 8, "x" * 140_000])


def read_and_check(path: Path) -> None:
    """What `robot data validate` does with a file: read it, validate it, write it back out."""
    try:
        data = load_intents(path)
        check(data)
        to_native_yaml(data)
    except InputError:
        pass


@st.composite
def mutated(draw) -> tuple[str, str]:
    suffix = draw(st.sampled_from(sorted(SEEDS)))
    text = SEEDS[suffix][: draw(st.integers(0, 4000))]
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        piece = draw(st.one_of(ODD, st.text(max_size=8)))
        if op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 50)):]
        elif op == "replace":
            text = text[:at] + piece + text[at + len(piece):]
        else:
            line = text[:at].rsplit("\n", 1)[-1]
            text = text[:at] + "\n" + line * draw(st.integers(1, 3)) + text[at:]
    return suffix, text


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_in_every_format_end_in_input_error_or_data(tmp_path_factory, case):
    suffix, text = case
    path = tmp_path_factory.mktemp("fuzz") / f"intents{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    read_and_check(path)


def nested(depth: int, suffix: str) -> str:
    if suffix == ".json":
        return '{"intents": ' + "[" * depth + "]" * depth + "}"
    return "intents:\n  greet:\n    examples: " + "[" * depth + "]" * depth + "\n"


HOSTILE = {
    "deep.json": nested(100_000, ".json"),
    "deep.yaml": nested(10_000, ".yaml"),
    "laughs.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join([f'*{chr(97 + k)}'] * 9)}]\n" for k in range(8)),
    "recursive.yaml": "intents: &a\n  greet:\n    examples: *a\n",
    "huge_field.csv": "text,intent\n" + "x" * 200_000 + ",greet\n",
    "duplicate_keys.yaml": "intents:\n  greet:\n    examples: [hi]\n  greet:\n    examples: [hello]\n",
    "truncated.json": '{"intents": [{"tag": "greet", "patterns": ["hi", "hel',
    "surrogate_name.jsonl": '{"text": "hello", "intent": "gr\\ud800eet"}\n',
    "only_header.csv": "text,intent\n",
    "nothing.yaml": "",
    "not_a_mapping.yaml": "- just\n- a list\n",
    "nul.tsv": "text\tintent\nhel\x00lo\tgreet\n",
    "many_intents.csv": "text,intent\n" + "".join(f"example number {k},intent_{k}\n" for k in range(10_000)),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_are_refused_quickly_and_plainly(tmp_path, name):
    path = tmp_path / name
    path.write_text(HOSTILE[name], encoding="utf-8", errors="surrogatepass")
    started = time.perf_counter()
    read_and_check(path)
    assert time.perf_counter() - started < 20


def test_the_cli_answers_a_hostile_file_with_exit_2(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(HOSTILE["laughs.yaml"])
    result = subprocess.run([sys.executable, "-m", "robot.cli", "data", "validate", str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and "aliases" in result.stderr and "Traceback" not in result.stderr
    deep = tmp_path / "deep.json"
    deep.write_text(json.dumps({"intents": []})[:-1] + ", " + "[" * 50_000 + "]" * 50_000 + "}")
    result = subprocess.run([sys.executable, "-m", "robot.cli", "data", "validate", str(deep)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and "internal error" not in result.stderr
