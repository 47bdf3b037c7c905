"""Where things live: shipped assets and models in the project, user state under ROBOT_HOME."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent


def _shipped(name: str) -> Path:
    """A folder of what ships with the robot: at the top of a checkout, or inside the installed package
    (pyproject.toml maps `assets/` and `models/` to `robot/assets` and `robot/models` in a wheel)."""
    return PROJECT_ROOT / name if (PROJECT_ROOT / "pyproject.toml").is_file() else PACKAGE / name


ASSETS = _shipped("assets")
SHIPPED_MODELS = _shipped("models")
DEFAULT_INTENTS = ASSETS / "intents.yaml"
DEFAULT_PERSONA = ASSETS / "persona.yaml"


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks (weights of a hundred megabytes and more), to check what lives there."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def robot_home() -> Path:
    """The user's data folder (trained model versions, caches); `ROBOT_HOME` overrides `~/.robot`."""
    home = Path(os.environ.get("ROBOT_HOME") or Path.home() / ".robot")
    home.mkdir(parents=True, exist_ok=True)
    return home


def cache_home() -> Path:
    """Caches that can be rebuilt (embeddings, the dialogue engine, speech models): `ROBOT_CACHE` overrides
    `$ROBOT_HOME/cache`, so several robot homes can share one."""
    cache = Path(os.environ.get("ROBOT_CACHE") or robot_home() / "cache")
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def keep_newest(folder: Path, keep: int) -> None:
    """Remove all but the `keep` most recently modified entries of `folder` (files or folders; the hidden
    half-written ones are `atomic.clear_leftovers`' business), so that a cache or an upload folder stays bounded."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
