"""What detectors share: the trial's :class:`Context` and column helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Context:
    """What the detectors need to know about the trial besides its curves."""

    kind: str = "classification"      # or regression
    n_classes: int | None = None
    h_prior: float | None = None      # entropy of the training labels (ln C when balanced)
    majority_share: float | None = None
    target_var: float | None = None   # regression: Var(y), the error of predicting the mean
    loss: str = "cross_entropy"
    loss_reads: str = "logits"
    lr: float = 0.001
    optimizer: str = "adam"
    init: str = "he_normal"
    epochs: int = 10
    layers: dict[int, str] = field(default_factory=dict)       # index -> 'layer 1 (relu after dense 0, 256 units)'
    layer_units: dict[int, int] = field(default_factory=dict)  # dense index -> units
    layer_sizes: dict[int, int] = field(default_factory=dict)  # dense index -> W.size
    inputs_nonnegative: bool = False  # e.g. min-max scaled: a zero-bias unit with all-negative weights never fires
    eval_every: int = 1               # train.eval_every: metrics rows are epochs 0, k, 2k, ... and the last
    batch_size: int = 32              # examples per step (the whole training set for 'full')
    reduction: str = "mean"           # loss.reduction: 'sum' scales every gradient by the batch size
    weight_decay: float = 0.0         # optimizer.weight_decay
    l2: float = 0.0                   # regularization.l2 (added to the gradient as l2 * W)
    n_val: int = 0                    # validation examples: how noisy the validation loss is
    val_loss_spread: float | None = None  # std of the per-example validation loss (final model), if measured
    restored_epoch: int | None = None   # early stopping restored this epoch's weights (final.npz holds them)
    row_epochs: list[int] = field(default_factory=list)  # the epoch of each metrics row (set by diagnose)

    def step_cause(self) -> str:
        """Why steps are too large, in words: a summed loss, a weight decay that flips the
        weights, or else the learning rate."""
        causes = []
        from ..nn.optim import optimizer_info

        info = optimizer_info(self.optimizer)
        if self.reduction == "sum" and self.batch_size > 1 and info.plain_steps:
            causes.append(f"loss.reduction: sum multiplies every gradient by the batch size ({self.batch_size}), so "
                          f"lr={self.lr:g} steps like lr={self.lr * self.batch_size:g} with mean; use reduction: mean "
                          f"(or divide lr by {self.batch_size})")
        decay = max(self.weight_decay if info.decay_shrinks_weights else 0.0, self.l2 if info.plain_steps else 0.0)
        if self.lr * decay >= 1:
            causes.append(f"weight decay: lr x decay = {self.lr * decay:g} >= 1, so each step multiplies the weights by "
                          f"1 - lr*decay = {1 - self.lr * decay:g} (it flips and grows them instead of shrinking them); "
                          f"keep lr*decay well below 1")
        if not causes:
            causes.append(f"a learning rate too high for {self.optimizer} (lr={self.lr:g}); try lr/10")
        return "; ".join(causes)

    def at(self, row: int) -> int:
        """The epoch a metrics row holds (rows and epochs coincide unless train.eval_every > 1)."""
        return self.row_epochs[row] if row < len(self.row_epochs) else row


def column(rows: list[dict], key: str) -> np.ndarray:
    """One metrics column as float64, missing values as NaN."""
    return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows], dtype=np.float64)


def layer_keys(rows: list[dict], prefix: str) -> list[int]:
    """Layer indices that have a ``<prefix>/<i>`` column."""
    keys = {k for r in rows for k in r if k.startswith(prefix + "/")}
    return sorted(int(k.split("/")[1]) for k in keys)


def episodes(positions: list[int], gap: int) -> int:
    """Bursts in a sorted list of steps or epochs: members closer than ``gap`` share a burst."""
    return sum(1 for i, p in enumerate(positions) if i == 0 or p - positions[i - 1] > gap)
