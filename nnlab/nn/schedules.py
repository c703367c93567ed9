"""Learning-rate schedules, applied per epoch as ``torch.optim.lr_scheduler`` does.

A schedule sits next to the optimizer it drives: it keeps the base rate (torch's
``initial_lr``) and, at the start of each (1-based) epoch, writes ``optimizer.lr``, the
one live copy of the rate. Epoch 1 uses the base rate. To add a schedule: subclass
:class:`Schedule`, implement ``lr_at`` and add it to ``SCHEDULES`` (and its config to
``config/schema.py``).
"""

from __future__ import annotations

import math
from typing import Protocol


class HasLearningRate(Protocol):
    lr: float


class Schedule:
    """Constant rate: lr = base_lr."""

    name = "constant"

    def __init__(self, optimizer: HasLearningRate):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr

    def lr_at(self, epoch: int) -> float:
        return self.base_lr

    def start_epoch(self, epoch: int) -> float:
        """Set the optimizer's rate for ``epoch`` and return it."""
        self.optimizer.lr = self.lr_at(epoch)
        return self.optimizer.lr


class StepLR(Schedule):
    """StepLR: lr = base_lr * gamma ** floor((epoch - 1) / every)."""

    name = "step"

    def __init__(self, optimizer: HasLearningRate, every: int = 10, gamma: float = 0.1):
        super().__init__(optimizer)
        self.every, self.gamma = every, gamma

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** ((epoch - 1) // self.every)


class ExponentialLR(Schedule):
    """ExponentialLR: lr = base_lr * gamma ** (epoch - 1)."""

    name = "exponential"

    def __init__(self, optimizer: HasLearningRate, gamma: float = 0.95):
        super().__init__(optimizer)
        self.gamma = gamma

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch - 1)


class CosineLR(Schedule):
    """CosineAnnealingLR: lr = eta_min + (base_lr - eta_min) (1 + cos(pi (epoch - 1) / t_max)) / 2."""

    name = "cosine"

    def __init__(self, optimizer: HasLearningRate, t_max: int = 10, eta_min: float = 0.0):
        super().__init__(optimizer)
        self.t_max, self.eta_min = t_max, eta_min

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * (epoch - 1) / self.t_max)) / 2


# YAML name -> class; keyword arguments are the config's fields after `name`.
SCHEDULES: dict[str, type[Schedule]] = {"step": StepLR, "exponential": ExponentialLR, "cosine": CosineLR}


def make_schedule(optimizer: HasLearningRate, name: str | None = None, **kwargs) -> Schedule:
    """The schedule named in the config (None: constant), bound to ``optimizer``."""
    if name is None:
        return Schedule(optimizer)
    return SCHEDULES[name](optimizer, **kwargs)
