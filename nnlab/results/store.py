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
import re
import shutil
import uuid
from pathlib import Path

import numpy as np

from ..config import dump_yaml
from ..errors import NnlabError, store_error
from ..sweep.claims import claim_owner, pid_alive
from ..sweep.naming import hash_of
from ..train.records import TrialRecords
from .csvtext import TIMING_COLUMNS, format_value, to_csv

COMPLETE_STATUSES = ("complete", "diverged")  # a diverged trial is a result, not a failure
RERUN_ON_RETRY = ("failed", "corrupt")        # kept as they are unless --retry or --force
FINISHED_STATUSES = COMPLETE_STATUSES + RERUN_ON_RETRY  # a folder exists; nothing runs
MANIFEST = "manifest.json"                    # SHA-256 of every other file, written last




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
    if records.weights.get("final") is not None:  # the same function checks stored files later
        records.summary["fingerprint"] = fingerprint(metrics_without_timing(metrics_csv), steps_csv,
                                                     records.weights["final"])
    for name, arrays in records.weights.items():
        files[f"{name}.npz"] = npz_bytes(arrays)
    files["summary.json"] = json.dumps(_json_safe(records.summary), indent=2) + "\n"
    digests = {name: hashlib.sha256(_bytes(content)).hexdigest() for name, content in files.items()}
    files[MANIFEST] = json.dumps({"sha256": digests}, indent=1) + "\n"
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
    with np.load(trial_dir / "final.npz") as final:
        weights = {key: final[key] for key in final.files}
    return fingerprint(metrics_without_timing((trial_dir / "metrics.csv").read_text()),
                       (trial_dir / "steps.csv").read_text(), weights)


_verified: dict[tuple, str | None] = {}


def verify_trial(trial_dir: Path) -> str | None:
    """What is wrong with a trial folder's files, or None when they are as written.

    With a manifest every file must have its recorded SHA-256 (a forged number in
    summary.json or metrics.csv, an emptied or deleted file are all caught). Folders from
    before manifests are checked by recomputing their fingerprint. Results are cached per
    process by file sizes and modification times."""
    trial_dir = Path(trial_dir)
    try:
        entries = sorted((p.name, info.st_size, info.st_mtime_ns)
                         for p in trial_dir.iterdir() for info in [p.stat()])
    except OSError as exc:
        return f"cannot read the folder ({exc.strerror})"
    key = (str(trial_dir.resolve()), tuple(entries))
    if key not in _verified:
        _verified[key] = _verify(trial_dir)
    return _verified[key]


def _verify(trial_dir: Path) -> str | None:
    try:
        summary = json.loads((trial_dir / "summary.json").read_text())
    except FileNotFoundError:
        return "summary.json is missing"
    except (OSError, ValueError):
        return "summary.json is not valid JSON"
    if not isinstance(summary, dict):
        return "summary.json is not a JSON object"
    manifest_path = trial_dir / MANIFEST
    if manifest_path.is_file():
        try:
            recorded = json.loads(manifest_path.read_text())["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return f"{MANIFEST} is not valid"
        for name, digest in recorded.items():
            try:
                actual = hashlib.sha256((trial_dir / name).read_bytes()).hexdigest()
            except OSError:
                return f"{name} is missing"
            if actual != digest:
                return f"{name} changed since it was written (SHA-256 {actual[:12]}..., recorded {digest[:12]}...)"
        return None
    if "stop_reason" in summary:  # written by an nnlab that writes manifests: one was removed
        return f"{MANIFEST} is missing"
    if "fingerprint" in summary:  # written before manifests existed
        try:
            if fingerprint_of_files(trial_dir) != summary["fingerprint"]:
                return "metrics.csv, steps.csv or final.npz differ from the fingerprint in summary.json"
            return _summary_matches_metrics(trial_dir, summary)
        except (OSError, ValueError, KeyError):
            return "metrics.csv, steps.csv or final.npz is missing or unreadable"
    return None


def _summary_matches_metrics(trial_dir: Path, summary: dict) -> str | None:
    """For trials from before manifests: summary.json's final and best rows must be rows of
    metrics.csv (which the fingerprint covers), so a forged number there is caught too."""
    lines = (trial_dir / "metrics.csv").read_text().splitlines()
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


def replace_summary(trial_dir: Path, summary: dict) -> None:
    """Rewrite a finished trial's summary.json and its digest in manifest.json (each file
    replaced whole; the numbers and the other files are untouched), as `nnlab diagnose
    --write` does. The folder must still verify afterwards."""
    text = json.dumps(_json_safe(summary), indent=2) + "\n"
    manifest_path = trial_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    write_text_atomic(trial_dir / "summary.json", text)
    if manifest is not None:
        manifest["sha256"]["summary.json"] = hashlib.sha256(text.encode()).hexdigest()
        write_text_atomic(manifest_path, json.dumps(manifest, indent=1) + "\n")
    problem = verify_trial(trial_dir)
    if problem:
        raise NnlabError(f"{trial_dir}: after rewriting summary.json the folder does not verify ({problem})")


def write_trial(trial_dir: Path, records: TrialRecords) -> Path:
    """Write all files to a temporary sibling folder, then rename it to ``trial_dir``.

    An existing folder (a forced re-run) is moved aside first and deleted after, so at
    every moment ``trial_dir`` is either the old trial or the new one, whole."""
    trial_dir = Path(trial_dir)
    files = finish_summary(records)

    def write_files(tmp: Path) -> None:
        for name, content in files.items():
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(tmp / name, mode) as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())

    write_folder(trial_dir, write_files, f"the trial {trial_dir.name}")
    return trial_dir


def _sibling(path: Path, kind: str) -> Path:
    """A hidden temporary name beside ``path`` that names its writer's pid (see clean_temporaries)."""
    return path.parent / f".{kind}-{path.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def write_folder(target: Path, fill, what: str):
    """Build a folder under a temporary name with ``fill(tmp)``, then rename it to ``target``.
    An existing ``target`` is moved aside first and deleted after, so at every moment it is
    the old folder or the new one, whole. OSError: one line (StoreError), nothing left."""
    tmp = _sibling(target, "tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        result = fill(tmp)
        old = None
        if target.exists():
            old = _sibling(target, "old")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return result
    except OSError as exc:
        raise store_error(exc, what) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def clean_temporaries(study_dir: Path) -> int:
    """Remove leftovers of writers killed mid-write (``.tmp-*``, ``.old-*``). A leftover
    names its writer's pid; one whose writer is still alive (another sweep or run on this
    study, mid-write) is left alone."""
    removed = 0
    if Path(study_dir).is_dir():
        for path in [*Path(study_dir).glob(".tmp-*"), *Path(study_dir).glob(".old-*")]:
            match = re.search(r"-(\d+)-[0-9a-f]{8}$", path.name)
            if match and pid_alive(int(match.group(1))):
                continue
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
    """Every trial folder (``<slug>-<8 hex>``, damaged ones included) in a study folder, by name."""
    return sorted(p for p in Path(study_dir).iterdir()
                  if p.is_dir() and not p.name.startswith(".") and re.fullmatch(r"[0-9a-f]{8}", hash_of(p.name)))


def folder_status(folder: Path) -> tuple[str, dict]:
    """(status, summary) of a trial folder; ``corrupt`` with the problem as its error when
    the files are not as written."""
    problem = verify_trial(folder)
    if problem:
        return "corrupt", {"status": "corrupt", "error": problem}
    summary = read_summary(folder) or {}
    return summary.get("status", "failed"), summary


def make_dir(folder: Path) -> None:
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise store_error(exc, "the results folder") from None


def write_text_atomic(path: Path, text: str) -> None:
    """Write beside ``path``, then rename over it: readers see the old or the new file, whole."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise store_error(exc, path.name) from None
    finally:
        tmp.unlink(missing_ok=True)


def trial_status(study_dir: Path, config_hash: str) -> tuple[str, Path | None, dict | None]:
    """('complete' | 'diverged' | 'failed' | 'corrupt' | 'running' | 'pending', folder, summary).

    A folder whose files do not match their manifest is ``corrupt``: its summary is
    replaced by ``{status: corrupt, error: what is wrong}``, never trusted."""
    folder = find_trial(study_dir, config_hash)
    if folder:
        status, summary = folder_status(folder)
        return status, folder, summary
    if claim_owner(study_dir, config_hash) is not None:
        return "running", None, None
    return "pending", None, None
