"""One lifecycle for every kind of model (intents, dialogue): one training at a time, at a lower CPU priority,
into a fresh folder; load and check; activate atomically (a running robot swaps it in); roll back.

Layout under ROBOT_HOME/models/<kind>/: `versions/<name>/` (one model folder each) and `active.json`
({"active": name, "history": [older names]}). The shipped model in the project's models/<kind>/ is the
version called `default`. A crash while training leaves only a `.tmp-*` folder, never a half model, and the
next training removes it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from robot.atomic import clear_leftovers, write_atomically, write_folder_atomically
from robot.errors import InputError
from robot.paths import SHIPPED_MODELS, robot_home

DEFAULT_VERSION = "default"
REQUIRED_FILES = ("metrics.json", "README.md")
WEIGHTS = (("config.json", "model.safetensors"),  # a whole model
           ("adapter_config.json", "adapter_model.safetensors", "base.json"))  # an adapter on a named base


def check_model_folder(folder: Path) -> None:
    weights = next((w for w in WEIGHTS if all((folder / n).is_file() for n in w)), WEIGHTS[0])
    missing = [name for name in (*weights, *REQUIRED_FILES) if not (folder / name).is_file()]
    if missing:
        raise InputError(f"not a complete model folder (missing {', '.join(missing)})", path=folder)
    try:
        json.loads((folder / weights[0]).read_text())
        json.loads((folder / "metrics.json").read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"unreadable JSON ({exc})", path=folder) from None


SUMMARY = {  # what lists of versions show of each one's metrics (CLI and web): label, key path
    "intents": (("intents", "n_intents"), ("examples", "n_examples"), ("held-out accuracy", "in_scope_accuracy"),
                ("macro F1", "macro_f1"), ("entity F1", "entities.micro.f1")),
    "dialogue": (("method", "method"), ("start", "init"), ("steps", "steps"), ("tokens", "tokens_seen"),
                 ("validation bits/char", "val_bits_per_char")),
}


def summary(kind: str, metrics: dict) -> list[tuple[str, str, object]]:
    """(label, key path, value) of a version's metrics, as lists of versions show them."""
    out = []
    for label, path in SUMMARY[kind]:
        value = metrics
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        out.append((label, path, value))
    return out


def format_value(value) -> str:
    """A metric as lists and tables show it."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


@dataclass(frozen=True)
class Version:
    name: str
    path: Path
    active: bool
    metrics: dict


class ModelRegistry:
    def __init__(self, kind: str = "intents", home: Path | None = None, shipped: Path | None = None) -> None:
        self.kind, self.home = kind, home or robot_home()
        self.root = self.home / "models" / kind
        self.versions_dir = self.root / "versions"
        self.state_file = self.root / "active.json"
        self.shipped = shipped or SHIPPED_MODELS / kind

    def _state(self) -> dict:
        """The active version and its history; none written yet is `default`, an unreadable file an error."""
        try:
            state = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {"active": DEFAULT_VERSION, "history": []}
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read which model is active ({exc}); fix the file, or delete it to use "
                             "the default", path=self.state_file) from None
        if not isinstance(state, dict) or not isinstance(state.get("active"), str) \
                or not isinstance(state.get("history", []), list):
            raise InputError("not a valid active-model file (want {\"active\": name, \"history\": [...]}); "
                             "fix it, or delete it to use the default", path=self.state_file)
        return state

    def path(self, name: str | None) -> Path:
        if not name:
            raise InputError("no model version chosen")
        if name == DEFAULT_VERSION:
            return self.shipped
        if "/" in name or name.startswith("."):
            raise InputError(f"invalid version name {name!r}")
        path = self.versions_dir / name
        if not path.is_dir():
            raise InputError(f"no model version {name!r} (see `robot models list`)")
        return path

    def active_name(self) -> str:
        name = self._state()["active"]
        return name if name == DEFAULT_VERSION or (self.versions_dir / name).is_dir() else DEFAULT_VERSION

    def active_path(self) -> Path:
        return self.path(self.active_name())

    def list(self) -> list[Version]:
        active = self.active_name()
        names = [DEFAULT_VERSION] if self.shipped.is_dir() else []
        if self.versions_dir.is_dir():
            names += sorted(p.name for p in self.versions_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        out = []
        for name in names:
            try:
                metrics = json.loads((self.path(name) / "metrics.json").read_text())
            except (OSError, json.JSONDecodeError):
                metrics = {}
            out.append(Version(name, self.path(name), name == active, metrics))
        return out

    def new_name(self) -> str:
        """A fresh version name (the time, made unique). Leftovers of killed trainings go first."""
        clear_leftovers(self.versions_dir)
        name = time.strftime("%Y%m%d-%H%M%S")
        while (self.versions_dir / name).exists():
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"
        return name

    def add(self, write: Callable[[Path], None]) -> str:
        """Write a new version through `write(folder)`; returns its name. Does not activate it."""
        name = self.new_name()
        write_folder_atomically(self.versions_dir / name, write)
        return name

    def activate(self, name: str) -> None:
        check_model_folder(self.path(name))
        state = self._state()
        if state["active"] != name:
            state = {"active": name, "history": (state.get("history", []) + [state["active"]])[-50:]}
            self.root.mkdir(parents=True, exist_ok=True)
            write_atomically(self.state_file, json.dumps(state, indent=2) + "\n")

    def rollback(self) -> str:
        """Make the previously active version active again; returns its name."""
        state = self._state()
        history = [n for n in state.get("history", []) if n == DEFAULT_VERSION or (self.versions_dir / n).is_dir()]
        if not history:
            raise InputError("nothing to roll back to: no earlier active version")
        previous = history.pop()
        check_model_folder(self.path(previous))
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomically(self.state_file, json.dumps({"active": previous, "history": history}, indent=2) + "\n")
        return previous


class TrainingBusy(InputError):
    """Another training of the same kind holds the lock."""


@contextmanager
def training_lock(kind: str = "intents", home: Path | None = None) -> Iterator[None]:
    """One training of a kind at a time, also across processes (the CLI while the web app trains): a lock
    file held with flock, released when the process ends however it ends."""
    path = (home or robot_home()) / f"train-{kind}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TrainingBusy(f"a {kind} training is already running; wait for it to finish") from None
        yield
    finally:
        os.close(handle)


TRAINING_NICENESS = 10  # a training process's CPU priority (Unix nice, 0-19): below a server's on the machine


def train_at_low_priority(niceness: int = TRAINING_NICENESS) -> None:
    """Lower this process's CPU priority before it trains: on a machine that also serves the chat, the server's
    requests get the cores first and the training takes the rest (benchmarks/RESULTS.md); on an idle machine it
    trains as fast. Linux keeps a priority per thread (numpy's BLAS threads already run) and new threads take
    their creator's: each running thread is lowered. Never raises a priority (that needs privileges)."""
    threads = os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ["0"]
    for thread in map(int, threads):
        with suppress(ProcessLookupError):  # a thread that ended meanwhile
            if niceness > os.getpriority(os.PRIO_PROCESS, thread):
                os.setpriority(os.PRIO_PROCESS, thread, niceness)


def activate(registry: ModelRegistry, name: str, robot=None) -> None:
    """Make a version active and, when a robot is running, swap it in: the model is loaded first, so a version
    that does not load never becomes active."""
    path = registry.path(name)
    if robot is None:
        registry.activate(name)
    elif registry.kind == "dialogue":
        from robot.dialogue.generate import DialogueFallback, DialogueModel

        fallback = DialogueFallback(DialogueModel(path), robot.persona.description)
        registry.activate(name)
        robot.fallback = fallback
    else:
        from robot.brain import Brain

        brain = Brain.load(path, name, encoder=robot.brain.classifier.encoder)
        registry.activate(name)
        robot.swap(brain)


FOLLOW_INTERVAL = 2.0  # seconds between two looks at the registries


def follow(registries: list[ModelRegistry], robot, interval: float = FOLLOW_INTERVAL) -> threading.Event:
    """Keep a running robot on the versions made active by any process sharing its ROBOT_HOME (several
    `robot serve` behind one reverse proxy): every `interval` seconds, a version activated elsewhere is loaded
    and swapped in, as `activate` does. Returns the event that stops following."""
    stop = threading.Event()

    def running(registry: ModelRegistry) -> Path | None:
        if registry.kind == "dialogue":
            return robot.fallback.model.folder if hasattr(robot.fallback, "model") else None
        return robot.brain.folder

    failed: set[str] = set()

    def loop() -> None:
        while not stop.wait(interval):
            for registry in registries:
                current = running(registry)
                try:
                    name = registry.active_name()  # active.json read once a round
                    if current is not None and registry.path(name).resolve() != current.resolve():
                        activate(registry, name, robot)
                except InputError as exc:  # a version that does not load is not taken; said once
                    if str(exc) not in failed:
                        failed.add(str(exc))
                        print(f"warning: cannot follow the active {registry.kind} model: {exc}", file=sys.stderr)

    threading.Thread(target=loop, name="follow-active-models", daemon=True).start()
    return stop

