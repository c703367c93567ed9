"""File operations the results store relies on: atomic files and folders, and reads that
never follow a link, block or run away.

* :func:`write_file_atomic` writes beside the target and renames over it, so a reader sees
  the old file or the new one, whole.
* :func:`install_folder` puts a folder built under a temporary name in place of another:
  with Linux's ``renameat2(RENAME_EXCHANGE)`` the two swap in one step; elsewhere the old
  folder is first renamed to a recoverable name that :func:`recover` (run before a study is
  used) puts back if its writer died between the two renames. At no moment is a finished
  trial only in a temporary folder that cleaning up would delete.
* :func:`open_regular` opens a file of a trial folder only if it is a regular file (not a
  link, FIFO or device: a metrics.csv linked to /dev/zero, or a summary.json that is a FIFO,
  is reported as such instead of filling the memory or blocking).

Test-only fault injection: with ``NNLAB_FAULT=<op>:<n>`` in the environment (``op`` is
``write``, ``rename`` or ``any``), the process kills itself with SIGKILL right before its
n-th such operation (counted from 1), so tests can stop a writer at every write and rename
and check what a crash there leaves. Nothing reads the variable otherwise.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import os
import re
import shutil
import signal
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

FAULT = "NNLAB_FAULT"
_fault_counts = {"write": 0, "rename": 0, "any": 0}


def fault_point(op: str) -> None:
    """Count a write or rename; SIGKILL this process at the one NNLAB_FAULT names (tests)."""
    spec = os.environ.get(FAULT)
    if not spec:
        return
    kind, _, number = spec.partition(":")
    _fault_counts[op] += 1
    _fault_counts["any"] += 1
    if kind in (op, "any") and _fault_counts[kind] == int(number or 0):
        os.kill(os.getpid(), signal.SIGKILL)


def machine_tag() -> str:
    """'m' and 7 hex digits naming this machine and this boot of it (hostname and Linux boot
    id); the letter keeps it from reading as a pid."""
    import socket

    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            boot = handle.read().strip()
    except OSError:
        boot = ""
    return "m" + hashlib.sha256(f"{socket.gethostname()}\0{boot}".encode()).hexdigest()[:7]


def sibling(path: Path, kind: str) -> Path:
    """A hidden temporary name beside ``path`` that names its writer: its pid and machine
    (``.<kind>-<name>-<pid>-<machine tag>-<8 hex>``; see :func:`recover`)."""
    return path.parent / f".{kind}-{path.name}-{os.getpid()}-{machine_tag()}-{uuid.uuid4().hex[:8]}"


def write_file(path: Path, content: str | bytes, sync: bool = True) -> None:
    """Write ``content`` to a new file (a fault point)."""
    fault_point("write")
    data = content.encode() if isinstance(content, str) else content
    with open(path, "xb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())


def rename(src: Path, dst: Path) -> None:
    """``os.replace`` (a fault point)."""
    fault_point("rename")
    os.replace(src, dst)


def write_file_atomic(path: Path, content: str | bytes) -> None:
    """Write beside ``path``, then rename over it: readers see the old or the new file, whole."""
    path = Path(path)
    tmp = sibling(path, "tmp")
    try:
        write_file(tmp, content)
        rename(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _renameat2():
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return None
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        return libc.renameat2
    except (OSError, AttributeError):
        return None


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system or
    the file system cannot (then nothing changed)."""
    call = _renameat2()
    if call is None:
        return False
    fault_point("rename")
    result = call(_AT_FDCWD, os.fsencode(str(a)), _AT_FDCWD, os.fsencode(str(b)), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))


def install_folder(tmp: Path, target: Path) -> None:
    """Put the finished folder ``tmp`` at ``target``, replacing what is there. At every moment
    ``target`` is the old folder or the new one, or (without an atomic exchange, between two
    renames) absent with the old one under a ``.old-`` name that :func:`recover` restores."""
    if not os.path.lexists(target):
        rename(tmp, target)
    elif exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)   # it now holds the old folder
    else:
        old = sibling(target, "old")
        rename(target, old)
        rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    _sync_folder(target.parent)


def build_folder(target: Path, fill: Callable[[Path], object], check: Callable[[Path], None] | None = None):
    """Build a folder under a temporary name with ``fill(tmp)``, ``check(tmp)`` it (which may
    raise), then :func:`install_folder` it at ``target``. On any error nothing is left but
    what was there before."""
    tmp = sibling(target, "tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        result = fill(tmp)
        if check is not None:
            check(tmp)
        install_folder(tmp, target)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _sync_folder(folder: Path) -> None:
    """fsync a folder so a rename in it survives a power cut (where the system allows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_LEFTOVER = re.compile(r"^\.(tmp|old)-(.+)-(\d+)-(?:(m[0-9a-f]{7})-)?[0-9a-f]{8}$")
ABANDONED_SECONDS = 86400   # a leftover of another machine (a shared results folder) is cleared after a day


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(folder: Path) -> int:
    """Clear up after writers killed mid-write in ``folder``: a ``.tmp-`` folder or file is
    removed, an ``.old-`` folder is renamed back to its name when nothing took its place (the
    writer died between its two renames) and removed otherwise. Only leftovers provably
    abandoned are touched: written on this machine and boot by a pid no longer alive, or
    (another machine's, in a shared folder) untouched for a day. Returns how many were handled."""
    import time

    handled = 0
    here = machine_tag()
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return 0
    for path in entries:
        match = _LEFTOVER.match(path.name)
        if not match:
            continue
        mine = match.group(4) in (None, here)   # names without a tag were written by an nnlab before tags
        if mine and pid_alive(int(match.group(3))):
            continue
        if not mine:
            try:
                if time.time() - path.lstat().st_mtime < ABANDONED_SECONDS:
                    continue
            except OSError:
                continue
        kind, name = match.group(1), match.group(2)
        original = path.parent / name
        if kind == "old" and not os.path.lexists(original):
            with contextlib.suppress(OSError):
                os.replace(path, original)
                handled += 1
                continue
        shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):
            path.unlink()
        handled += 1
    return handled


class NotRegular(OSError):
    """A trial file that is a link, FIFO, device or folder: never read."""


def open_regular(path: Path):
    """Open ``path`` for reading in binary mode if it is a regular file (its last component not
    a link: ``O_NOFOLLOW``; trial folders that are links are refused by the store itself) and
    without blocking on a FIFO; NotRegular (an OSError) otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegular(errno.ELOOP, "a link, not a file", str(path)) from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotRegular(errno.EINVAL, "not a regular file (a FIFO, device or folder)", str(path))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file (see :func:`open_regular`); ``limit``: OSError past it."""
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if limit is not None and size > limit:
            raise OSError(errno.EFBIG, f"{size} bytes, more than a file here can be ({limit})", str(path))
        return handle.read()


def read_text(path: Path, limit: int | None = None) -> str:
    return read_bytes(path, limit).decode()


def sha256_of(path: Path) -> str:
    """SHA-256 of a regular file, read in blocks."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
