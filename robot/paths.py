"""Where things live: shipped assets and models in the project, user state under ROBOT_HOME."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS = PROJECT_ROOT / "assets"
SHIPPED_MODELS = PROJECT_ROOT / "models"
DEFAULT_INTENTS = ASSETS / "intents.yaml"
DEFAULT_PERSONA = ASSETS / "persona.yaml"


def robot_home() -> Path:
    """The user's data folder (trained model versions, caches); `ROBOT_HOME` overrides `~/.robot`."""
    home = Path(os.environ.get("ROBOT_HOME") or Path.home() / ".robot")
    home.mkdir(parents=True, exist_ok=True)
    return home
