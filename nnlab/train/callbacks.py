"""The :class:`Callback` hooks of the training loop (``fit.py``): observers such as unit
statistics (``stats.UnitStats``) and progress bars (``console.TrainingProgress``)."""

from __future__ import annotations


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

    def on_epoch_end(self, row: dict) -> None:
        """After an epoch's row (epoch 0 included) was recorded."""
