"""The experiment schema: pydantic models with every default listed one per line and the
reason beside it. Optimizer and schedule configs live in :mod:`.optim_schema`."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ..data.datasets import DATASET_KINDS
from ..nn.losses import LOSSES
from .base import Strict
from .data_schema import DataConfig
from .identity import config_hash
from .layer_schema import MAX_WIDTH, ActivationSpec, DenseLayer, InitSpec, LayerInits, LayerItem, SpecInput, _output
from .optim_schema import AdamConfig, OptimizerConfig, ScheduleConfig
from .specs import require_choice
from .train_schema import Regularization, TrainConfig

# ---------------------------------------------------------------- data

# ---------------------------------------------------------------- model

CONV_FIELDS = ("conv", "kernel", "pool", "pool_type", "conv_dropout")
COMPACT_FIELDS = ("hidden", "activation", "output", "batchnorm", "batchnorm_momentum", "dropout", "bias", "conv", "kernel", "pool",
                  "pool_type", "conv_dropout")


class ModelConfig(Strict):
    hidden: list[Annotated[int, Field(ge=1, le=MAX_WIDTH)]] = [256, 128]  # hidden widths; [] is logistic/linear regression
    activation: ActivationSpec = "relu"     # the default that trains well with he_normal
    output: Annotated[str | None, BeforeValidator(_output, json_schema_input_type=Union[SpecInput, None])] = None  # None: softmax for CE, sigmoid for BCE, linear for mse/mae
    init: LayerInits = "he_normal"          # He et al.: keeps ReLU activations at unit scale; or one per weight layer: [zeros, he_normal]
    bias_init: InitSpec = "zeros"           # the usual choice; symmetry is broken by W
    batchnorm: Literal["none", "before", "after"] = "none"  # relative to each hidden activation
    batchnorm_momentum: float = Field(0.1, gt=0, le=1)  # running statistics' update weight, PyTorch's convention (Keras' momentum 0.99 is 0.01 here)
    dropout: float = Field(0.0, ge=0, lt=1)  # after each hidden block; 0 switches it off
    layers: list[LayerItem] | None = None   # explicit Keras-like list instead of the compact form
    bias: bool = True                       # false: dense and conv layers without bias (compact form)
    outputs: int | None = Field(None, ge=1, le=1)  # None: what the task needs; 1: a binary task's single output unit
    conv: list[Annotated[int, Field(ge=1, le=100_000)]] = []  # conv blocks' filters (image sets), before the hidden dense layers: [8, 16]
    kernel: int = Field(3, ge=1, le=1000)   # the conv blocks' square kernel, 'same' padding, stride 1
    pool: int = Field(2, ge=0, le=1000)     # each conv block ends with a pool x pool pooling; 0: none
    pool_type: Literal["max", "avg"] = "max"  # maxpool2d or avgpool2d at the end of each conv block
    conv_dropout: float = Field(0.0, ge=0, lt=1)  # dropout after each conv block's pooling (Keras-style CNNs); 0: none

    @model_validator(mode="after")
    def _one_form(self):
        if self.layers is not None:
            clash = [f for f in COMPACT_FIELDS if f in self.model_fields_set]
            if clash:
                raise ValueError(f"give either model.layers or the compact form ({', '.join(clash)}), not both")
            if not any(isinstance(layer, DenseLayer) for layer in self.layers):
                raise ValueError("model.layers needs at least one dense layer")
            if isinstance(self.init, list):
                raise ValueError("model.init: a list of initializers is for the compact form (hidden: [...]); "
                                 "with model.layers give each layer its own init")
        else:
            if isinstance(self.init, list) and len(self.init) != len(self.conv) + len(self.hidden) + 1:
                n = len(self.conv) + len(self.hidden) + 1
                raise ValueError(f"model.init lists {len(self.init)} initializers but the model has {n} weight layers "
                                 f"({len(self.conv)} conv, {len(self.hidden)} hidden, 1 output): give one per layer, or one for all")
        if self.layers is None and not self.conv:
            defaults = {f: type(self).model_fields[f].default for f in CONV_FIELDS[1:]}
            idle = [f for f, default in defaults.items() if getattr(self, f) != default]
            if idle:
                raise ValueError(f"model.{idle[0]} shapes the conv blocks: give model.conv too (e.g. conv: [8, 16])")
        if self.layers is None and self.batchnorm == "none" and self.batchnorm_momentum != 0.1:
            raise ValueError("model.batchnorm_momentum sets the batch norm layers' momentum: give model.batchnorm too "
                             "(before or after)")
        return self

    def init_label(self) -> str:
        """The init as messages name it: 'he_normal', or 'zeros, glorot_uniform, glorot_uniform' per layer."""
        return ", ".join(self.init) if isinstance(self.init, list) else self.init


# ---------------------------------------------------------------- loss

class LossConfig(Strict):
    name: str = "cross_entropy"         # cross_entropy | binary_cross_entropy | mse | mae
    reduction: Literal["mean", "sum"] = "mean"  # mean as PyTorch: per example for CE, per element otherwise

    @field_validator("name")
    @classmethod
    def _known_loss(cls, value):
        require_choice(value, LOSSES, "loss")
        return value


# ---------------------------------------------------------------- training

# ---------------------------------------------------------------- sweep

DISTRIBUTIONS = ("uniform", "log_uniform", "int", "choice")


class RandomSearch(Strict):
    n: int = Field(ge=1)                 # how many points to draw
    seed: int = Field(0, ge=0)           # the draw is reproducible and independent of trial seeds
    params: dict[str, Any]               # key.path -> [choices] | {uniform|log_uniform|int: [lo, hi]} | {choice: [...]}

    @field_validator("params")
    @classmethod
    def _distributions(cls, params):
        for key, spec in params.items():
            if isinstance(spec, list):
                if not spec:
                    raise ValueError(f"{key}: an empty list of choices")
                continue
            if not isinstance(spec, dict) or len(spec) != 1:
                raise ValueError(f"{key}: give a list of choices or one of {{{', '.join(DISTRIBUTIONS)}: ...}}")
            (kind, args), = spec.items()
            try:
                require_choice(kind, DISTRIBUTIONS, "distribution")
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
            if kind != "choice" and not (isinstance(args, list) and len(args) == 2 and all(isinstance(a, (int, float)) for a in args) and args[0] < args[1]):
                raise ValueError(f"{key}: {kind} needs [low, high] with low < high, got {args!r}")
            if kind == "log_uniform" and args[0] <= 0:
                raise ValueError(f"{key}: log_uniform needs low > 0, got {args[0]}")
        return params


class SweepConfig(Strict):
    grid: dict[str, list] = {}           # cartesian product over these axes
    zip: dict[str, list] = {}            # paired axes: i-th values go together (equal lengths)
    random: RandomSearch | None = None   # n seeded random points
    seeds: Union[int, list[Annotated[int, Field(ge=0)]], None] = None  # replicates: a list, or n for 0..n-1

    @model_validator(mode="after")
    def _shapes(self):
        for key, values in self.grid.items():
            if not values:
                raise ValueError(f"grid axis {key} has no values")
        lengths = {len(v) for v in self.zip.values()}
        if len(lengths) > 1:
            raise ValueError(f"zip axes need equal lengths, got {', '.join(f'{k}: {len(v)}' for k, v in self.zip.items())}")
        if isinstance(self.seeds, int) and self.seeds < 1:
            raise ValueError(f"seeds: give a list or a count >= 1, got {self.seeds}")
        return self

    def seed_list(self) -> list[int] | None:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else self.seeds


# ---------------------------------------------------------------- experiment

LossInput = Annotated[LossConfig, BeforeValidator(lambda v: {"name": v} if isinstance(v, str) else v,
                                                  json_schema_input_type=Union[str, LossConfig])]


IMAGE_SETS = ("mnist", "fashion_mnist", "npz")


class Experiment(Strict):
    name: str = "experiment"            # the study's folder under results/
    description: str = ""               # free text, kept in config.yaml
    seed: int = Field(0, ge=0)          # spawns the init, split, shuffle, dropout and probe streams
    data: DataConfig = DataConfig()     # which data set, its split and normalisation
    model: ModelConfig = ModelConfig()  # the network: compact MLP form or an explicit layer list
    loss: LossInput = LossConfig()  # a name (cross_entropy) or {name: mse, reduction: sum}
    optimizer: OptimizerConfig = AdamConfig()  # a name (adam) or a mapping {name: sgd, lr: 0.1, ...}
    schedule: ScheduleConfig | None = None  # None: constant learning rate
    train: TrainConfig = TrainConfig()  # epochs, batch size, dtype, early stopping, stop rules
    regularization: Regularization = Regularization()  # penalties added to the training loss
    sweep: SweepConfig | None = None    # used by `nnlab sweep`; not part of a trial's identity

    @field_validator("name")
    @classmethod
    def _name(cls, value):
        if len(value) > 100:  # folder names are capped at 255 bytes, and trial folders add a slug
            raise ValueError(f"name must be at most 100 characters (it names a folder), got {len(value)}")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
            raise ValueError(f"name '{value}' must be letters, digits, '.', '_' or '-' (it names a folder)")
        return value

    @model_validator(mode="after")
    def _cross_checks(self):
        kind = self.task_kind()
        if self.data.target == "input" and self.loss.name == "cross_entropy":
            raise ValueError("loss.name: an autoencoder (data.target: input) reconstructs its input: use mse, mae, "
                             "or binary_cross_entropy for inputs in [0, 1]")
        if kind == "regression" and self.data.target != "input" and self.loss.name in ("cross_entropy", "binary_cross_entropy"):
            table = (f" (its target column {', '.join(self.data.target)} holds numbers, so the task is regression; "
                     f"data.task: classification takes integer or text labels)") if self.data.name == "csv" else ""
            raise ValueError(f"loss.name: {self.loss.name} needs class labels, but '{self.data.name}' is a regression "
                             f"set{table}; use mse or mae")
        if self.model.output is None and self.model.layers is None:
            default = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(self.loss.name, "linear")
            self.model.output = default
        if self.schedule is not None and self.schedule.name == "cosine" and self.schedule.t_max is None:
            self.schedule.t_max = max(self.train.epochs, 1)
        if self.model.outputs == 1:
            if self.loss.name == "cross_entropy":
                raise ValueError("model.outputs: 1 needs binary_cross_entropy, mse or mae (softmax cross-entropy "
                                 "needs one unit per class)")
            if kind == "classification" and self.data.name not in ("xor", "moons") and (self.data.classes or 3) != 2:
                raise ValueError("model.outputs: 1 is for binary tasks (two classes, e.g. xor or moons)")
        self._check_shapes()
        rule = self.train.stop_when
        if rule is not None:
            if rule.metric.endswith("_mae") and kind == "classification" and "mae" not in self.train.extra_metrics:
                self.train.extra_metrics = ["mae"]  # the rule reads it, so it is recorded
            if rule.metric.startswith("val_") and self.data.validation == 0:
                raise ValueError(f"train.stop_when.metric: '{rule.metric}' needs a validation split (data.validation > 0)")
            if rule.metric.endswith("_acc") and kind == "regression":
                raise ValueError(f"train.stop_when.metric: '{rule.metric}' needs a classification set")
        stop = self.train.early_stopping
        if stop is not None:
            if stop.monitor.startswith("val_") and self.data.validation == 0:
                raise ValueError(f"train.early_stopping.monitor: '{stop.monitor}' needs a validation split (data.validation > 0)")
            if stop.monitor.endswith("acc") and kind == "regression":
                raise ValueError(f"train.early_stopping.monitor: '{stop.monitor}' needs a classification set")
            if stop.monitor.endswith("mae") and kind != "regression" and "mae" not in self.train.extra_metrics:
                raise ValueError(f"train.early_stopping.monitor: '{stop.monitor}' is for regression sets (or add train.extra_metrics: [mae])")
        return self

    def _check_shapes(self) -> None:
        """Image layers need image data, and every layer must take what the one before hands on."""
        from ..errors import ConfigError
        from ..nn.build import layer_specs, shapes, uses_images

        try:
            specs = layer_specs(self.model, None)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        if not uses_images(specs):
            return
        if self.data.name not in IMAGE_SETS:
            raise ValueError(f"model: conv2d and pooling layers need images (data.name: {', '.join(IMAGE_SETS)}), "
                             f"not '{self.data.name}'")
        if self.data.name == "npz":
            from pathlib import Path

            from ..data.arrays import inspect_arrays

            image = inspect_arrays(Path(self.data.path), self.data.task).image_shape  # type: ignore[arg-type]
            if image is None:
                raise ValueError(f"model: conv2d and pooling layers need images, but {self.data.path} holds flat rows "
                                 f"(N, features); save images as (N, H, W) or (N, C, H, W)")
        else:
            image = (1, *(self.data.resize or (28, 28)))
        try:
            shapes(specs, image, explicit=self.model.layers is not None)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    def task_kind(self) -> str:
        """'classification' or 'regression' (an autoencoder's targets are its inputs: regression;
        a CSV table's task was resolved from its target column)."""
        if self.data.target == "input":
            return "regression"
        return self.data.task if self.data.name in ("csv", "npz") else DATASET_KINDS[self.data.name]

    def resolved(self) -> dict:
        """Plain data with every default filled, as written to config.yaml (loadable again)."""
        data = self.model_dump(mode="json", exclude_none=False)
        if self.model.layers is not None:
            for key in COMPACT_FIELDS:
                data["model"].pop(key)
        else:
            data["model"].pop("layers")
            if not self.model.conv:  # an MLP: the conv blocks' keys would be idle (and are refused as such)
                for key in CONV_FIELDS:
                    data["model"].pop(key)
        return data

    def config_hash(self) -> str:
        """Short SHA-256 of everything that changes the numbers (config/identity.py)."""
        return config_hash(self.resolved())
