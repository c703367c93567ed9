"""Optimizer and learning-rate schedule configs: one model per name, chosen by ``name``
(``optimizer: adam`` is shorthand for ``optimizer: {name: adam}``)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator

from .base import Strict
from .specs import require_choice


def _named(value, what: str, choices, default: str | None = None):
    """Accept ``adam`` for ``{name: adam}``; check the name early for a kind message.
    A mapping without a name (``optimizer: {lr: 0.01}``) gets the default one."""
    if isinstance(value, str):
        value = {"name": value}
    if isinstance(value, dict):
        if default and "name" not in value:
            value = {"name": default, **value}
        name = value.get("name")
        if name is None:
            raise ValueError(f"{what} needs a name; choose from {', '.join(choices)}")
        require_choice(name, choices, what)
    return value


# ---------------------------------------------------------------- optimizer

class SGDConfig(Strict):
    name: Literal["sgd"] = "sgd"
    lr: float = Field(0.01, gt=0)
    momentum: float = Field(0.0, ge=0, lt=1)  # the velocity's decay: at 1 or more it never forgets and grows
    dampening: float = Field(0.0, ge=0, le=1)
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0)


class MomentumConfig(Strict):
    name: Literal["momentum"] = "momentum"
    lr: float = Field(0.01, gt=0)
    momentum: float = Field(0.9, ge=0, lt=1)  # the textbook value
    dampening: float = Field(0.0, ge=0, le=1)
    weight_decay: float = Field(0.0, ge=0)


class NesterovConfig(Strict):
    name: Literal["nesterov"] = "nesterov"
    lr: float = Field(0.01, gt=0)
    momentum: float = Field(0.9, gt=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)


class AdamConfig(Strict):
    name: Literal["adam"] = "adam"
    lr: float = Field(0.001, gt=0)       # Kingma & Ba's default
    betas: tuple[float, float] = (0.9, 0.999)  # decay of the first and second moment averages
    eps: float = Field(1e-8, gt=0)
    weight_decay: float = Field(0.0, ge=0)

    @field_validator("betas")
    @classmethod
    def _betas(cls, value):
        if not all(0 <= beta < 1 for beta in value):
            raise ValueError(f"betas must each be in [0, 1), got {list(value)}")
        return value


class AdamWConfig(AdamConfig):
    name: Literal["adamw"] = "adamw"
    weight_decay: float = Field(0.01, ge=0)  # PyTorch's AdamW default (decoupled, not L2)


class RMSpropConfig(Strict):
    name: Literal["rmsprop"] = "rmsprop"
    lr: float = Field(0.01, gt=0)        # PyTorch's default (Keras uses 0.001)
    alpha: float = Field(0.99, gt=0, lt=1)
    eps: float = Field(1e-8, gt=0)
    momentum: float = Field(0.0, ge=0, lt=1)
    centered: bool = False
    weight_decay: float = Field(0.0, ge=0)


class AdagradConfig(Strict):
    name: Literal["adagrad"] = "adagrad"
    lr: float = Field(0.01, gt=0)
    lr_decay: float = Field(0.0, ge=0)
    eps: float = Field(1e-10, gt=0)
    initial_accumulator_value: float = Field(0.0, ge=0)
    weight_decay: float = Field(0.0, ge=0)


OPTIMIZER_CONFIGS = {c.model_fields["name"].default: c for c in (
    SGDConfig, MomentumConfig, NesterovConfig, AdamConfig, AdamWConfig, RMSpropConfig, AdagradConfig)}

OptimizerConfig = Annotated[
    Annotated[Union[tuple(Annotated[c, Tag(n)] for n, c in OPTIMIZER_CONFIGS.items())],
              Discriminator(lambda v: v.get("name") if isinstance(v, dict) else getattr(v, "name", None))],
    BeforeValidator(lambda v: _named(v, "optimizer", OPTIMIZER_CONFIGS, default="adam")),
]


# ---------------------------------------------------------------- schedule

class StepSchedule(Strict):
    name: Literal["step"] = "step"
    every: int = Field(10, ge=1)         # epochs between cuts
    gamma: float = Field(0.1, gt=0)      # multiply lr by this at each cut


class ExponentialSchedule(Strict):
    name: Literal["exponential"] = "exponential"
    gamma: float = Field(0.95, gt=0)     # lr *= gamma every epoch


class CosineSchedule(Strict):
    name: Literal["cosine"] = "cosine"
    t_max: int | None = Field(None, ge=1)  # None: the number of epochs (one half-cosine)
    eta_min: float = Field(0.0, ge=0)


SCHEDULE_CONFIGS = {"step": StepSchedule, "exponential": ExponentialSchedule, "cosine": CosineSchedule}

ScheduleConfig = Annotated[
    Annotated[Union[tuple(Annotated[c, Tag(n)] for n, c in SCHEDULE_CONFIGS.items())],
              Discriminator(lambda v: v.get("name") if isinstance(v, dict) else getattr(v, "name", None))],
    BeforeValidator(lambda v: _named(v, "schedule", SCHEDULE_CONFIGS)),
]
