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
    if value is None and default:
        raise ValueError(f"{what} cannot be null; name one ({', '.join(choices)}), or leave the key out for {default}")
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
    name: Literal["sgd"] = "sgd"            # torch.optim.SGD
    lr: float = Field(0.01, gt=0)           # step size (PyTorch's default)
    momentum: float = Field(0.0, ge=0, lt=1)  # the velocity's decay: at 1 or more it never forgets and grows
    dampening: float = Field(0.0, ge=0, le=1)  # share of the gradient left out of the velocity
    nesterov: bool = False                  # look-ahead momentum (needs momentum > 0)
    weight_decay: float = Field(0.0, ge=0)  # L2: adds weight_decay * w to the gradient


class MomentumConfig(Strict):
    name: Literal["momentum"] = "momentum"  # SGD with momentum 0.9
    lr: float = Field(0.01, gt=0)           # step size
    momentum: float = Field(0.9, ge=0, lt=1)  # the textbook value
    dampening: float = Field(0.0, ge=0, le=1)  # share of the gradient left out of the velocity
    weight_decay: float = Field(0.0, ge=0)  # L2: adds weight_decay * w to the gradient


class NesterovConfig(Strict):
    name: Literal["nesterov"] = "nesterov"  # SGD with Nesterov momentum 0.9
    lr: float = Field(0.01, gt=0)           # step size
    momentum: float = Field(0.9, gt=0, lt=1)  # velocity decay, in (0, 1)
    weight_decay: float = Field(0.0, ge=0)  # L2: adds weight_decay * w to the gradient


class AdamConfig(Strict):
    name: Literal["adam"] = "adam"          # torch.optim.Adam
    lr: float = Field(0.001, gt=0)       # Kingma & Ba's default
    betas: tuple[float, float] = (0.9, 0.999)  # decay of the first and second moment averages
    eps: float = Field(1e-8, gt=0)          # added outside the square root, as PyTorch
    weight_decay: float = Field(0.0, ge=0)  # L2: adds weight_decay * w to the gradient

    @field_validator("betas")
    @classmethod
    def _betas(cls, value):
        if not all(0 <= beta < 1 for beta in value):
            raise ValueError(f"betas must each be in [0, 1), got {list(value)}")
        return value


class AdamWConfig(AdamConfig):
    name: Literal["adamw"] = "adamw"        # torch.optim.AdamW
    weight_decay: float = Field(0.01, ge=0)  # PyTorch's AdamW default (decoupled, not L2)


class RMSpropConfig(Strict):
    name: Literal["rmsprop"] = "rmsprop"    # torch.optim.RMSprop
    lr: float = Field(0.01, gt=0)        # PyTorch's default (Keras uses 0.001)
    alpha: float = Field(0.99, gt=0, lt=1)  # decay of the squared-gradient average
    eps: float = Field(1e-8, gt=0)          # added outside the square root
    momentum: float = Field(0.0, ge=0, lt=1)  # momentum on the scaled step, in [0, 1)
    centered: bool = False                  # normalise by the gradient's variance, not its second moment
    weight_decay: float = Field(0.0, ge=0)  # L2: adds weight_decay * w to the gradient


class AdagradConfig(Strict):
    name: Literal["adagrad"] = "adagrad"    # torch.optim.Adagrad
    lr: float = Field(0.01, gt=0)           # step size (PyTorch's default)
    lr_decay: float = Field(0.0, ge=0)      # lr / (1 + (t - 1) lr_decay)
    eps: float = Field(1e-10, gt=0)         # added outside the square root
    initial_accumulator_value: float = Field(0.0, ge=0)  # starting sum of squared gradients
    weight_decay: float = Field(0.0, ge=0)  # L2: adds weight_decay * w to the gradient


OPTIMIZER_CONFIGS = {c.model_fields["name"].default: c for c in (
    SGDConfig, MomentumConfig, NesterovConfig, AdamConfig, AdamWConfig, RMSpropConfig, AdagradConfig)}

OptimizerConfig = Annotated[
    Annotated[Union[tuple(Annotated[c, Tag(n)] for n, c in OPTIMIZER_CONFIGS.items())],
              Discriminator(lambda v: v.get("name") if isinstance(v, dict) else getattr(v, "name", None))],
    BeforeValidator(lambda v: _named(v, "optimizer", OPTIMIZER_CONFIGS, default="adam"),
                    json_schema_input_type=Union[Literal[tuple(OPTIMIZER_CONFIGS)], Union[tuple(OPTIMIZER_CONFIGS.values())]]),
]


# ---------------------------------------------------------------- schedule

class StepSchedule(Strict):
    name: Literal["step"] = "step"          # StepLR
    every: int = Field(10, ge=1)         # epochs between cuts
    gamma: float = Field(0.1, gt=0)      # multiply lr by this at each cut


class ExponentialSchedule(Strict):
    name: Literal["exponential"] = "exponential"  # ExponentialLR
    gamma: float = Field(0.95, gt=0)     # lr *= gamma every epoch


class CosineSchedule(Strict):
    name: Literal["cosine"] = "cosine"      # CosineAnnealingLR
    t_max: int | None = Field(None, ge=1)  # None: the number of epochs (one half-cosine)
    eta_min: float = Field(0.0, ge=0)      # the rate at the end of the half-cosine


SCHEDULE_CONFIGS = {"step": StepSchedule, "exponential": ExponentialSchedule, "cosine": CosineSchedule}

ScheduleConfig = Annotated[
    Annotated[Union[tuple(Annotated[c, Tag(n)] for n, c in SCHEDULE_CONFIGS.items())],
              Discriminator(lambda v: v.get("name") if isinstance(v, dict) else getattr(v, "name", None))],
    BeforeValidator(lambda v: _named(v, "schedule", SCHEDULE_CONFIGS),
                    json_schema_input_type=Union[Literal[tuple(SCHEDULE_CONFIGS)], Union[tuple(SCHEDULE_CONFIGS.values())]]),
]
