"""One training at a time, in the background, while the robot keeps answering with the active model.

A lock file held with flock refuses a second training, also from another process (the CLI while the
web app trains). The new model only becomes active through `activate`, which checks the folder and
swaps the running robot's brain without a restart.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from robot.brain import Brain, Robot
from robot.dialogue.generate import DialogueFallback, DialogueModel
from robot.errors import InputError
from robot.paths import robot_home
from robot.registry import ModelRegistry
from robot.service import TrainResult, train_intent_model


class TrainingBusy(InputError):
    """Another training holds the lock."""


@contextmanager
def training_lock(home: Path | None = None) -> Iterator[None]:
    path = (home or robot_home()) / "train.lock"
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TrainingBusy("a training is already running; wait for it to finish") from None
        yield
    finally:
        os.close(handle)  # closing releases the lock, also when the process dies


def train_version(paths: list[Path], registry: ModelRegistry, robot: Robot | None = None,
                  progress: bool = False) -> TrainResult:
    """Train a new (inactive) version from intent files under the training lock."""
    with training_lock():
        encoder = robot.brain.classifier.encoder if robot is not None else None
        return train_intent_model(paths, device="auto", encoder=encoder, registry=registry, activate=False,
                                  progress=progress)


def activate(registry: ModelRegistry, name: str, robot: Robot | None = None) -> None:
    """Make a version active and, when a robot is running, swap it in: the model is loaded first, so a version
    that does not load never becomes active."""
    path = registry.path(name)
    if robot is None:
        registry.activate(name)
    elif registry.kind == "dialogue":
        fallback = DialogueFallback(DialogueModel(path), robot.persona.description)
        registry.activate(name)
        robot.fallback = fallback
    else:
        brain = Brain.load(path, name, encoder=robot.brain.classifier.encoder)
        registry.activate(name)
        robot.swap(brain)
