"""One row per trial, for the study's summary.csv and the report's tables.

``trial_row`` turns a trial's summary.json into a flat row; ``study_rows`` lists a study's
planned trials (from study.yaml, in plan order, pending ones included) followed by any
other trial folders found on disk. The sweep and the report both write these rows.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..config import get_path
from ..sweep.naming import hash_of
from .csvtext import to_csv
from .store import folder_status, trial_dirs, trial_status, write_text_atomic

SPLIT_METRICS = tuple(f"{split}_{m}" for split in ("train", "val", "test") for m in ("loss", "acc", "mae"))
NOT_SUMMARISED = ("epoch", "step", "lr", "grad_norm")   # per-epoch bookkeeping, not results


def event_list(summary: dict, severities=("info", "warn", "error")) -> str | None:
    """'warn:spiky_run; error:dead_units' — the events of a trial as one cell."""
    events = [e for e in summary.get("events") or [] if e.get("severity") in severities]
    return "; ".join(f"{e['severity']}:{e['type']}" for e in events) or None


def final_metrics(summary: dict) -> dict:
    """The final epoch's split metrics (no per-layer columns, no bookkeeping)."""
    final = summary.get("final") or {}
    return {k: v for k, v in final.items() if k not in NOT_SUMMARISED and "/" not in k}


def trial_row(name: str, values: dict, status: str, summary: dict | None) -> dict:
    summary = summary or {}
    row = {"trial": name, **values, "status": status}
    best = summary.get("best") or {}
    row["epochs"] = summary.get("epochs_run")
    row["best_epoch"] = best.get("epoch")
    monitor = best.get("monitor")
    row["best_monitor"] = monitor
    row["best_value"] = best.get(monitor) if monitor else None
    row.update({f"best_{k}": best[k] for k in SPLIT_METRICS if k in best})
    row.update({f"final_{k}": v for k, v in final_metrics(summary).items()})
    diverged = summary.get("diverged")
    row["diverged_at"] = f"epoch {diverged['epoch']} step {diverged['step']}" if diverged else None
    row["events"] = event_list(summary)
    row["error"] = summary.get("error")
    row["time_s"] = summary.get("time_s")
    return row


def read_plan(study_dir: Path) -> tuple[list[str], list[dict]]:
    """(axes, planned trials as {id, values}) from study.yaml; empty when there is none."""
    path = Path(study_dir) / "study.yaml"
    if not path.is_file():
        return [], []
    planned = yaml.safe_load(path.read_text()) or {}
    trials = [{"id": t["id"], "values": t.get("values") or {}} for t in planned.get("trials") or []]
    return list(planned.get("axes") or []), trials


def study_rows(study_dir: Path, axes: list[str], planned: list[dict], unplanned: bool = True) -> list[dict]:
    """Planned trials in plan order, then (with ``unplanned``) other trial folders, such as
    an earlier `nnlab run` of the same study name (their swept values read from their
    config.yaml)."""
    rows, seen = [], set()
    for trial in planned:
        config_hash = hash_of(trial["id"])
        status, folder, summary = trial_status(study_dir, config_hash)
        values = dict(trial["values"])
        missing = [axis for axis in axes if axis not in values]
        if missing and folder is not None and status != "corrupt":  # swept by another plan of the study
            config = _config_of(folder)
            values.update({axis: get_path(config, axis) for axis in missing})
        rows.append(trial_row(folder.name if folder else trial["id"], values, status, summary))
        seen.add(config_hash)
    for folder in trial_dirs(study_dir) if unplanned and Path(study_dir).is_dir() else []:
        if hash_of(folder.name) in seen:
            continue
        status, summary = folder_status(folder)
        config = _config_of(folder) if status != "corrupt" else {}
        values = {axis: get_path(config, axis) for axis in axes}
        rows.append(trial_row(folder.name, values, status, summary))
    return rows


def _config_of(folder: Path) -> dict:
    try:
        config = yaml.safe_load((folder / "config.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return config if isinstance(config, dict) else {}


def write_summary_csv(study_dir: Path, rows: list[dict], path: Path | None = None) -> Path:
    path = path or Path(study_dir) / "summary.csv"
    write_text_atomic(path, to_csv(rows))
    return path
