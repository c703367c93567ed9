"""What makes a trial folder trustworthy: its fingerprint, its manifest, and the check of
both against the files (:func:`verify_trial`).

* The **fingerprint** (summary.json) is a SHA-256 over metrics.csv without its timing
  columns, steps.csv and the final weights: the same config gives the same fingerprint.
* The **manifest** (manifest.json, written last) holds the SHA-256 of every other file. A
  folder whose files do not match it, whose files are links, FIFOs or devices, or whose
  config.yaml is not the config its name's hash identifies (config/identity.py) is
  ``corrupt``: never counted, never trained over without --retry or --force.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from pathlib import Path

import numpy as np
import yaml

from ..config import dump_yaml
from ..config.identity import config_hash
from ..train.records import TrialRecords
from . import fsio
from .csvtext import TIMING_COLUMNS, format_value, to_csv
from .naming import hash_of

MANIFEST = "manifest.json"     # SHA-256 of every other file, written last
NEEDED = ("config.yaml", "metrics.csv", "steps.csv", "summary.json")   # in every trial's manifest
JSON_LIMIT = 256 << 20         # summary.json, manifest.json, config.yaml: no real one comes near this


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


def json_safe(value):
    """Plain JSON values: NumPy scalars as Python numbers, non-finite floats as text."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def summary_text(summary: dict) -> str:
    return json.dumps(json_safe(summary), indent=2) + "\n"


def manifest_text(digests: dict[str, str]) -> str:
    """manifest.json's text: {file name: SHA-256 of its bytes}."""
    return json.dumps({"sha256": digests}, indent=1) + "\n"


def digest(content: str | bytes) -> str:
    return hashlib.sha256(_bytes(content)).hexdigest()


def trial_files(records: TrialRecords) -> dict[str, str | bytes]:
    """Serialise the records; fills summary['fingerprint']. Returns {file name: content},
    the manifest last."""
    metrics_csv = to_csv(records.metrics)
    steps_csv = to_csv(records.steps)
    files: dict[str, str | bytes] = {
        "config.yaml": dump_yaml(records.config),
        "metrics.csv": metrics_csv,
        "steps.csv": steps_csv,
    }
    if records.weights.get("final") is not None:  # the same function checks stored files later
        records.summary["fingerprint"] = fingerprint(metrics_without_timing(metrics_csv), steps_csv,
                                                     records.weights["final"])
    for name, arrays in records.weights.items():
        files[f"{name}.npz"] = npz_bytes(arrays)
    files["summary.json"] = summary_text(records.summary)
    files[MANIFEST] = manifest_text({name: digest(content) for name, content in files.items()})
    return files


def _bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode()


def metrics_without_timing(metrics_csv: str) -> str:
    """metrics.csv text with its timing columns removed (what the fingerprint covers)."""
    lines = metrics_csv.splitlines()
    if not lines:
        return ""
    drop = {i for i, name in enumerate(lines[0].split(",")) if name in TIMING_COLUMNS}
    return "".join(",".join(c for i, c in enumerate(line.split(",")) if i not in drop) + "\n" for line in lines)


def fingerprint_of_files(trial_dir: Path) -> str:
    """The fingerprint recomputed from a trial folder's files (not the one it states)."""
    with fsio.open_regular(trial_dir / "final.npz") as handle, np.load(handle) as final:
        weights = {key: final[key] for key in final.files}
    return fingerprint(metrics_without_timing(fsio.read_text(trial_dir / "metrics.csv")),
                       fsio.read_text(trial_dir / "steps.csv"), weights)


_verified: dict[tuple, str | None] = {}


def verify_trial(trial_dir: Path) -> str | None:
    """What is wrong with a trial folder, or None when its files are as written and its
    config is the one its name identifies. Results are cached per process by the files'
    sizes and modification times."""
    trial_dir = Path(trial_dir)
    if trial_dir.is_symlink():
        return "a link to another folder, not a trial folder (copy it if you mean to keep it here)"
    try:
        entries = sorted((p.name, info.st_size, info.st_mtime_ns, info.st_mode)
                         for p in trial_dir.iterdir() for info in [p.lstat()])
    except OSError as exc:
        return f"cannot read the folder ({exc.strerror})"
    key = (str(trial_dir.resolve()), tuple(entries))
    if key not in _verified:
        _verified[key] = _verify(trial_dir)
    return _verified[key]


def _problem(name: str, exc: OSError) -> str:
    if isinstance(exc, fsio.NotRegular):
        return f"{name} is {exc.strerror}"
    if isinstance(exc, FileNotFoundError):
        return f"{name} is missing"
    return f"{name} cannot be read ({exc.strerror or exc})"


def _verify(trial_dir: Path) -> str | None:
    try:
        summary = json.loads(fsio.read_text(trial_dir / "summary.json", JSON_LIMIT))
    except OSError as exc:
        return _problem("summary.json", exc)
    except (ValueError, UnicodeDecodeError):
        return "summary.json is not valid JSON"
    if not isinstance(summary, dict):
        return "summary.json is not a JSON object"
    if os.path.lexists(trial_dir / MANIFEST):
        return files_problem(trial_dir, summary) or _identity_problem(trial_dir, summary)
    if "stop_reason" in summary:  # written by an nnlab that writes manifests: one was removed
        return f"{MANIFEST} is missing"
    if "fingerprint" in summary:  # written before manifests existed
        try:
            if fingerprint_of_files(trial_dir) != summary["fingerprint"]:
                return "metrics.csv, steps.csv or final.npz differ from the fingerprint in summary.json"
            return _summary_matches_metrics(trial_dir, summary) or _identity_problem(trial_dir, summary)
        except (OSError, ValueError, KeyError):
            return "metrics.csv, steps.csv or final.npz is missing or unreadable"
    if summary.get("status") == "failed":   # a failed trial from before manifests: nothing to fingerprint
        return _identity_problem(trial_dir, summary)
    return f"{MANIFEST} is missing (and summary.json has no fingerprint to check the files by)"


def files_problem(folder: Path, summary: dict) -> str | None:
    """What is wrong with a folder's files against its manifest.json (every file listed has its
    recorded SHA-256, and the manifest lists every file a trial of this status has), or None."""
    try:
        recorded = json.loads(fsio.read_text(folder / MANIFEST, JSON_LIMIT))["sha256"]
        if not isinstance(recorded, dict):
            raise TypeError
    except OSError as exc:
        return _problem(MANIFEST, exc)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return f"{MANIFEST} is not valid"
    needed = NEEDED + (("final.npz",) if summary.get("status") in ("complete", "diverged") else ())
    unlisted = [name for name in needed if name not in recorded]
    if unlisted:
        return f"{MANIFEST} does not list {unlisted[0]}, which a {summary.get('status')} trial has"
    for name, digest in recorded.items():
        if "/" in name or name.startswith("."):
            return f"{MANIFEST} names a file outside the folder ({name})"
        try:
            actual = fsio.sha256_of(folder / name)
        except OSError as exc:
            return _problem(name, exc)
        if actual != digest:
            return f"{name} changed since it was written (SHA-256 {actual[:12]}..., recorded {digest[:12]}...)"
    return None


def _identity_problem(trial_dir: Path, summary: dict) -> str | None:
    """The folder's name, its summary.json and its config.yaml must name one trial: a config
    edited together with the manifest, or a folder renamed, is not the trial its name claims."""
    named = hash_of(trial_dir.name)
    try:
        config = yaml.safe_load(fsio.read_text(trial_dir / "config.yaml", JSON_LIMIT))
    except OSError as exc:
        return _problem("config.yaml", exc)
    except (yaml.YAMLError, UnicodeDecodeError, ValueError):
        return "config.yaml is not valid YAML"
    if not isinstance(config, dict):
        return "config.yaml is not a config"
    try:
        held = config_hash(config)
    except (TypeError, ValueError):
        return "config.yaml is not a config nnlab wrote"
    if held != named:
        return (f"config.yaml is the config of trial {held}, not of {named} as the folder's name says "
                "(edited, or copied under another name)")
    stated = summary.get("config_hash")
    if stated is not None and stated != named:
        return f"summary.json belongs to trial {stated}, not to {named}"
    return None


def _summary_matches_metrics(trial_dir: Path, summary: dict) -> str | None:
    """For trials from before manifests: summary.json's final and best rows must be rows of
    metrics.csv (which the fingerprint covers), so a forged number there is caught too."""
    lines = fsio.read_text(trial_dir / "metrics.csv").splitlines()
    header = lines[0].split(",")
    rows = {line.split(",")[0]: dict(zip(header, line.split(","), strict=False)) for line in lines[1:]}
    for part in ("final", "best"):
        stated = summary.get(part) or {}
        row = rows.get(str(stated.get("epoch")))
        if row is None:
            return f"summary.json {part} names epoch {stated.get('epoch')}, which metrics.csv does not have"
        for key, value in stated.items():
            if key in row and key not in TIMING_COLUMNS and row[key] != format_value(value):
                return f"summary.json {part}.{key} is {value}, but metrics.csv says {row[key]}"
    return None
