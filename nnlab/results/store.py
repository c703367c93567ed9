"""The results layout on disk: trial folders, found by the hash in their name, written whole
or not at all, and read only after they verify (``manifest.py``).

A study folder holds one folder per trial, ``<slug>-<config hash>``; its bookkeeping
(``.study.db``: plans and claims, ``index.py``), ``study.yaml`` and ``summary.csv``; and
reports. A trial folder is built under a temporary name and put in place in one step
(``fsio.install_folder``), so a kill at any moment leaves the old folder or the new one.
A link (to a folder elsewhere) is never a trial folder here, and two folders of one
config count once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path

from ..errors import NnlabError, store_error
from ..train.records import TrialRecords
from . import fsio
from .manifest import (
    JSON_LIMIT,
    MANIFEST,
    digest,
    files_problem,
    manifest_text,
    summary_text,
    trial_files,
    verify_trial,
)
from .naming import hash_of
from .status import COMPLETE_STATUSES, FINISHED_STATUSES, RERUN_ON_RETRY, Status

__all__ = ["COMPLETE_STATUSES", "FINISHED_STATUSES", "MANIFEST", "RERUN_ON_RETRY", "Status", "find_trial",
           "folder_status", "is_trial", "make_dir", "read_summary", "recover", "replace_summary", "trial_dirs",
           "trial_status", "verify_trial", "write_text_atomic", "write_trial"]

_TRIAL_NAME = re.compile(r"[0-9a-f]{8}")


def write_trial(trial_dir: Path, records: TrialRecords) -> Path:
    """Write every file of a trial into a temporary sibling folder, then put it in place of
    ``trial_dir`` (replacing a forced re-run's old folder in one step). OSError: one line
    (StoreError), nothing left behind."""
    trial_dir = Path(trial_dir)
    files = trial_files(records)

    def fill(tmp: Path) -> None:
        for name, content in files.items():
            fsio.write_file(tmp / name, content)
    try:
        fsio.build_folder(trial_dir, fill)
    except OSError as exc:
        raise store_error(exc, f"the trial {trial_dir.name}") from None
    return trial_dir


def replace_summary(trial_dir: Path, summary: dict) -> None:
    """Give a finished trial a new summary.json (its diagnosis, as ``nnlab diagnose --write``
    does) and the manifest that goes with it, in one step: the other files are linked (or
    copied) into a new folder that replaces the old one whole, so a kill at any moment leaves
    a folder that verifies. The numbers are untouched."""
    trial_dir = Path(trial_dir)
    problem = verify_trial(trial_dir)
    if problem:
        raise NnlabError(f"{trial_dir}: corrupt ({problem}); its summary is not rewritten")
    text = summary_text(summary)
    digests = dict(json.loads(fsio.read_text(trial_dir / MANIFEST, JSON_LIMIT))["sha256"])
    digests["summary.json"] = digest(text)

    def fill(tmp: Path) -> None:
        for name in digests:
            if name == "summary.json":
                fsio.write_file(tmp / name, text)
                continue
            try:
                os.link(trial_dir / name, tmp / name, follow_symlinks=False)
            except OSError:   # no hard links here (another file system): a copy
                fsio.write_file(tmp / name, fsio.read_bytes(trial_dir / name))
        fsio.write_file(tmp / MANIFEST, manifest_text(digests))

    def check(tmp: Path) -> None:   # the new folder must verify before it replaces the old one
        problem = files_problem(tmp, summary)
        if problem:
            raise NnlabError(f"{trial_dir}: the rewritten folder does not verify ({problem}); the trial was left as it was")
    try:
        fsio.build_folder(trial_dir, fill, check)
    except OSError as exc:
        raise store_error(exc, f"the trial {trial_dir.name}") from None


def recover(study_dir: Path) -> int:
    """Clear up after writers killed mid-write in a study folder (``fsio.recover``)."""
    return fsio.recover(Path(study_dir)) if Path(study_dir).is_dir() else 0


def read_summary(trial_dir: Path) -> dict | None:
    """summary.json as a mapping, or None when it is missing, unreadable or not a mapping
    (only a verified folder's summary is trusted: :func:`folder_status`)."""
    try:
        summary = json.loads(fsio.read_text(Path(trial_dir) / "summary.json", JSON_LIMIT))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return summary if isinstance(summary, dict) else None


def is_trial(path: Path) -> bool:
    """A trial folder (damaged ones included): ``<slug>-<8 hex>`` holding trial files."""
    path = Path(path)
    return bool(_TRIAL_NAME.fullmatch(hash_of(path.name))) and any(
        os.path.lexists(path / name) for name in ("summary.json", "config.yaml", "metrics.csv", MANIFEST))


def trial_dirs(study_dir: Path) -> list[Path]:
    """Every trial folder of a study (damaged ones included), by name: a real folder named
    ``<slug>-<8 hex>``, not a link; of two folders with one config hash the first by name."""
    found: dict[str, Path] = {}
    try:
        entries = sorted(Path(study_dir).iterdir())
    except OSError:
        return []
    for path in entries:
        if path.name.startswith(".") or path.is_symlink() or not path.is_dir():
            continue
        config_hash = hash_of(path.name)
        if _TRIAL_NAME.fullmatch(config_hash) and "-" in path.name:
            found.setdefault(config_hash, path)
    return sorted(found.values())


def find_trial(study_dir: Path, config_hash: str) -> Path | None:
    """The trial folder of this config (any slug; not a link), or None."""
    if not Path(study_dir).is_dir():
        return None
    for path in sorted(Path(study_dir).glob(f"*-{config_hash}")):
        if not path.name.startswith(".") and not path.is_symlink() and path.is_dir() and hash_of(path.name) == config_hash:
            return path
    return None


def folder_status(folder: Path) -> tuple[str, dict]:
    """(status, summary) of a trial folder; ``corrupt`` with the problem as its error when
    the files are not as written."""
    problem = verify_trial(folder)
    if problem:
        return Status.CORRUPT.value, {"status": Status.CORRUPT.value, "error": problem}
    summary = read_summary(folder) or {}
    status = summary.get("status")
    if status not in (Status.COMPLETE, Status.DIVERGED, Status.FAILED):
        return Status.CORRUPT.value, {"status": Status.CORRUPT.value, "error": f"summary.json has no valid status ({status!r})"}
    if status == Status.DIVERGED and not isinstance(summary.get("diverged"), dict):
        return Status.CORRUPT.value, {"status": Status.CORRUPT.value, "error": "summary.json says diverged but not where"}
    return status, summary


def trial_status(study_dir: Path, config_hash: str, owners: dict | None = None) -> tuple[str, Path | None, dict | None]:
    """('complete' | 'diverged' | 'failed' | 'corrupt' | 'running' | 'pending', folder, summary).

    A folder whose files do not match their manifest is ``corrupt``: its summary is
    replaced by ``{status: corrupt, error: what is wrong}``, never trusted. ``owners``: the
    study's live claims, when the caller has them (else read from its index)."""
    from .index import live_owners

    folder = find_trial(study_dir, config_hash)
    if folder:
        status, summary = folder_status(folder)
        return status, folder, summary
    owners = live_owners(study_dir) if owners is None else owners
    if config_hash in owners:
        return Status.RUNNING.value, None, {"claimed_by": owners[config_hash].describe()}
    return Status.PENDING.value, None, None


def make_dir(folder: Path) -> None:
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise store_error(exc, "the results folder") from None


def write_text_atomic(path: Path, text: str) -> None:
    """Write beside ``path``, then rename over it: readers see the old or the new file, whole."""
    try:
        fsio.write_file_atomic(Path(path), text)
    except OSError as exc:
        raise store_error(exc, Path(path).name) from None


def remove_created(folder: Path | None) -> None:
    """Remove a folder a failed command created, if it holds no trial folder."""
    if folder is None or not Path(folder).is_dir():
        return
    with contextlib.suppress(OSError):
        if not any(trial_dirs(p) for p in [Path(folder), *Path(folder).rglob("*")] if p.is_dir()):
            shutil.rmtree(folder, ignore_errors=True)
