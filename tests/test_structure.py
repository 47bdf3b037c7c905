"""The data flow stays visible in the imports: speech is a leaf that knows nothing of the robot, and the
intent model's modules import each other one way only."""

from __future__ import annotations

import ast
from pathlib import Path

ROBOT = Path(__file__).resolve().parents[1] / "robot"


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n.startswith("robot")}


LEAF_MAY_USE = ("robot.speech", "robot.errors", "robot.numbers", "robot.atomic", "robot.paths", "robot.userfiles",
                "robot.wheels", "robot.threads", "robot.language")
# (utilities, not the robot)


def test_speech_is_a_leaf():
    for path in (ROBOT / "speech").glob("*.py"):
        outside = {n for n in imported(path) if not n.startswith(LEAF_MAY_USE)}
        assert not outside, f"{path.name} imports {outside}"


def test_the_tagger_holds_the_model_only():
    assert imported(ROBOT / "intents" / "tagger.py") <= {"robot.intents.encoder"}
    assert "robot.intents.entities" not in imported(ROBOT / "intents" / "tagger.py")
