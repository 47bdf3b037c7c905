"""The `robot` command as a user runs it: exit codes, --json output, reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from robot.paths import DEFAULT_INTENTS

SMALL = """\
intents:
  greet:
    examples: [hi, hello, hey there, good morning, hiya, howdy]
    responses: ["Hello!"]
  bye:
    examples: [bye, goodbye, see you later, farewell, good night, catch you later]
    responses: ["Bye!"]
  time:
    examples: [what time is it, tell me the time, the time please, what's the time, current time, clock]
    responses: ["It's {time}."]
    action: time
"""


def robot_cli(*args: str, home=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if home is not None:
        env["ROBOT_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "robot.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_reading_the_command_line_loads_no_heavy_library():
    """`robot --help` took 2.4 s: the parser's defaults pulled in torch (through the voice loop) and scipy.signal
    (through audio); each command now loads what it runs."""
    code = ("import sys; from robot.cli import build_parser; build_parser().parse_args(['say', 'hi']); "
            "print([m for m in ('torch', 'scipy.signal', 'transformers', 'gradio', 'onnxruntime') "
            "if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_chat_one_turn_json():
    result = robot_cli("chat", "--message", "what is 6 times 7", "--json")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["intent"] == "calculate" and reply["source"] == "action" and "42" in reply["text"]
    assert set(reply) >= {"text", "intent", "confidence", "source", "entities"}


def test_chat_repl_keeps_the_session():
    result = subprocess.run([sys.executable, "-m", "robot.cli", "chat", "--json"], input="my name is Ines\nwho am i\n",
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["intent"] for t in turns] == ["remember_name", "recall_name"] and "Ines" in turns[1]["text"]


@pytest.mark.parametrize(("args", "message"), [
    (["eval", "intents", "--data", "/no/such/file.yaml"], "/no/such/file.yaml: file not found"),
    (["train", "intents", "--data", "{bad}", "--json"], "bad.yaml:4: intents.a.responses[0]: template slot {who}"),
    (["models", "activate", "no-such-version"], "no model version"),
    (["data", "validate", "{bad}"], "never filled"),
    (["chat", "--bogus"], "unrecognized arguments"),
])
def test_bad_input_exits_2_with_one_clear_message(tmp_path, args, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text("intents:\n  a:\n    examples: [x, y]\n    responses: ['{who}']\n  b:\n    examples: [z]\n")
    result = robot_cli(*[str(bad) if a == "{bad}" else a for a in args], home=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    if args[0] != "data":  # `data validate` also prints its per-file summary on stdout
        assert result.stdout == ""


def test_train_eval_and_models_commands(tmp_path):
    data = tmp_path / "small.yaml"
    data.write_text(SMALL)
    trained = robot_cli("train", "intents", "--data", str(data), "--device", "auto", "--json", "--replace",
                        home=tmp_path)
    assert trained.returncode == 0, trained.stderr
    summary = json.loads(trained.stdout)
    assert summary["generic_negatives"] > 40  # the data (alone: --replace) has no out-of-scope examples
    assert summary["n_examples"] == 18 + summary["generic_negatives"] and summary["n_oos_examples"] == \
        summary["generic_negatives"] and summary["n_intents"] == 3 and summary["train_seconds"] > 0
    assert summary["version"] and summary["device"] == "cpu"

    listed = json.loads(robot_cli("models", "list", "--json", home=tmp_path).stdout)
    assert listed["active"] == summary["version"] and len(listed["versions"]) == 2

    test = tmp_path / "test.csv"
    test.write_text("text,intent\nhello friend,greet\nsee ya,bye\nwhat hour is it,time\nbook a flight,oos\n")
    report = tmp_path / "report"
    evaluated = robot_cli("eval", "intents", "--data", str(test), "--report", str(report), "--json", home=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads(evaluated.stdout)
    assert set(metrics) >= {"in_scope_accuracy", "oos_recall", "oos_precision", "macro_f1", "n"} and metrics["n"] == 4
    for name in ("confusion_matrix.png", "confidence_histogram.png", "per_intent.csv", "errors.csv"):
        assert (report / name).stat().st_size > 0
    assert (report / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"

    rolled = robot_cli("models", "rollback", home=tmp_path)
    assert rolled.returncode == 0 and "default" in rolled.stdout


def test_cross_validation(tmp_path):
    result = robot_cli("eval", "intents", "--data", str(DEFAULT_INTENTS), "--folds", "3", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["folds"] == 3 and metrics["n"] > 400 and metrics["in_scope_accuracy"] > 0.75


def test_training_keeps_one_label_for_a_text_under_two_intents(tmp_path):
    data = tmp_path / "conflict.yaml"
    data.write_text("intents:\n  greet:\n    examples: [hi, hello, hey, good morning, howdy]\n    responses: [Hi!]\n"
                    "  bye:\n    examples: [bye, goodbye, see you, later, hello]\n    responses: [Bye!]\n")
    result = robot_cli("train", "intents", "--data", str(data), "--out", str(tmp_path / "model"))
    assert result.returncode == 0, result.stderr
    assert "1 example(s) also under another intent were left out" in result.stderr
    assert "'hello' under bye" in result.stderr
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["conflicting_examples_left_out"] == [{"example": "hello", "intent": "bye"}]
    assert "'hello' under bye" in (tmp_path / "model" / "README.md").read_text()
