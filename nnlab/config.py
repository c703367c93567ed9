"""The experiment schema, YAML loading, overrides and friendly errors.

``load_config(path, overrides)`` returns an :class:`Experiment` with every default filled,
or raises :class:`ConfigError` with one line naming the file, line, key path and what is
allowed. Defaults are listed one per line with the reason beside them.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag,
                      ValidationError, field_validator, model_validator)

from .data import DATASET_KINDS
from .errors import ConfigError
from .nn.activations import ACTIVATIONS
from .nn.init import INITIALIZERS
from .nn.losses import LOSSES
from .specs import canonical, parse_spec, suggest

HIDDEN_ACTIVATIONS = {k: v for k, v in ACTIVATIONS.items() if k != "softmax"}


def _activation(value):
    return canonical(value, HIDDEN_ACTIVATIONS, "activation", skip=1)


def _output(value):
    return None if value is None else canonical(value, ACTIVATIONS, "output activation", skip=1)


def _init(value):
    return canonical(value, INITIALIZERS, "initializer", skip=4)


ActivationSpec = Annotated[str, BeforeValidator(_activation)]
InitSpec = Annotated[str, BeforeValidator(_init)]


class Strict(BaseModel):
    """Unknown keys fail with the nearest valid name; nothing is silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data):
        if isinstance(data, dict):
            valid = [name for name in cls.model_fields]
            for key in data:
                if key not in cls.model_fields:
                    raise ValueError(f"unknown key '{key}'{suggest(key, valid)}; valid keys: {', '.join(valid)}")
        return data


# ---------------------------------------------------------------- data

class DataConfig(Strict):
    name: str = "mnist"               # mnist | fashion_mnist | xor | spirals | moons | blobs | regression
    root: str | None = None           # where IDX files live when $NNLAB_DATA is not set
    normalize: Literal["none", "scale", "standard"] = "scale"  # x/255 (min-max for generated sets) keeps inputs in [0, 1]
    validation: Union[int, float] = 0.1  # fraction of train held out (stratified, seeded), or a count
    subset: int | None = Field(None, ge=1)  # first N training examples after the split (overfitting studies)
    n_samples: int = Field(1000, ge=4)   # generated sets: training examples (before the validation split)
    n_test: int = Field(1000, ge=1)      # generated sets: test examples
    noise: float | None = Field(None, ge=0)  # generated sets: noise level (None: the set's own default)
    classes: int | None = Field(None, ge=2)  # blobs and spirals: number of classes (default 3)
    seed: int = Field(0, ge=0)           # generated sets: fixed across trial seeds so replicates share data

    @field_validator("name")
    @classmethod
    def _known_dataset(cls, value):
        if value not in DATASET_KINDS:
            raise ValueError(f"unknown dataset '{value}'{suggest(value, DATASET_KINDS)}; choose from {', '.join(DATASET_KINDS)}")
        return value

    @field_validator("validation")
    @classmethod
    def _validation(cls, value):
        if isinstance(value, float) and not 0 <= value < 1:
            raise ValueError(f"a validation fraction must be in [0, 1), got {value} (or give a count: validation: 5000)")
        if isinstance(value, int) and value < 0:
            raise ValueError(f"a validation count must be >= 0, got {value}")
        return value


# ---------------------------------------------------------------- model

class DenseLayer(Strict):
    type: Literal["dense"] = "dense"
    units: int = Field(ge=1)
    init: InitSpec | None = None       # None: the model's init
    bias_init: InitSpec | None = None  # None: the model's bias_init


class ActivationLayer(Strict):
    type: Literal["activation"] = "activation"
    activation: str

    @field_validator("activation", mode="before")
    @classmethod
    def _act(cls, value):
        return canonical(value, ACTIVATIONS, "activation", skip=1)


class BatchNormLayer(Strict):
    type: Literal["batchnorm"] = "batchnorm"
    momentum: float = Field(0.1, gt=0, le=1)  # PyTorch's default
    eps: float = Field(1e-5, gt=0)            # PyTorch's default


class DropoutLayer(Strict):
    type: Literal["dropout"] = "dropout"
    p: float = Field(ge=0, lt=1)


LAYER_TYPES = ("dense", "activation", "batchnorm", "dropout")


def _layer_item(item):
    """Shorthands: ``relu``, ``batchnorm``, ``{dense: 128, init: ...}``, ``{dropout: 0.2}``,
    ``{activation: relu}``, ``{batchnorm: {momentum: 0.1}}``; or the canonical ``{type: ...}``."""
    if isinstance(item, str):
        return {"type": "batchnorm"} if item == "batchnorm" else {"type": "activation", "activation": item}
    if isinstance(item, dict) and "type" not in item:
        kinds = [k for k in item if k in LAYER_TYPES]
        if len(kinds) != 1:
            raise ValueError(f"a layer needs exactly one of {', '.join(LAYER_TYPES)} "
                             f"(e.g. {{dense: 128}}), got keys {', '.join(map(str, item)) or 'none'}")
        kind = kinds[0]
        rest = {k: v for k, v in item.items() if k != kind}
        value = item[kind]
        if kind == "dense":
            return {"type": "dense", "units": value, **rest}
        if kind == "activation":
            return {"type": "activation", "activation": value, **rest}
        if kind == "dropout":
            return {"type": "dropout", "p": value, **rest}
        return {"type": "batchnorm", **(value or {}), **rest}
    return item


LayerItem = Annotated[
    Annotated[Union[Annotated[DenseLayer, Tag("dense")], Annotated[ActivationLayer, Tag("activation")],
                    Annotated[BatchNormLayer, Tag("batchnorm")], Annotated[DropoutLayer, Tag("dropout")]],
              Discriminator(lambda v: v.get("type") if isinstance(v, dict) else getattr(v, "type", None))],
    BeforeValidator(_layer_item),
]

COMPACT_FIELDS = ("hidden", "activation", "output", "batchnorm", "dropout")


class ModelConfig(Strict):
    hidden: list[Annotated[int, Field(ge=1)]] = [256, 128]  # hidden widths; [] is logistic/linear regression
    activation: ActivationSpec = "relu"     # the default that trains well with he_normal
    output: Annotated[str | None, BeforeValidator(_output)] = None  # None: softmax for CE, sigmoid for BCE, linear for mse/mae
    init: InitSpec = "he_normal"            # He et al.: keeps ReLU activations at unit scale
    bias_init: InitSpec = "zeros"           # the usual choice; symmetry is broken by W
    batchnorm: Literal["none", "before", "after"] = "none"  # relative to each hidden activation
    dropout: float = Field(0.0, ge=0, lt=1)  # after each hidden block; 0 switches it off
    layers: list[LayerItem] | None = None   # explicit Keras-like list instead of the compact form

    @model_validator(mode="after")
    def _one_form(self):
        if self.layers is not None:
            clash = [f for f in COMPACT_FIELDS if f in self.model_fields_set]
            if clash:
                raise ValueError(f"give either model.layers or the compact form ({', '.join(clash)}), not both")
            if not any(isinstance(layer, DenseLayer) for layer in self.layers):
                raise ValueError("model.layers needs at least one dense layer")
        return self

    def layer_specs(self, n_outputs: int) -> list[dict]:
        """Plain layer dicts for :func:`nnlab.nn.model.build_model` (output layer included)."""
        init, bias_init = parse_spec(self.init, INITIALIZERS, "initializer", 4), parse_spec(self.bias_init, INITIALIZERS, "initializer", 4)
        if self.layers is not None:
            specs = []
            for layer in self.layers:
                spec = layer.model_dump()
                if spec["type"] == "dense":
                    spec["init"] = parse_spec(spec["init"] or self.init, INITIALIZERS, "initializer", 4)
                    spec["bias_init"] = parse_spec(spec["bias_init"] or self.bias_init, INITIALIZERS, "initializer", 4)
                if spec["type"] == "activation":
                    spec["activation"] = parse_spec(spec["activation"], ACTIVATIONS, "activation", 1)
                specs.append(spec)
            last = [s for s in specs if s["type"] == "dense"][-1]["units"]
            if last != n_outputs:
                raise ConfigError(f"model.layers: the last dense layer has {last} units but the task needs {n_outputs} outputs")
            return specs
        act = parse_spec(self.activation, ACTIVATIONS, "activation", 1)
        specs = []
        for units in self.hidden:
            specs.append({"type": "dense", "units": units, "init": init, "bias_init": bias_init})
            if self.batchnorm == "before":
                specs.append({"type": "batchnorm", "momentum": 0.1, "eps": 1e-5})
            specs.append({"type": "activation", "activation": act})
            if self.batchnorm == "after":
                specs.append({"type": "batchnorm", "momentum": 0.1, "eps": 1e-5})
            if self.dropout:
                specs.append({"type": "dropout", "p": self.dropout})
        specs.append({"type": "dense", "units": n_outputs, "init": init, "bias_init": bias_init})
        specs.append({"type": "activation", "activation": parse_spec(self.output, ACTIVATIONS, "activation", 1)})
        return specs


# ---------------------------------------------------------------- loss, optimizer, schedule

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
        if name not in choices:
            raise ValueError(f"unknown {what} '{name}'{suggest(name, choices)}; choose from {', '.join(choices)}")
    return value


class LossConfig(Strict):
    name: str = "cross_entropy"         # cross_entropy | binary_cross_entropy | mse | mae
    reduction: Literal["mean", "sum"] = "mean"  # mean as PyTorch: per example for CE, per element otherwise

    @field_validator("name")
    @classmethod
    def _known_loss(cls, value):
        if value not in LOSSES:
            raise ValueError(f"unknown loss '{value}'{suggest(value, LOSSES)}; choose from {', '.join(LOSSES)}")
        return value


class SGDConfig(Strict):
    name: Literal["sgd"] = "sgd"
    lr: float = Field(0.01, gt=0)
    momentum: float = Field(0.0, ge=0)
    dampening: float = Field(0.0, ge=0)
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0)


class MomentumConfig(Strict):
    name: Literal["momentum"] = "momentum"
    lr: float = Field(0.01, gt=0)
    momentum: float = Field(0.9, ge=0)   # the textbook value
    dampening: float = Field(0.0, ge=0)
    weight_decay: float = Field(0.0, ge=0)


class NesterovConfig(Strict):
    name: Literal["nesterov"] = "nesterov"
    lr: float = Field(0.01, gt=0)
    momentum: float = Field(0.9, gt=0)
    weight_decay: float = Field(0.0, ge=0)


class AdamConfig(Strict):
    name: Literal["adam"] = "adam"
    lr: float = Field(0.001, gt=0)       # Kingma & Ba's default
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0)
    weight_decay: float = Field(0.0, ge=0)


class AdamWConfig(AdamConfig):
    name: Literal["adamw"] = "adamw"
    weight_decay: float = Field(0.01, ge=0)  # PyTorch's AdamW default (decoupled, not L2)


class RMSpropConfig(Strict):
    name: Literal["rmsprop"] = "rmsprop"
    lr: float = Field(0.01, gt=0)        # PyTorch's default (Keras uses 0.001)
    alpha: float = Field(0.99, gt=0, lt=1)
    eps: float = Field(1e-8, gt=0)
    momentum: float = Field(0.0, ge=0)
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


# ---------------------------------------------------------------- training

class EarlyStopping(Strict):
    monitor: str = "val_loss"           # any metrics.csv column: val_loss, val_acc, train_loss, ...
    mode: Literal["auto", "min", "max"] = "auto"  # auto: max for *acc, min otherwise
    patience: int = Field(5, ge=1)      # epochs without improvement before stopping
    min_delta: float = Field(0.0, ge=0)  # smallest change that counts as improvement
    restore_best: bool = True           # final.npz holds the best weights, as Keras' restore_best_weights

    @field_validator("monitor")
    @classmethod
    def _monitor(cls, value):
        valid = [f"{split}_{m}" for split in ("train", "val") for m in ("loss", "acc", "mae")]
        if value not in valid:
            raise ValueError(f"cannot monitor '{value}'{suggest(value, valid)}; choose from {', '.join(valid)}")
        return value

    def resolved_mode(self) -> str:
        if self.mode != "auto":
            return self.mode
        return "max" if self.monitor.endswith("acc") else "min"


class TrainConfig(Strict):
    epochs: int = Field(10, ge=0)
    batch_size: Union[int, Literal["full"]] = 128  # "full": full-batch gradient descent
    shuffle: bool = True                # reshuffle every epoch (from the trial's shuffle stream)
    dtype: Literal["float32", "float64"] = "float32"  # float32 is twice as fast; float64 for checks
    early_stopping: EarlyStopping | None = None
    unit_stats: bool = True             # per-layer statistics for diagnosis (dead, saturated, duplicate units, gradients)

    @field_validator("batch_size")
    @classmethod
    def _batch(cls, value):
        if isinstance(value, int) and value < 1:
            raise ValueError(f"batch_size must be >= 1 or 'full', got {value}")
        return value


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
            if kind not in DISTRIBUTIONS:
                raise ValueError(f"{key}: unknown distribution '{kind}'{suggest(kind, DISTRIBUTIONS)}; choose from {', '.join(DISTRIBUTIONS)}")
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

class Experiment(Strict):
    name: str = "experiment"            # the study's folder under results/
    description: str = ""               # free text, kept in config.yaml
    seed: int = Field(0, ge=0)          # spawns the init, split, shuffle, dropout and probe streams
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    loss: Annotated[LossConfig, BeforeValidator(lambda v: {"name": v} if isinstance(v, str) else v)] = LossConfig()
    optimizer: OptimizerConfig = AdamConfig()
    schedule: ScheduleConfig | None = None  # None: constant learning rate
    train: TrainConfig = TrainConfig()
    sweep: SweepConfig | None = None    # used by `nnlab sweep`; not part of a trial's identity

    @field_validator("name")
    @classmethod
    def _name(cls, value):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
            raise ValueError(f"name '{value}' must be letters, digits, '.', '_' or '-' (it names a folder)")
        return value

    @model_validator(mode="after")
    def _cross_checks(self):
        kind = DATASET_KINDS[self.data.name]
        if kind == "regression" and self.loss.name in ("cross_entropy", "binary_cross_entropy"):
            raise ValueError(f"loss.name: {self.loss.name} needs class labels, but '{self.data.name}' is a regression set; use mse or mae")
        if self.model.output is None and self.model.layers is None:
            default = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(self.loss.name, "linear")
            self.model.output = default
        if self.schedule is not None and self.schedule.name == "cosine" and self.schedule.t_max is None:
            self.schedule.t_max = max(self.train.epochs, 1)
        stop = self.train.early_stopping
        if stop is not None:
            if stop.monitor.startswith("val_") and self.data.validation == 0:
                raise ValueError(f"train.early_stopping.monitor: '{stop.monitor}' needs a validation split (data.validation > 0)")
            if stop.monitor.endswith("acc") and kind == "regression":
                raise ValueError(f"train.early_stopping.monitor: '{stop.monitor}' needs a classification set")
            if stop.monitor.endswith("mae") and kind != "regression":
                raise ValueError(f"train.early_stopping.monitor: '{stop.monitor}' is for regression sets")
        return self

    def resolved(self) -> dict:
        """Plain data with every default filled, as written to config.yaml (loadable again)."""
        data = self.model_dump(mode="json", exclude_none=False)
        if self.model.layers is not None:
            for key in COMPACT_FIELDS:
                data["model"].pop(key)
        else:
            data["model"].pop("layers")
        return data

    def config_hash(self) -> str:
        """Short SHA-256 of everything that changes the numbers (not name or description)."""
        payload = {k: v for k, v in self.resolved().items() if k not in ("name", "description", "sweep")}
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:8]


# ---------------------------------------------------------------- YAML loading

class _Loader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys and reads 1e-3 as a float (YAML 1.2 style)."""


def _mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)$|^[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def parse_yaml_value(text: str):
    """An override's value as a YAML scalar or flow collection: '0.01', '[256, 128]', 'null'."""
    try:
        return yaml.load(text, Loader=_Loader) if text.strip() else ""
    except yaml.YAMLError:
        return text


def read_yaml(path: str | Path) -> tuple[dict, dict]:
    """Read a config file: ``(data, lines)`` where lines maps key paths to 1-based lines."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    text = path.read_text()
    try:
        data = yaml.load(text, Loader=_Loader)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML error: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (name, data, model, ...), got {type(data).__name__}")
    lines: dict[tuple, int] = {}
    _collect_lines(node, (), lines)
    return data, lines


def _collect_lines(node, path: tuple, lines: dict) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = path + (key_node.value,)
            lines[key_path] = key_node.start_mark.line + 1
            _collect_lines(value_node, key_path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (str(i),)] = item.start_mark.line + 1
            _collect_lines(item, path + (str(i),), lines)


def split_override(text: str) -> tuple[str, str]:
    """'optimizer.lr=0.01' -> ('optimizer.lr', '0.01')."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*", key):
        raise ConfigError(f"override '{text}': write key.path=value, e.g. optimizer.lr=0.01")
    return key, value


def split_top_level(value: str) -> list[str]:
    """Split on commas outside brackets, parentheses and quotes: 'a,b' -> ['a', 'b'];
    '[256,128]' and 'leaky_relu(0.1)' stay whole."""
    parts, depth, quote, current = [], 0, None, []
    for ch in value:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def get_path(data: dict, key: str):
    """The value at ``a.b.c`` in nested dicts, or None where the path does not exist."""
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_path(data: dict, key: str, value) -> None:
    """Set ``a.b.c`` in nested dicts; a string shorthand ('adam') becomes {name: adam}."""
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if isinstance(child, str):
            child = {"name": child}
        elif child is None:
            child = {}
        elif not isinstance(child, dict):
            raise ConfigError(f"override {key}: {'.'.join(parts[:i + 1])} is not a mapping")
        node[part] = child
        node = child
    node[parts[-1]] = value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply 'key.path=value' overrides (one value each) to a copy of ``data``."""
    data = json.loads(json.dumps(data))
    for text in overrides:
        key, raw = split_override(text)
        values = split_top_level(raw)
        if len(values) > 1:
            raise ConfigError(f"override '{text}' lists {len(values)} values: that is a sweep axis; use `nnlab sweep`")
        set_path(data, key, parse_yaml_value(values[0]))
    return data


def validate(data: dict, source: str = "<config>", lines: dict | None = None,
             overridden: dict[str, str] | None = None) -> Experiment:
    """Validate plain data into an Experiment, or raise ConfigError naming the key path.

    ``overridden`` maps key paths that came from the command line or a sweep axis to a
    label ('override', 'sweep axis') used in place of a line number."""
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, data, source, lines or {}, overridden or {})) from None


def load_config(path: str | Path, overrides: list[str] | tuple = ()) -> Experiment:
    data, lines = read_yaml(path)
    data.setdefault("name", Path(path).stem)
    data = apply_overrides(data, list(overrides))
    overridden = {split_override(o)[0]: "override" for o in overrides}
    return validate(data, str(path), lines, overridden)


def _format_error(exc: ValidationError, data: dict, source: str, lines: dict, overridden: dict[str, str]) -> str:
    errors = exc.errors()
    # With unions pydantic reports every branch; the deepest location is the specific one.
    first = max(errors, key=lambda e: len(e["loc"]))
    path = _user_path(first["loc"], data)
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    unknown = re.match(r"unknown key '([^']+)'", message)
    if unknown:  # point at the key itself, not at its parent
        path = path + (unknown.group(1),)
    dotted = ".".join(path)
    if first["type"] not in ("value_error", "assertion_error") and "input" in first and not isinstance(first["input"], (dict, list)):
        message = f"{message} (got {first['input']!r})"
    where = source
    origin = next((o for o in overridden if dotted == o or dotted.startswith(o + ".") or o.startswith(dotted + ".")), None)
    if origin is not None:
        where = f"{source} ({overridden[origin]} {origin})"
    else:
        for depth in range(len(path), 0, -1):
            if path[:depth] in lines:
                where = f"{source}:{lines[path[:depth]]}"
                break
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {dotted or 'config'}: {message}{more}"


def _user_path(loc: tuple, data) -> tuple:
    """Drop pydantic's internal loc parts (union tags, validator names) by following the input."""
    path, node = [], data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(str(part))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(str(part))
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not _is_internal(part):
            path.append(part)
            node = None
    return tuple(path)


def _is_internal(part: str) -> bool:
    return part in OPTIMIZER_CONFIGS or part in SCHEDULE_CONFIGS or part in LAYER_TYPES or "[" in part


def dump_yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
