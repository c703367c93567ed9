"""Learning-rate schedules, applied per epoch as torch.optim.lr_scheduler does.

``lr_at(epoch)`` is the learning rate used during (1-based) epoch ``epoch``; epoch 1
uses the base rate.
"""

from __future__ import annotations

import math


def constant(base_lr: float, epoch: int) -> float:
    return base_lr


def step(base_lr: float, epoch: int, every: int = 10, gamma: float = 0.1) -> float:
    """StepLR: lr = base_lr * gamma ** floor((epoch - 1) / every)."""
    return base_lr * gamma ** ((epoch - 1) // every)


def exponential(base_lr: float, epoch: int, gamma: float = 0.95) -> float:
    """ExponentialLR: lr = base_lr * gamma ** (epoch - 1)."""
    return base_lr * gamma ** (epoch - 1)


def cosine(base_lr: float, epoch: int, t_max: int = 10, eta_min: float = 0.0) -> float:
    """CosineAnnealingLR: lr = eta_min + (base_lr - eta_min) (1 + cos(pi (epoch - 1) / t_max)) / 2."""
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (epoch - 1) / t_max)) / 2


SCHEDULES = {"step": step, "exponential": exponential, "cosine": cosine}
