"""A trained trial's summary.json content: status, why training stopped, best and final
metrics, model, data, timing, and the diagnosis (``diagnose/trial.py``)."""

from __future__ import annotations

import math

import numpy as np

from ..results.csvtext import TIMING_COLUMNS
from .loop import FitResult
from .setup import TrialSetup


def public(row: dict) -> dict:
    """A metrics row without its timing columns (the parts that reproduce exactly)."""
    return {k: v for k, v in row.items() if k not in TIMING_COLUMNS}


def summarize(setup: TrialSetup, result: FitResult, after_first_step: dict, doctor_events: list[dict]) -> dict:
    records, stopper, stop = result.records, result.early_stopping, result.stop
    metrics = records.metrics
    monitor = stopper.monitor if stopper else ("val_loss" if "val" in setup.splits else "train_loss")
    better = min if (not stopper or stopper.mode == "min") else max
    trained = [r for r in metrics if r["epoch"] > 0 and math.isfinite(r.get(monitor, math.nan))] or metrics[:1]
    best = better(trained, key=lambda r: r[monitor])
    divergence = result.divergence
    # With restore_best, final.npz holds the best epoch's weights, so "final" describes them;
    # the last epoch trained is kept as "last_epoch".
    restored = bool(stopper and stopper.restored)
    final = next(r for r in metrics if r["epoch"] == stopper.best_epoch) if restored else metrics[-1]
    summary = {
        "status": "diverged" if divergence else "complete",
        "epochs_run": metrics[-1]["epoch"],
        "steps": len(records.steps),
        "best": {"monitor": monitor, **public(best)},
        "final": public(final),
        "diverged": divergence,
        "stopped_early": stop.reason == "early_stopping",
        "stop_reason": stop.reason,
        "model": {"layers": setup.model.describe(), "n_params": setup.model.n_params(),
                  "loss": setup.objective.describe()},
        "data": {"name": setup.data.name, "kind": setup.data.kind, "classes": setup.data.n_classes,
                 **{f"n_{s}": len(x) for s, (x, _) in setup.splits.items()}},
        "time_s": result.total_time,
        **({"target": "input"} if setup.exp.data.target == "input" else {}),
        "epoch_time_s": float(np.mean(result.epoch_times)) if result.epoch_times else None,
    }
    if stop.reason == "stop_when":
        summary["stop_when"] = stop.detail
    if stop.reason == "budget":   # successive halving stopped it at a rung: its rows are a prefix of the full run
        summary["budget"] = {"epochs": stop.detail["epochs"], "of": setup.exp.train.epochs}
    if restored:
        summary["restored_best_epoch"] = stopper.best_epoch
        summary["last_epoch"] = public(metrics[-1])
    summary["metric"] = setup.metric
    if after_first_step:
        summary["after_first_step"] = after_first_step
    summary["events"], learned = _diagnosis(setup, result, after_first_step, doctor_events,
                                            stopper.best_epoch if restored else None)
    if learned:
        summary["learned"] = learned   # the evidence that demoted unit findings (and the doctor's) to info
    return summary


def _diagnosis(setup, result, after_first_step, doctor_events, restored_epoch) -> tuple[list[dict], str | None]:
    from ..diagnose.trial import diagnose_trial

    found = diagnose_trial(setup, result.records.metrics, result.records.steps, after_first_step,
                           result.divergence, restored_epoch, doctor_events)
    return found.events, found.learned
