"""A trained trial's summary.json content: status, best and final metrics, model, data,
timing and the diagnosis (``diagnose/``) over the recorded curves."""

from __future__ import annotations

import math

import numpy as np

from .diagnose import diagnose
from .fit import FitResult
from .prepare import TrialSetup
from .tabular import TIMING_COLUMNS


def public(row: dict) -> dict:
    """A metrics row without its timing columns (the parts that reproduce exactly)."""
    return {k: v for k, v in row.items() if k not in TIMING_COLUMNS}


def summarize(setup: TrialSetup, result: FitResult, after_first_step: dict) -> dict:
    records, stopper = result.records, result.stopper
    metrics = records.metrics
    monitor = stopper.monitor if stopper else ("val_loss" if "val" in setup.splits else "train_loss")
    better = min if (not stopper or stopper.mode == "min") else max
    trained = [r for r in metrics if r["epoch"] > 0 and math.isfinite(r.get(monitor, math.nan))] or metrics[:1]
    best = better(trained, key=lambda r: r[monitor])
    divergence = result.divergence.as_dict() if result.divergence else None
    # With restore_best, final.npz holds the best epoch's weights, so "final" describes them;
    # the last epoch trained is kept as "last_epoch".
    restored = bool(stopper and stopper.config.restore_best and stopper.best_state is not None
                    and not result.stopped_by_rule)
    final = next(r for r in metrics if r["epoch"] == stopper.best_epoch) if restored else metrics[-1]
    summary = {
        "status": "diverged" if divergence else "complete",
        "epochs_run": metrics[-1]["epoch"],
        "steps": len(records.steps),
        "best": {"monitor": monitor, **public(best)},
        "final": public(final),
        "diverged": divergence,
        "stopped_early": bool(stopper and stopper.stopped_epoch),
        "stop_reason": ("diverged" if divergence else "stop_when" if result.stopped_by_rule
                        else "early_stopping" if stopper and stopper.stopped_epoch else "epochs"),
        "model": {"layers": setup.model.describe(), "n_params": setup.model.n_params(),
                  "loss": setup.objective.describe()},
        "data": {"name": setup.data.name, "kind": setup.data.kind, "classes": setup.data.n_classes,
                 **{f"n_{s}": len(x) for s, (x, _) in setup.splits.items()}},
        "time_s": result.total_time,
        **({"target": "input"} if setup.exp.data.target == "input" else {}),
        "epoch_time_s": float(np.mean(result.epoch_times)) if result.epoch_times else None,
    }
    if result.stopped_by_rule:
        summary["stop_when"] = result.stopped_by_rule
    if restored:
        summary["restored_best_epoch"] = stopper.best_epoch
        summary["last_epoch"] = public(metrics[-1])
    summary["metric"] = setup.metric
    if after_first_step:
        summary["after_first_step"] = after_first_step
    try:
        summary["events"] = diagnose(records.metrics, records.steps, setup.context(), after_first_step, divergence)
    except Exception as exc:  # a detector's bug must never cost the user a trained trial
        summary["events"] = [{"type": "diagnosis_error", "severity": "warn", "where": {}, "evidence": {},
                              "message": f"The diagnosis itself failed ({type(exc).__name__}: {exc}); the "
                                         f"trial's numbers are unaffected. Please report this."}]
    return summary
