"""The training loop's hooks (:class:`Callback`), its one reason to stop (:class:`Stop`), and
the two callbacks that end training early, as Keras has them: :class:`StopWhen` (a metric
crossed a threshold) and :class:`EarlyStopping` (the monitored metric stopped improving; it
keeps the best weights and restores them when training ends).

Observers (unit statistics, progress bars) are callbacks too; the loop calls every callback
in order, so the observers see a row before the stopping callbacks judge it. A callback asks
the loop to end by setting ``state.stop``; the loop ends at the end of that epoch, with
that reason, and nothing else sets it but divergence (the loop's own check) and running out
of epochs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Stop:
    """Why training ended, and where: ``epochs``, ``early_stopping``, ``stop_when``,
    ``diverged`` (with ``what``: the loss, a gradient or an evaluation loss) or ``budget``
    (successive halving stopped it at a rung)."""

    reason: str
    epoch: int
    step: int
    detail: dict = field(default_factory=dict)


@dataclass
class TrainingState:
    """What the loop shares with its callbacks."""

    model: object
    epochs: int                     # train.epochs
    epoch: int = 0
    step: int = 0
    stop: Stop | None = None
    weights: dict = field(default_factory=dict)   # extra weight sets to store (early stopping's best)


class Callback:
    """Hooks into the loop, in the order they are called; each is a no-op by default.
    ``step`` counts optimizer steps from 1."""

    def on_gradients(self, step: int, squares: dict[str, float]) -> None:
        """After backward of a finite step, before the update; ``squares`` maps param keys to ||g||²."""

    def on_update(self, step: int) -> None:
        """Right after the optimizer updated the weights."""

    def after_step(self, step: int) -> None:
        """After every step, finite or not (a non-finite one skipped the update)."""

    def on_step_end(self, epoch: int, step_in_epoch: int, steps_per_epoch: int, step: int, loss: float) -> None:
        """After a step was recorded (not called for the step that diverged)."""

    def epoch_columns(self, epoch: int) -> dict:
        """Extra metrics.csv columns for this epoch's row (epoch 0 is before training)."""
        return {}

    def on_epoch_end(self, row: dict, state: TrainingState) -> None:
        """After an epoch's row (epoch 0 included) was recorded; may set ``state.stop``."""

    def on_train_end(self, state: TrainingState) -> None:
        """After the last step, before the final weights are taken."""


class StopWhen(Callback):
    """``train.stop_when``: stop once a recorded metric crosses a threshold (the XOR-net habit:
    train until the MAE is below 0.3). It acts before early stopping in the same epoch, and
    the weights it judged are the ones kept (early stopping does not restore over them)."""

    def __init__(self, rule):
        self.rule = rule

    def on_epoch_end(self, row: dict, state: TrainingState) -> None:
        if state.stop is None and state.epochs and self.rule.reached(row[self.rule.metric]):
            value = row[self.rule.metric]
            state.stop = Stop("stop_when", state.epoch, state.step,
                              {"metric": self.rule.metric, "value": value, "epoch": state.epoch})


class EarlyStopping(Callback):
    """Keras-style early stopping: stop after ``patience`` epochs without an improvement of at
    least ``min_delta`` in ``monitor``; keep a copy of the best weights and, with
    ``restore_best``, load them when training ends (unless a stop rule ended it)."""

    checkpoint_key = "early_stopping"

    def __init__(self, config):
        self.config = config
        self.monitor = config.monitor
        self.mode = config.resolved_mode()
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_state: dict[str, np.ndarray] | None = None
        self.restored = False

    def on_epoch_end(self, row: dict, state: TrainingState) -> None:
        if state.epoch == 0 or state.stop is not None:
            return
        value = row[self.monitor]
        improved = (value < self.best - self.config.min_delta if self.mode == "min"
                    else value > self.best + self.config.min_delta)
        if improved:
            self.best, self.best_epoch = value, state.epoch
            self.best_state = state.model.state_dict()
        elif state.epoch - self.best_epoch >= self.config.patience:
            state.stop = Stop("early_stopping", state.epoch, state.step, {"best_epoch": self.best_epoch})

    def checkpoint_state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "arrays": dict(self.best_state or {})}

    def load_checkpoint_state(self, saved: dict) -> None:
        self.best, self.best_epoch = saved["best"], saved["best_epoch"]
        self.best_state = dict(saved["arrays"]) if saved.get("arrays") else None

    def on_train_end(self, state: TrainingState) -> None:
        if self.best_state is None:
            return
        state.weights["best"] = self.best_state
        if self.config.restore_best and not (state.stop and state.stop.reason == "stop_when"):
            state.model.load_state_dict(self.best_state)
            self.restored = True
