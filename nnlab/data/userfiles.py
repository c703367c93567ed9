"""Reading a file a user named (a config, a data table) without surprises."""

from __future__ import annotations

import stat
from pathlib import Path


def read_user_file(path: Path, error: type[Exception], what: str, limit: int) -> bytes:
    """The bytes of a file a user named, or ``error`` saying in one line why not: missing,
    unreadable, a directory, a FIFO or device (which would block or never end), too large."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is a directory, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: not a regular file (a FIFO, device or socket); give a {what}")
    if info.st_size > limit:
        raise error(f"{path}: {info.st_size} bytes, larger than a {what} can be ({limit} bytes)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
