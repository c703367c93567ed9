"""The training section of a config: epochs, batches, dtype, stop rules, regularisation."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, field_validator, model_validator

from .base import Strict
from .specs import suggest

SPLIT_METRICS = [f"{split}_{m}" for split in ("train", "val", "test") for m in ("loss", "acc", "mae")]


class EarlyStopping(Strict):
    monitor: str = "val_loss"           # any metrics.csv column: val_loss, val_acc, train_loss, ...
    mode: Literal["auto", "min", "max"] = "auto"  # auto: max for *acc, min otherwise
    patience: int = Field(5, ge=1)      # epochs without improvement before stopping
    min_delta: float = Field(0.0, ge=0)  # smallest change that counts as improvement
    restore_best: bool = True           # final.npz holds the best weights, as Keras' restore_best_weights

    @field_validator("monitor")
    @classmethod
    def _monitor(cls, value):
        valid = [m for m in SPLIT_METRICS if not m.startswith("test_")]
        if value not in valid:
            raise ValueError(f"cannot monitor '{value}'{suggest(value, valid)}; choose from {', '.join(valid)}")
        return value

    def resolved_mode(self) -> str:
        if self.mode != "auto":
            return self.mode
        return "max" if self.monitor.endswith("acc") else "min"


class StopWhen(Strict):
    """Stop once a recorded metric crosses a threshold, e.g. {metric: train_mae, below: 0.3}."""

    metric: str                          # any split metric: train_loss, val_acc, train_mae, ...
    below: float | None = None           # stop when metric < below
    above: float | None = None           # stop when metric > above

    @field_validator("metric")
    @classmethod
    def _metric(cls, value):
        if value not in SPLIT_METRICS:
            raise ValueError(f"cannot stop on '{value}'{suggest(value, SPLIT_METRICS)}; choose from {', '.join(SPLIT_METRICS)}")
        return value

    @model_validator(mode="after")
    def _one_threshold(self):
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of below or above, e.g. {metric: train_mae, below: 0.3}")
        return self

    def reached(self, value: float) -> bool:
        return value < self.below if self.below is not None else value > self.above  # type: ignore[operator]


class Regularization(Strict):
    l2: float = Field(0.0, ge=0)         # adds l2/2 * sum of squared weights (not biases) to the training loss


class TrainConfig(Strict):
    epochs: int = Field(10, ge=0, le=1_000_000)  # passes over the training set; 0 evaluates the initial model only
    batch_size: Union[int, Literal["full"]] = 128  # "full": full-batch gradient descent
    shuffle: bool = True                # reshuffle every epoch (from the trial's shuffle stream)
    dtype: Literal["float32", "float64"] = "float32"  # float32 is twice as fast; float64 for checks
    early_stopping: EarlyStopping | None = None  # stop when a monitored metric stops improving (Keras-style)
    stop_when: StopWhen | None = None   # stop once a metric crosses a threshold (train until train_mae < 0.3)
    extra_metrics: list[Literal["mae"]] = []  # mae for classification too (mean |output - one-hot target|)
    eval_every: int = Field(1, ge=1, le=1_000_000)  # evaluate (a metrics.csv row) every N epochs and at the last; early stopping and stop rules act on those rows
    clip_grad_norm: float | None = Field(None, gt=0)  # rescale the gradients when their global norm exceeds this (torch clip_grad_norm_)
    unit_stats: bool = True             # per-layer statistics for diagnosis (dead, saturated, duplicate units, gradients)

    @field_validator("batch_size")
    @classmethod
    def _batch(cls, value):
        if isinstance(value, int) and value < 1:
            raise ValueError(f"batch_size must be >= 1 or 'full', got {value}")
        return value
