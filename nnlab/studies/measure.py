"""The numbers of one study, read back from its results: exactly the trials that the study's
config (and any overrides) plans, one row each with its swept values, final metrics, the
events its diagnosis raised and a few per-trial measures computed from metrics.csv.

Group statistics are those of the study report (:mod:`nnlab.report.groups`): mean and the 95%
interval of the mean over seeds, mean ± t(0.975, n − 1)·sd/√n; a difference between two
groups that ran the same seeds is paired by seed (Student t on the per-seed differences),
otherwise Welch's interval. An interval that contains 0 is "no real difference".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SERIOUS = ("warn", "error")
DIP_FROM = 3       # acc_dip counts falls from this epoch on


@dataclass
class Difference:
    """a − b of a metric between two groups (in the metric's display unit)."""

    gain: float
    half: float | None        # half-width of the 95% interval; None: too few seeds
    n: int
    paired: bool

    @property
    def real(self) -> bool:
        """The interval excludes 0."""
        return self.half is not None and abs(self.gain) > self.half

    def better(self, a: str, b: str, fmt: str = "{:.1f}", unit: str = " points", lower: bool = False) -> str:
        """For a − b: 'a is ahead of b by 8.1 ± 2.3 points' (``lower``: 'a is lower than b by'
        for a loss, the smaller the better) or 'a and b are within noise of each other (a − b = 2.6 ± 11.3 points)'."""
        if self.half is None:
            return f"there are too few seeds to tell {a} from {b} ({a} − {b} = {self.text(fmt, unit)})"
        if not self.real:
            return f"{a} and {b} are within noise of each other ({a} − {b} = {self.text(fmt, unit)})"
        size = self.text(fmt, unit).lstrip("−")
        if lower:
            return f"{b if self.gain > 0 else a} is lower than {a if self.gain > 0 else b} by {size}"
        return f"{a if self.gain > 0 else b} is ahead of {b if self.gain > 0 else a} by {size}"

    def text(self, fmt: str = "{:.1f}", unit: str = " points") -> str:
        gain = fmt.format(self.gain + 0.0)
        gain = gain[1:] if gain.startswith("-") and float(gain) == 0 else gain.replace("-", "−")   # no "−0.0"
        if self.half is None:
            return f"{gain}{unit} (too few seeds for an interval)"
        return f"{gain} ± {fmt.format(self.half)}{unit}"


class StudyData:
    """The trials of one planned study with helpers for the numbers a section quotes.

    ``where`` arguments select trials by axis short name and *label* (``output="relu"``,
    ``init="zeros in layer 1"``): labels are the study's names for swept values."""

    def __init__(self, study_dir: Path, plan, labels: dict | None = None, derived: dict | None = None):
        """``labels``: {axis short name: {value (JSON text for lists, mappings and null): label}};
        ``derived``: {name: function of a trial's swept values -> label}, which replaces the
        swept axes by named columns (one 'batch norm' column for a zip of two keys)."""
        import pandas as pd

        from ..results.frames import read_frame
        from ..results.store import trial_status

        self.dir = Path(study_dir)
        swept = [a for a in plan.axes if a != "seed"]
        self.labels = labels or {}
        self.derived = derived or {}
        self.columns = list(self.derived) if self.derived else [_short(a) for a in swept]
        rows, self.metrics, self.summaries, self.steps = [], {}, {}, {}
        for trial in plan.trials:
            status, folder, summary = trial_status(self.dir, trial.config_hash)
            row = {"trial": trial.id, "status": status, "seed": trial.values.get("seed", trial.experiment.seed)}
            if self.derived:
                row.update({name: fn(trial.values) for name, fn in self.derived.items()})
            else:
                row.update({_short(a): self.label(_short(a), trial.values.get(a)) for a in swept})
            if folder is not None and status in ("complete", "diverged"):
                metrics = read_frame(folder / "metrics.csv")
                steps = read_frame(folder / "steps.csv", usecols=["loss"])
                self.metrics[trial.id] = metrics
                self.summaries[trial.id] = summary or {}
                if steps is not None:
                    self.steps[trial.id] = steps["loss"].to_numpy(dtype=float)
                row.update(_measures(metrics, summary or {}, steps))
            rows.append(row)
        self.trials = pd.DataFrame.from_records(rows)
        self.missing = [r["trial"] for r in rows if r["status"] not in ("complete", "diverged")]

    # ------------------------------------------------------------ selection

    def label(self, short: str, value) -> str:
        names = self.labels.get(short, {})
        key = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) or value is None else value
        if key in names:
            return names[key]
        if isinstance(value, list):
            return "[" + ", ".join(map(str, value)) + "]"
        return "none" if value is None else str(value)

    def groups(self) -> list[dict]:
        """Each swept combination once, in plan order: {column: label}."""
        seen: list[dict] = []
        for _, row in self.trials.iterrows():
            key = {c: row[c] for c in self.columns}
            if key not in seen:
                seen.append(key)
        return seen

    def step_losses(self, **where) -> dict[int, np.ndarray]:
        """seed -> the loss of every optimizer step (steps.csv) for the selected finished trials."""
        t = self.select(False, **where)
        return {int(s): self.steps[n] for n, s in zip(t["trial"], t["seed"], strict=True) if n in self.steps}

    def select(self, complete: bool = True, **where):
        t = self.trials
        for key, value in where.items():
            t = t[t[key] == value]
        if complete:
            t = t[t["status"] == "complete"]
        return t

    def values(self, metric: str, complete: bool = True, **where) -> dict[int, float]:
        """seed -> value over the selected trials of one group (complete ones unless complete=False)."""
        t = self.select(complete, **where)
        if metric not in t:
            return {}
        if t["seed"].duplicated().any():
            raise ValueError(f"{dict(where)} selects several settings per seed; name one group to pair by seed")
        return {int(s): float(v) for s, v in zip(t["seed"], t[metric], strict=True) if v is not None and np.isfinite(v)}

    def pooled(self, metric: str, complete: bool = True, **where) -> list[float]:
        """Every finite value over the selected trials, whatever group they belong to."""
        t = self.select(complete, **where)
        return [float(v) for v in t[metric] if v is not None and np.isfinite(v)] if metric in t else []

    def count(self, **where) -> int:
        return len(self.select(False, **where))

    # ------------------------------------------------------------ statistics

    def stat(self, metric: str, scale: float = 1.0, complete: bool = True, **where):
        from ..report.statistics import Summary

        return Summary.of([v * scale for v in self.pooled(metric, complete, **where)])

    def mean(self, metric: str, scale: float = 1.0, complete: bool = True, **where) -> float:
        s = self.stat(metric, scale, complete, **where)
        return math.nan if s is None else s.mean

    def fmt(self, metric: str, scale: float = 1.0, digits: int = 1, complete: bool = True, **where) -> str:
        """'92.3 ± 0.7' (mean ± 95% interval over seeds), '92.3 (n = 1)' or '–'."""
        s = self.stat(metric, scale, complete, **where)
        if s is None:
            return "–"
        if s.ci95 is None:
            return f"{_num(s.mean, digits)} (n = 1)"
        if abs(s.mean) >= 1e4:
            return f"{s.mean:.3g} ± {s.ci95:.1g}"
        places = digits
        while places < 6 and 1e-9 * abs(s.mean) < s.ci95 < 0.95 * 10 ** -places:   # one significant digit of the interval
            places += 1
        return f"{s.mean:.{places}f} ± {s.ci95:.{places}f}"

    def diff(self, metric: str, a: dict, b: dict, scale: float = 1.0) -> Difference:
        """Group a minus group b, paired by seed when both ran the same seeds."""
        from ..report.statistics import difference, paired_by_seed

        xa, xb, paired = paired_by_seed(self.values(metric, **a), self.values(metric, **b))
        xa, xb = xa * scale, xb * scale
        if not len(xa) or not len(xb):
            return Difference(math.nan, None, 0, False)
        gain, half = difference(xa, xb, paired)
        return Difference(gain, half, min(len(xa), len(xb)), paired)

    # ------------------------------------------------------------ diagnosis

    def fired(self, event: str, severities=SERIOUS, **where) -> tuple[int, int]:
        """(trials whose diagnosis raised ``event`` at one of ``severities``, trials) among the
        finished trials selected (diverged ones included)."""
        t = self.select(False, **where)
        t = t[t["status"].isin(("complete", "diverged"))]
        hits = sum(any(e["type"] == event and e["severity"] in severities
                       for e in self.summaries.get(name, {}).get("events") or []) for name in t["trial"])
        return hits, len(t)

    def diagnosis(self, severities=SERIOUS, **where) -> str:
        """Events raised in a majority of the selected trials: 'dead_units (3/3), spiky_run (2/3)'."""
        t = self.select(False, **where)
        t = t[t["status"].isin(("complete", "diverged"))]
        counts: dict[str, int] = {}
        for name in t["trial"]:
            for kind in {_kind(e) for e in self.summaries.get(name, {}).get("events") or [] if e["severity"] in severities}:
                counts[kind] = counts.get(kind, 0) + 1
        n = len(t)
        return ", ".join(f"{k} ({v}/{n})" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                         if v > n / 2) or "–"

    def curves(self, column: str, **where) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """seed -> (epochs, values) of a metrics.csv column for the selected finished trials;
        a column ending in '/*' (``dead_frac/*``) gives the largest over the layers at each epoch."""
        out = {}
        t = self.select(False, **where)
        for name, seed in zip(t["trial"], t["seed"], strict=True):
            metrics = self.metrics.get(name)
            if metrics is None:
                continue
            if column.endswith("/*"):
                columns = [c for c in metrics.columns if c.startswith(column[:-1])]
                if columns:
                    out[int(seed)] = (metrics["epoch"].to_numpy(), metrics[columns].max(axis=1).to_numpy(dtype=float))
            elif column in metrics:
                out[int(seed)] = (metrics["epoch"].to_numpy(), metrics[column].to_numpy(dtype=float))
        return out


def _kind(event: dict) -> str:
    """An event's name in a table: its type, and for a plateau its classification ('plateau at chance')."""
    kind = (event.get("evidence") or {}).get("classification") if event["type"] == "plateau" else None
    return f"{event['type']} {kind.replace('_', ' ')}" if kind else event["type"]


def _short(axis: str) -> str:
    """An axis's column name, as trial folder names shorten it: optimizer.lr -> lr, loss.name -> loss."""
    parts = axis.split(".")
    return parts[-2] if parts[-1] == "name" and len(parts) > 1 else parts[-1]


def _num(value: float, digits: int) -> str:
    if not np.isfinite(value):
        return str(value)
    if abs(value) >= 1e4 or (0 < abs(value) < 10 ** -digits):
        return f"{value:.2g}"
    return f"{value:.{digits}f}"


def _final(metrics, prefix: str) -> float:
    columns = [c for c in metrics.columns if c.startswith(prefix)]
    if not columns or not len(metrics):
        return math.nan
    last = metrics[columns].iloc[-1].to_numpy(dtype=float)
    return float(np.nanmax(last)) if np.isfinite(last).any() else math.nan


def _measures(metrics, summary: dict, steps=None) -> dict:
    """Per-trial numbers beside the final metrics: what the sections quote.

    * ``final_*`` — the final epoch's split metrics (the restored best epoch's with
      early stopping that restores the best weights), as in summary.csv;
    * ``epochs`` — epochs run; ``stopped`` — 1 when a stop rule (``train.stop_when``) ended it;
      ``early_stopped`` — 1 when early stopping ended it;
    * ``solved`` — 1 when the final model classifies every training example right (accuracy ≥ 99.9%);
    * ``loss_ratio`` — final training loss ÷ the loss before training (epoch 0);
    * ``dead_max``, ``sat_max`` — the largest share of dead ReLUs / saturated units of any
      layer at the end; ``dead_peak`` — the largest share at any epoch;
    * ``distinct_first`` — distinct units of the first weight layer at the end;
    * ``val_rise`` — how far the validation loss ended above its minimum, in % (Prechelt's GL);
    * ``best_val_acc_epoch`` — the epoch of the best validation accuracy, ``best_val_loss_epoch`` of the lowest val loss;
    * ``acc_drop`` — points of validation accuracy lost from its best epoch to the end;
      ``acc_dip`` — the largest fall of validation accuracy below its best so far, in points,
      from epoch 3 on (a collapse the run may have recovered from; the first epochs' climb is
      left out);
    * ``val_acc_at_1`` — validation accuracy after the first epoch (how fast it starts);
      ``val_acc_mean`` — its mean over the evaluated epochs after the start (the area under
      the curve: how fast it gets there, one number);
    * ``loss_rises`` — share of optimizer steps whose loss is above the step before (with
      full batches the loss of the same data: 0 for a step small enough to descend).
    """
    final = summary.get("final") or {}
    out = {f"final_{k}": v for k, v in final.items() if "/" not in k and k not in ("epoch", "step", "lr")}
    out["epochs"] = summary.get("epochs_run")
    out["stopped"] = 1.0 if summary.get("stop_reason") == "stop_when" else 0.0
    out["early_stopped"] = 1.0 if summary.get("stop_reason") == "early_stopping" else 0.0
    if final.get("train_acc") is not None:
        out["solved"] = 1.0 if final["train_acc"] >= 0.999 else 0.0
    if "train_loss" in metrics and len(metrics) > 1:
        first, last = float(metrics["train_loss"].iloc[0]), float(metrics["train_loss"].iloc[-1])
        out["loss_ratio"] = last / first if first else math.nan
    out["dead_max"] = _final(metrics, "dead_frac/")
    out["sat_max"] = _final(metrics, "sat_frac/")
    dead = [c for c in metrics.columns if c.startswith("dead_frac/")]
    out["dead_peak"] = float(np.nanmax(metrics[dead].to_numpy(dtype=float))) if dead and len(metrics) else math.nan
    distinct = sorted((c for c in metrics.columns if c.startswith("distinct/")), key=lambda c: int(c.split("/")[1]))
    out["distinct_first"] = float(metrics[distinct[0]].iloc[-1]) if distinct and len(metrics) else math.nan
    if "val_loss" in metrics and metrics["val_loss"].notna().any():
        val = metrics["val_loss"].to_numpy(dtype=float)
        out["val_rise"] = 100.0 * (val[-1] / np.nanmin(val) - 1.0)
        out["best_val_loss_epoch"] = int(metrics["epoch"].iloc[int(np.nanargmin(val))])
    if "val_acc" in metrics and metrics["val_acc"].notna().any():
        acc = metrics["val_acc"].to_numpy(dtype=float)
        out["best_val_acc_epoch"] = int(metrics["epoch"].iloc[int(np.nanargmax(acc))])
        out["acc_drop"] = 100.0 * (np.nanmax(acc) - acc[-1])
        epochs = metrics["epoch"].to_numpy()
        fall = (np.fmax.accumulate(acc) - acc)[epochs >= DIP_FROM]
        out["acc_dip"] = 100.0 * float(np.nanmax(fall)) if len(fall) else math.nan
        trained = metrics.loc[metrics["epoch"] >= 1, "val_acc"].to_numpy(dtype=float)
        out["val_acc_mean"] = float(np.nanmean(trained)) if np.isfinite(trained).any() else math.nan
    first = metrics[metrics["epoch"] == 1] if "epoch" in metrics else metrics.iloc[:0]
    if "val_acc" in first and len(first):
        out["val_acc_at_1"] = float(first["val_acc"].iloc[0])
    if steps is not None and len(steps) > 1:
        loss = steps["loss"].to_numpy(dtype=float)
        out["loss_rises"] = float(np.mean(loss[1:] > loss[:-1]))
    return out
