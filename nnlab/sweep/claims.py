"""Claims: before a trial trains, its process takes a claim file in ``<study>/.claims/``.

* a claim is created atomically (link of a private file, like O_EXCL) with the owner's
  pid and host, so a second ``nnlab sweep`` or ``nnlab run`` on the same study skips a
  claimed trial and no trial runs twice;
* a claim whose process is gone (SIGKILL, crash) on this host is stale and is taken over,
  under a host-local ``flock`` so that two resuming processes cannot both take it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from pathlib import Path

from ..errors import store_error

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

CLAIMS = ".claims"


def _claim_path(study_dir: Path, config_hash: str) -> Path:
    return Path(study_dir) / CLAIMS / f"{config_hash}.json"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_owner(study_dir: Path, config_hash: str) -> dict | None:
    """The live owner of a trial's claim, or None (no claim, or a stale one)."""
    path = _claim_path(study_dir, config_hash)
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if owner.get("host") == socket.gethostname() and not pid_alive(int(owner.get("pid", 0))):
        return None
    return owner


@contextlib.contextmanager
def _claims_lock(folder: Path):
    """Serialise claim-taking on this host. Judging a claim stale and replacing it are two
    steps; without the lock two resuming sweeps could both judge the same dead claim
    stale, and the second would move aside the fresh claim the first had just made."""
    if fcntl is None:  # not POSIX: claims still exclude each other, only stale takeover races
        yield
        return
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def claim(study_dir: Path, config_hash: str) -> bool:
    """Take the trial's claim; False if a live process holds it."""
    path = _claim_path(study_dir, config_hash)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _claims_lock(path.parent):
            return _claim_locked(study_dir, config_hash, path)
    except OSError as exc:
        raise store_error(exc, "a claim file") from None


def _claim_locked(study_dir: Path, config_hash: str, path: Path) -> bool:
    payload = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
    for _ in range(2):
        # The claim appears with its content or not at all: write a private file, then
        # link it to the claim's name, which fails if the name exists (atomic, like O_EXCL).
        tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(payload)
        try:
            os.link(tmp, path)
        except FileExistsError:
            if claim_owner(study_dir, config_hash) is not None:
                return False
            # stale: move it aside under a unique name; only one contender's rename succeeds
            with contextlib.suppress(FileNotFoundError):
                os.replace(path, path.with_name(f".stale-{uuid.uuid4().hex}"))
            for stale in path.parent.glob(".stale-*"):
                stale.unlink(missing_ok=True)
            continue
        finally:
            tmp.unlink(missing_ok=True)
        return True
    return False


def release(study_dir: Path, config_hash: str) -> None:
    path = _claim_path(study_dir, config_hash)
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass
