"""Reading the files a user names (intents, corpora, audio, accounts): regular files only, read up to a limit
counted in bytes actually read.

A size from `stat` proves nothing: `/dev/zero`, a FIFO or a file in /proc says 0 bytes and never ends (a
validation of `/dev/zero` once read 16.5 GB). So devices, FIFOs, sockets and folders are refused before
anything is read (a FIFO is opened without waiting for a writer), and a file is read to `limit + 1` bytes at
most: one byte over the limit is enough to refuse it.
"""

from __future__ import annotations

import lzma
import os
import stat
from pathlib import Path

from robot.errors import InputError


def read_limited(path: str | Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; InputError for anything else."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=path) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
        raise InputError(f"not a regular file ({kind})", path=path)
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise InputError(exc.strerror or str(exc), path=path) from None
    if len(data) > limit:
        raise InputError(f"file too large (the limit is {limit:,} bytes)", path=path)
    return data


def decompress_limited(data: bytes, limit: int, path: str | Path) -> bytes:
    """An xz file's content, refused once it grows past `limit` bytes (a small file can unpack to gigabytes)."""
    decompressor = lzma.LZMADecompressor()
    try:
        out = decompressor.decompress(data, max_length=limit + 1)
    except lzma.LZMAError as exc:
        raise InputError(f"not a readable xz file ({exc})", path=path) from None
    if len(out) > limit:
        raise InputError(f"unpacks to more than {limit:,} bytes", path=path)
    return out
