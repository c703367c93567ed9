"""The results layout on disk: atomic trial folders, CSV/JSON/NPZ writers, lookup by hash.

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

from .config import dump_yaml
from .trainer import TrialRecords

TIMING_COLUMNS = ("time_s",)
COMPLETE_STATUSES = ("complete", "diverged")  # a diverged trial is a result, not a failure


def format_value(value) -> str:
    """Deterministic text for a CSV cell: shortest round-trip float repr, '' for None."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return str(value)


def to_csv(rows: list[dict], exclude: tuple = ()) -> str:
    """Rows to CSV text with the union of keys as columns, in first-seen order; time last."""
    columns = []
    for row in rows:
        columns.extend(k for k in row if k not in columns and k not in exclude)
    columns = [c for c in columns if c not in TIMING_COLUMNS] + [c for c in columns if c in TIMING_COLUMNS]
    lines = [",".join(columns)]
    lines.extend(",".join(format_value(row.get(c)) for c in columns) for row in rows)
    return "\n".join(lines) + "\n"


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
        if path.is_dir() and not path.name.startswith("."):
            return path
    return None


def slug(values: dict) -> str:
    """'activation=relu,seed=0' from {'model.activation': 'relu', 'seed': 0}; short, path-safe."""
    if not values:
        return "run"
    parts = []
    for key, value in values.items():
        text = _slug_value(value)
        path = key.split(".")
        label = path[-2] if path[-1] == "name" and len(path) > 1 else path[-1]
        parts.append(f"{label}={text}")
    out = ",".join(parts)
    for bad in '/\\ :*?"<>|':
        out = out.replace(bad, "_")
    return out[:80]


def _slug_value(value) -> str:
    """'adagrad(lr=0.1)' for {name: adagrad, lr: 0.1}; '[64,64]' for a list; plain scalars."""
    if isinstance(value, dict):
        rest = ";".join(f"{k}={_slug_value(v)}" for k, v in value.items() if k != "name")
        return f"{value['name']}({rest})" if "name" in value else rest
    if isinstance(value, list):
        return "[" + ",".join(_slug_value(v) for v in value) + "]"
    return format_value(value)


def trial_name(values: dict, config_hash: str) -> str:
    return f"{slug(values)}-{config_hash}"
