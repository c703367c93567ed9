"""A trained trial's summary.json content: status, best and final metrics, model, data,
timing and the diagnosis (``diagnose/``) over the recorded curves."""

from __future__ import annotations

import math

import numpy as np

from ..diagnose import diagnose, event, learned_well
from ..results.csvtext import TIMING_COLUMNS
from .evaluate import loss_spread
from .loop import FitResult
from .setup import TrialSetup


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
        ctx = setup.context()
        ctx.restored_epoch = stopper.best_epoch if restored else None
        if not divergence and "val" in setup.splits:
            ctx.val_loss_spread = loss_spread(setup, "val")
        events = diagnose(records.metrics, records.steps, ctx, after_first_step, divergence,
                          extra=[] if divergence else class_coverage(setup))
        summary["events"] = events
        learned = learned_well(records.metrics, ctx, events)
        if learned:
            summary["learned"] = learned   # the evidence that demoted unit findings (and the doctor's) to info
    except Exception as exc:  # a detector's bug must never cost the user a trained trial
        summary["events"] = [{"type": "diagnosis_error", "severity": "warn", "where": {}, "evidence": {},
                              "message": f"The diagnosis itself failed ({type(exc).__name__}: {exc}); the "
                                         f"trial's numbers are unaffected. Please report this."}]
    return summary


def class_coverage(setup: TrialSetup, split: str | None = None) -> list[dict]:
    """``classes_never_predicted``: classes that make up at least 1% of a held-out split but
    that the final model never predicts there (a ReLU or bounded output layer, a collapsed
    net): accuracy cannot exceed 1 minus their share. Error when half the classes or more."""
    from .evaluate import predict, predicted_class

    if setup.data.kind != "classification" or not setup.data.n_classes or setup.data.n_classes < 2:
        return []
    split = split or next((s for s in ("test", "val", "train") if s in setup.splits and len(setup.splits[s][0])), None)
    if split is None:
        return []
    x = setup.splits[split][0]
    out = predict(setup, x)
    if not np.all(np.isfinite(out)):
        return []
    predicted = np.bincount(predicted_class(out, "probabilities"), minlength=setup.data.n_classes)  # after the output activation
    present = np.bincount(setup.labels[split], minlength=setup.data.n_classes) / len(x)
    missing = [int(c) for c in np.flatnonzero((predicted == 0) & (present >= 0.01))]
    if not missing:
        return []
    share = float(present[missing].sum())
    severity = "error" if len(missing) >= setup.data.n_classes / 2 else "warn"
    names = ", ".join(map(str, missing[:12])) + (" ..." if len(missing) > 12 else "")
    return [event("classes_never_predicted", severity,
                  f"The final model never predicts class{'es' if len(missing) > 1 else ''} {names} on the {split} split "
                  f"({100 * share:.1f}% of its examples), so its accuracy there cannot exceed {100 * (1 - share):.1f}%. "
                  f"Likely cause: an output layer that cannot make those classes win (a relu or bounded output before "
                  f"softmax: use output: softmax on linear logits), or a collapsed network; see the events above.",
                  {"split": split}, classes=missing, missing_share=share, predicted_counts=predicted.tolist())]
