"""Writing files and folders so that a reader never sees half of one, and a killed writer leaves only a hidden
sibling that the next writer removes."""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

LEFTOVER = re.compile(r"\..+\.(?:tmp|old)-(\d+)-[0-9a-f]{8}")  # group 1: the process that wrote it


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
