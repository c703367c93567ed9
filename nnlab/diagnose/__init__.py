"""Detectors of training pathologies over recorded curves and unit statistics.

``diagnose(metrics, steps, context, after_first_step, diverged)`` returns a list of events:
``{type, severity (info|warn|error), where, evidence, message}``. Detectors read raw values
with robust statistics (median, MAD), never a smoothed curve. Thresholds live in
``thresholds.py`` with their reasons.

To add a detector: write ``detector(metrics, ...) -> list[event]`` in ``curves.py`` (loss
curves) or ``units.py`` (unit and gradient statistics), add it to :func:`diagnose`, and
a row to the synthetic table in ``tests/test_diagnose.py``.
"""

from __future__ import annotations

from .context import Context, event
from .curves import divergence, init_loss, overfitting, plateau, spikes
from .thresholds import DEAD_WARN, INIT_ERROR, INIT_WARN, SEVERITY_ORDER, UNIT_ERROR, UNIT_WARN
from .units import gradient_events, unit_events

__all__ = ["Context", "DEAD_WARN", "INIT_ERROR", "INIT_WARN", "SEVERITY_ORDER", "UNIT_ERROR", "UNIT_WARN",
           "diagnose", "event"]


def diagnose(metrics: list[dict], steps: list[dict], ctx: Context, after_first_step: dict | None = None,
             diverged: dict | None = None) -> list[dict]:
    """All events for one trial, errors first."""
    after_first_step = after_first_step or {}
    ctx.row_epochs = [int(r.get("epoch", i)) for i, r in enumerate(metrics)]
    events = (init_loss(metrics, ctx) + divergence(metrics, ctx, diverged) + spikes(steps, metrics, ctx)
              + plateau(metrics, ctx) + overfitting(metrics, ctx) + unit_events(metrics, ctx, after_first_step)
              + gradient_events(metrics, steps, ctx, skip_vanishing=bool(diverged)))
    _explain_plateau(events)
    return sorted(events, key=lambda e: SEVERITY_ORDER[e["severity"]])


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
