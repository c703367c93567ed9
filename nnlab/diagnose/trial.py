"""``diagnose_trial``: everything the diagnosis says about one trial, in one place.

Training calls it once the loop has ended (``train/summary.py``); ``nnlab diagnose`` calls it
again over a stored trial (``rediagnose.py``), with the data and initial model rebuilt from
config.yaml and the final weights from final.npz. Both get the same events from the same
inputs: the recorded curves, the statistics after the first step, where training diverged,
the final model's predictions on a held-out split and the spread of its validation loss,
and the doctor's findings before training (settled by what training reached).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..train.evaluate import loss_spread
from ..train.setup import TrialSetup
from .coverage import class_coverage
from .events import event
from .outcome import diagnose, learned_well, settle


@dataclass
class Diagnosis:
    events: list[dict]        # the doctor's findings first, then the diagnosis's, errors first in each
    learned: str | None       # the evidence that training worked, which demoted unit findings to info


def diagnose_trial(setup: TrialSetup, metrics: list[dict], steps: list[dict], after_first_step: dict,
                   diverged: dict | None, restored_epoch: int | None, doctor_events: list[dict]) -> Diagnosis:
    """The events of one trial. ``setup.model`` holds the final weights; ``restored_epoch``:
    early stopping restored that epoch's weights (the final model does not carry what came
    after). A detector that fails is reported as a ``diagnosis_error`` event, never raised: a
    detector's bug must not cost a trained trial, nor stop ``nnlab diagnose``."""
    try:
        ctx = setup.context()
        ctx.restored_epoch = restored_epoch
        if not diverged and "val" in setup.splits:
            ctx.val_loss_spread = loss_spread(setup, "val")
        events = diagnose(metrics, steps, ctx, after_first_step, diverged,
                          extra=[] if diverged else class_coverage(setup))
        learned = learned_well(metrics, ctx, events)
    except Exception as exc:   # noqa: BLE001 - reported as an event, the numbers are unaffected
        return Diagnosis(settle(doctor_events, None) + [event(
            "diagnosis_error", "warn", f"The diagnosis itself failed ({type(exc).__name__}: {exc}); the trial's "
                                       f"numbers are unaffected. Please report this.")], None)
    return Diagnosis(settle(doctor_events, learned) + events, learned)
