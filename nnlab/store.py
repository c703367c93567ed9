"""The results layout on disk: atomic trial folders and files, the fingerprint, lookup by hash.

A trial folder is written under a temporary name and renamed into place, so it appears
whole or not at all. Its name is ``<slug>-<hash>``; the hash is the config's, so a
finished trial is found again even if its slug changes.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from .claims import claim_owner
from .config import dump_yaml
from .naming import hash_of
from .records import TrialRecords
from .tabular import TIMING_COLUMNS, to_csv

COMPLETE_STATUSES = ("complete", "diverged")  # a diverged trial is a result, not a failure


def fingerprint(metrics_csv_without_time: str, steps_csv: str, final_weights: dict) -> str:
    """SHA-256 over metrics.csv (timing columns removed), steps.csv and the final weights."""
    h = hashlib.sha256()
    h.update(metrics_csv_without_time.encode())
    h.update(steps_csv.encode())
    for key in sorted(final_weights):
        h.update(key.encode())
        h.update(np.ascontiguousarray(final_weights[key]).tobytes())
    return h.hexdigest()


def npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def finish_summary(records: TrialRecords) -> dict[str, str | bytes]:
    """Serialise the records; fills summary['fingerprint']. Returns {file name: content}."""
    metrics_csv = to_csv(records.metrics)
    steps_csv = to_csv(records.steps)
    files: dict[str, str | bytes] = {
        "config.yaml": dump_yaml(records.config),
        "metrics.csv": metrics_csv,
        "steps.csv": steps_csv,
    }
    if records.weights.get("final") is not None:
        records.summary["fingerprint"] = fingerprint(
            to_csv(records.metrics, exclude=TIMING_COLUMNS), steps_csv, records.weights["final"])
    for name, arrays in records.weights.items():
        files[f"{name}.npz"] = npz_bytes(arrays)
    files["summary.json"] = json.dumps(_json_safe(records.summary), indent=2) + "\n"
    return files


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_trial(trial_dir: Path, records: TrialRecords) -> Path:
    """Write all files to a temporary sibling folder, then rename it to ``trial_dir``.

    An existing folder (a forced re-run) is moved aside first and deleted after, so at
    every moment ``trial_dir`` is either the old trial or the new one, whole."""
    trial_dir = Path(trial_dir)
    trial_dir.parent.mkdir(parents=True, exist_ok=True)
    files = finish_summary(records)
    tmp = trial_dir.parent / f".tmp-{trial_dir.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        for name, content in files.items():
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(tmp / name, mode) as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
        old = None
        if trial_dir.exists():
            old = trial_dir.parent / f".old-{trial_dir.name}-{uuid.uuid4().hex[:8]}"
            os.replace(trial_dir, old)
        os.replace(tmp, trial_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return trial_dir


def clean_temporaries(study_dir: Path) -> int:
    """Remove leftovers of writers killed mid-write (``.tmp-*``, ``.old-*``)."""
    removed = 0
    if study_dir.is_dir():
        for path in study_dir.glob(".tmp-*"):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        for path in study_dir.glob(".old-*"):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def read_summary(trial_dir: Path) -> dict | None:
    try:
        return json.loads((Path(trial_dir) / "summary.json").read_text())
    except (OSError, ValueError):
        return None


def find_trial(study_dir: Path, config_hash: str) -> Path | None:
    """The trial folder of this config (any slug), or None."""
    if not Path(study_dir).is_dir():
        return None
    for path in sorted(Path(study_dir).glob(f"*-{config_hash}")):
        if path.is_dir() and not path.name.startswith(".") and hash_of(path.name) == config_hash:
            return path
    return None


def trial_dirs(study_dir: Path) -> list[Path]:
    """Every finished trial folder (it holds summary.json) in a study folder, by name."""
    return sorted(p for p in Path(study_dir).iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / "summary.json").is_file())


def write_text_atomic(path: Path, text: str) -> None:
    """Write beside ``path``, then rename over it: readers see the old or the new file, whole."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def trial_status(study_dir: Path, config_hash: str) -> tuple[str, Path | None, dict | None]:
    """('complete' | 'diverged' | 'failed' | 'running' | 'pending', folder, summary)."""
    folder = find_trial(study_dir, config_hash)
    summary = read_summary(folder) if folder else None
    if summary:
        return summary.get("status", "failed"), folder, summary
    if claim_owner(study_dir, config_hash) is not None:
        return "running", None, None
    return "pending", None, None
