"""One row per trial, for the study's summary.csv, the report's tables, ``nnlab ls`` and
``nnlab.load_study``: :func:`study_table` lists a study's planned trials (study.yaml, in plan
order, pending and running ones included) and then any other trial folder in it (an earlier
``nnlab run`` of the same study name, a folder copied in).

Which columns tell the trials apart follows one rule (config/identity.py): trials are seeds
of one configuration only when their resolved configs are equal except for the seed,
whichever command made them. Each row carries its configuration as ``group`` (the hash of
its config without the seed), and the columns are the keys the plans swept, then every
other key whose value differs between configurations the swept keys do not already tell
apart (a trial run with ``optimizer.lr=0.5`` beside a sweep over seeds adds an
``optimizer.lr`` column), then ``seed``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..config import get_path, set_path
from ..config.identity import differing_keys, group_hash, leaves
from . import fsio
from .csvtext import to_csv
from .manifest import JSON_LIMIT
from .naming import hash_of
from .status import Status
from .store import folder_status, trial_dirs, write_text_atomic

SPLIT_METRICS = tuple(f"{split}_{m}" for split in ("train", "val", "test") for m in ("loss", "acc", "mae"))
NOT_SUMMARISED = ("epoch", "step", "lr", "grad_norm")   # per-epoch bookkeeping, not results


def event_list(summary: dict, severities=("info", "warn", "error")) -> str | None:
    """'warn:spiky_run; error:dead_units' — the events of a trial as one cell."""
    events = [e for e in summary.get("events") or [] if isinstance(e, dict) and e.get("severity") in severities]
    return "; ".join(f"{e['severity']}:{e.get('type')}" for e in events) or None


def final_metrics(summary: dict) -> dict:
    """The final epoch's split metrics (no per-layer columns, no bookkeeping)."""
    final = summary.get("final") or {}
    return {k: v for k, v in final.items() if k not in NOT_SUMMARISED and "/" not in k}


def trial_row(name: str, values: dict, status: str, summary: dict | None, group: str | None = None) -> dict:
    summary = summary or {}
    row = {"trial": name, **values, "group": group, "status": status}
    best = summary.get("best") or {}
    row["epochs"] = summary.get("epochs_run")
    row["best_epoch"] = best.get("epoch")
    monitor = best.get("monitor")
    row["best_monitor"] = monitor
    row["best_value"] = best.get(monitor) if monitor else None
    row.update({f"best_{k}": best[k] for k in SPLIT_METRICS if k in best})
    row.update({f"final_{k}": v for k, v in final_metrics(summary).items()})
    diverged = summary.get("diverged")
    row["diverged_at"] = f"epoch {diverged['epoch']} step {diverged['step']}" if isinstance(diverged, dict) else None
    row["events"] = event_list(summary)
    row["error"] = summary.get("error")
    row["time_s"] = summary.get("time_s")
    row["kernels"] = kernels_of(summary)
    return row


def kernels_of(summary: dict) -> str | None:
    """The arithmetic a trial was computed with, in one cell: 'numpy 2.4.1, OpenBLAS Haswell,
    X86_V3'. Trials computed with other kernels give other bytes; a report says so when a
    study holds more than one."""
    env = summary.get("environment") or {}
    if not env.get("blas_kernel"):
        return None
    dispatch = env.get("numpy_dispatch")
    top = dispatch[-1] if isinstance(dispatch, list) and dispatch else "baseline"
    return f"numpy {env.get('numpy')}, {env.get('blas') or 'BLAS'} {env.get('blas_kernel')}, {top}"


# ---------------------------------------------------------------- study.yaml

@dataclass
class StudyRecord:
    """What study.yaml says was planned (empty for a folder without one)."""

    axes: list[str] = field(default_factory=list)
    trials: list[dict] = field(default_factory=list)     # {id, values}
    plans: list[dict] = field(default_factory=list)      # {axes, trials, base}

    def plan_of(self, trial_id: str) -> dict | None:
        return next((p for p in self.plans if trial_id in (p.get("trials") or [])), None)


def read_study(study_dir: Path) -> StudyRecord:
    path = Path(study_dir) / "study.yaml"
    try:
        record = yaml.safe_load(fsio.read_text(path, JSON_LIMIT)) if path.exists() else None
    except (OSError, yaml.YAMLError, UnicodeDecodeError, ValueError):   # ValueError: an integer of 5000 digits
        record = None
    if not isinstance(record, dict):
        return StudyRecord()
    trials = [{"id": str(t["id"]), "values": t.get("values") if isinstance(t.get("values"), dict) else {},
               "group": t.get("group") if isinstance(t.get("group"), str) else None}
              for t in record.get("trials") or [] if isinstance(t, dict) and "id" in t]
    plans = [p for p in record.get("plans") or [] if isinstance(p, dict)]
    return StudyRecord([str(a) for a in record.get("axes") or []], trials, plans)


# ---------------------------------------------------------------- the study's table

@dataclass
class StudyTable:
    rows: list[dict]          # one per trial (planned ones first, in plan order)
    axes: list[str]           # the columns that tell configurations apart, seed last when it varies


def study_table(study_dir: Path, owners: dict | None = None) -> StudyTable:
    """Every trial of a study with its status, configuration and results (see the module's
    docstring for the columns). ``owners``: the live claims, when the caller has them."""
    from .index import live_owners

    study_dir = Path(study_dir)
    record = read_study(study_dir)
    owners = live_owners(study_dir) if owners is None else owners
    folders = {hash_of(f.name): f for f in trial_dirs(study_dir)}
    entries = []   # (name, plan values, status, summary, config, group)
    for trial in record.trials:
        config_hash = hash_of(trial["id"])
        folder = folders.pop(config_hash, None)
        config = None
        if folder is not None:
            status, summary = folder_status(folder)
            config = _config_of(folder) if status != Status.CORRUPT else None
            name = folder.name
        else:
            status = Status.RUNNING.value if config_hash in owners else Status.PENDING.value
            summary, name = None, trial["id"]
        # the group recorded with the plan (from the trial's resolved config) for a trial without
        # a trustworthy folder; the folder's own config otherwise
        group = group_hash(config) if config else trial["group"]
        entries.append((name, trial["values"], status, summary, config or _planned_config(record, trial), group))
    for folder in folders.values():
        status, summary = folder_status(folder)
        config = _config_of(folder) if status != Status.CORRUPT else None
        entries.append((folder.name, {}, status, summary, config, group_hash(config) if config else None))
    axes = _columns(record, [entry[:5] for entry in entries])
    rows = []
    for name, values, status, summary, config, group in entries:
        shown = {axis: _value(axis, values, config) for axis in axes}
        rows.append(trial_row(name, shown, status, summary, group))
    return StudyTable(rows, axes)


def _config_of(folder: Path) -> dict | None:
    try:
        config = yaml.safe_load(fsio.read_text(folder / "config.yaml", JSON_LIMIT))
    except (OSError, yaml.YAMLError, UnicodeDecodeError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def _planned_config(record: StudyRecord, trial: dict) -> dict | None:
    """A planned trial's config, from its plan's base and its swept values (it has no folder
    yet, or its folder cannot be trusted)."""
    from ..config import Experiment, validate

    plan = record.plan_of(trial["id"])
    if plan is None or not isinstance(plan.get("base"), dict):
        return None
    config = copy.deepcopy(plan["base"])
    try:
        for key, value in (trial.get("values") or {}).items():
            if key.split(".")[0] in Experiment.model_fields:   # not a label axis such as fix=...
                set_path(config, key, copy.deepcopy(value))
        return validate(config).resolved()   # shorthands resolved as the trial's own config.yaml has them
    except Exception:   # noqa: BLE001 - a plan this nnlab cannot read again: no config to show
        return None


def _value(axis: str, values: dict, config: dict | None):
    if axis in values:
        return values[axis]
    return get_path(config, axis) if config else None


def _columns(record: StudyRecord, entries: list) -> list[str]:
    """Swept keys, then the other keys whose values differ between configurations the
    columns so far do not tell apart, then seed."""
    swept = [a for a in dict.fromkeys(a for p in record.plans for a in p.get("axes") or []) if a != "seed"]
    swept += [a for a in record.axes if a != "seed" and a not in swept]
    configs = [config for *_, config in entries if config]
    columns = list(swept)
    flat = [(values, config, leaves(config) if config else {}) for _, values, _, _, config in entries]
    for key in differing_keys(configs):
        if any(key == a or key.startswith(a + ".") or a.startswith(key + ".") for a in columns):
            continue
        groups: dict[str, set] = {}
        for values, config, leaf in flat:
            if config is None:
                continue
            label = json.dumps([_value(a, values, config) for a in columns], sort_keys=True, default=str)
            groups.setdefault(label, set()).add(json.dumps(leaf.get(key), sort_keys=True, default=str))
        if any(len(seen) > 1 for seen in groups.values()):
            columns.append(key)
    seeds = {json.dumps(config.get("seed")) for config in configs}
    if len(seeds) > 1 or "seed" in record.axes or any("seed" in (p.get("axes") or []) for p in record.plans):
        columns.append("seed")
    return columns


def write_summary_csv(study_dir: Path, rows: list[dict], path: Path | None = None) -> Path:
    path = path or Path(study_dir) / "summary.csv"
    write_text_atomic(path, to_csv(rows))
    return path
