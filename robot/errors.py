"""Errors the user can fix (exit code 2), with the place they come from."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: a file, line or field the user can correct. The CLI prints it without a traceback."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.path, self.line, self.field, self.detail = path, line, field, message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{where}{field + ': ' if field else ''}{message}")
