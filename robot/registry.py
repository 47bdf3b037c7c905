"""Model versions on disk: each new model goes to a fresh folder, then one atomic write makes it active.

Layout under ROBOT_HOME/models/<kind>/: `versions/<name>/` (one model folder each) and `active.json`
({"active": name, "history": [older names]}). The shipped model in the project's models/<kind>/ is the
version called `default`. A crash while training leaves only a `.tmp-*` folder, never a half model, and the
next training removes it.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from robot.errors import InputError
from robot.paths import SHIPPED_MODELS, robot_home

DEFAULT_VERSION = "default"
LEFTOVER = re.compile(r"\..+\.(?:tmp|old)-(\d+)-[0-9a-f]{8}")  # group 1: the process that wrote it
REQUIRED_FILES = ("metrics.json", "README.md")
WEIGHTS = (("config.json", "model.safetensors"),  # a whole model
           ("adapter_config.json", "adapter_model.safetensors", "base.json"))  # an adapter on a named base


def _sibling(path: Path, kind: str) -> Path:
    """A hidden name beside `path` that says which process made it, so leftovers of a killed one are known."""
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def write_atomically(path: Path, text: str) -> None:
    tmp = _sibling(path, "tmp")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux's renameat2 with RENAME_EXCHANGE); False where the system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_cwd, rename_exchange = -100, 2
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a file system without the exchange
        return False
    raise OSError(code, os.strerror(code), str(b))


def write_folder_atomically(dest: Path, write: Callable[[Path], None]) -> Path:
    """Build a folder beside `dest`, then swap it in, in one step where the system allows (never a moment
    without `dest` on Linux); a failure leaves `dest` as it was."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(dest, "tmp")
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not dest.exists():
        os.rename(tmp, dest)
    elif _exchange(tmp, dest):
        shutil.rmtree(tmp, ignore_errors=True)  # now the old folder
    else:
        old = _sibling(dest, "old")
        os.rename(dest, old)
        os.rename(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    return dest


def clear_leftovers(folder: Path) -> list[Path]:
    """Remove the `.tmp-`/`.old-` siblings under `folder` whose process is gone (a training that was killed)."""
    removed = []
    for path in folder.glob(".*.*-*-*") if folder.is_dir() else ():
        match = LEFTOVER.fullmatch(path.name)
        if match and not _alive(int(match.group(1))):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


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
