"""The detectors over one trial's curves, put together: :func:`diagnose` runs every curve and
unit detector, names the likely cause of a plateau at chance from the unit events beside
it, and :func:`settle` turns a unit or update finding into information when the run shows
that training worked anyway (:func:`learned_well`)."""

from __future__ import annotations

import math

from .context import Context, column
from .curves import divergence, init_loss, overfitting, plateau, spikes
from .events import ordered
from .thresholds import HARM, HARM_GATED, LEARNED_SHARE
from .units import gradient_events, unit_events


def diagnose(metrics: list[dict], steps: list[dict], ctx: Context, after_first_step: dict | None = None,
             diverged: dict | None = None, extra: list[dict] | tuple = ()) -> list[dict]:
    """All events for one trial, errors first. ``extra``: events found elsewhere (the classes
    the final model predicts) that count as evidence too."""
    after_first_step = after_first_step or {}
    ctx.row_epochs = [int(r.get("epoch", i)) for i, r in enumerate(metrics)]
    # a run that ended with an astronomical (finite) loss has no plateau, spikes or overfitting
    # worth naming: its curves measure nothing but the divergence
    curves = [] if diverged and diverged.get("ended") is not None else (
        spikes(steps, metrics, ctx) + plateau(metrics, ctx) + overfitting(metrics, ctx))
    events = (init_loss(metrics, ctx) + divergence(metrics, ctx, diverged) + curves
              + unit_events(metrics, ctx, after_first_step)
              + gradient_events(metrics, steps, ctx, skip_vanishing=bool(diverged)) + list(extra))
    _explain_plateau(events)
    return settle(events, learned_well(metrics, ctx, events))


def learned_well(metrics: list[dict], ctx: Context, events: list[dict]) -> str | None:
    """Evidence that training worked, in words, or None: the final training loss is at most
    LEARNED_SHARE of min(initial loss, chance level) and nothing says it stalled, diverged or
    that its gradients vanished."""
    if any((e["type"] in HARM or killed_in_training(e)) and e["severity"] != "info" for e in events):
        return None
    losses = column(metrics, "train_loss")
    if len(losses) < 2 or not math.isfinite(losses[0]) or not math.isfinite(losses[-1]):
        return None
    reference = losses[0]
    if ctx.kind == "classification" and ctx.h_prior:
        reference = min(reference, ctx.h_prior)
    elif ctx.kind == "regression" and ctx.target_var and ctx.loss == "mse":
        reference = min(reference, ctx.target_var)
    if not reference > 0 or losses[-1] > LEARNED_SHARE * reference:
        return None
    acc = metrics[-1].get("test_acc", metrics[-1].get("val_acc"))
    reached = f", test accuracy {acc:.3f}" if isinstance(acc, float) and "test_acc" in metrics[-1] else ""
    return (f"training still brought the loss to {losses[-1]:.4g}, {100 * losses[-1] / reference:.0f}% of "
            f"{'the chance level' if reference != losses[0] else 'its start'}{reached}")


def killed_in_training(e: dict) -> bool:
    """Dead units that were alive at init: training itself killed them (steps too large),
    which is harm whatever the loss reached (Adam at lr 0.03 on MNIST: 83% dead, 92.5%)."""
    evidence = e.get("evidence") or {}
    return e["type"] == "dead_units" and evidence.get("at_init", 1.0) < 0.5 * evidence.get("dead_fraction", 0.0)


def settle(events: list[dict], learned: str | None) -> list[dict]:
    """Errors first; with evidence that training worked, a unit or update finding is info
    (units that training itself killed stay as they are)."""
    if learned:
        for e in events:
            if e["type"] in HARM_GATED and e["severity"] != "info" and not killed_in_training(e):
                e["evidence"]["severity_without_outcome"] = e["severity"]
                e["severity"] = "info"
                e["message"] += f" No sign it hurt: {learned}, so this is information, not a problem."
    return ordered(events)


def _explain_plateau(events: list[dict]) -> None:
    """A plateau at chance names its likely cause from the unit events found beside it."""
    plateaus = [e for e in events if e["type"] == "plateau" and e["evidence"].get("classification") == "at_chance"]
    if not plateaus:
        return
    causes = {e["type"] for e in events}
    if "duplicate_units" in causes:
        reason = "Likely cause: symmetric (zero or constant) init, see duplicate_units; use he_normal or glorot_uniform."
    elif "dead_units" in causes:
        reason = "Likely cause: dead ReLUs pass no signal, see dead_units."
    elif "saturated_units" in causes:
        reason = "Likely cause: saturated units pass no gradient, see saturated_units."
    elif "vanishing_gradients" in causes:
        reason = "Likely cause: vanishing gradients, see vanishing_gradients."
    else:
        reason = "Likely cause: a learning rate too small or too large, or an output layer that cannot express the classes."
    plateaus[0]["message"] += " " + reason
