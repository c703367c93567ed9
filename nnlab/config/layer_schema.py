"""The layers of an explicit ``model.layers`` list, and the spec types (activations,
initializers) that the model section shares with them."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator, model_validator

from ..nn.activations import ACTIVATIONS
from ..nn.init import INITIALIZERS
from .base import Strict
from .specs import ACTIVATION_SKIP, INIT_SKIP, canonical, check_activation, check_initializer

# Sane limits, far above any study this machine can run; the memory estimate before training
# (preflight.py) catches what fits these but not the machine.
MAX_EXAMPLES = 100_000_000
MAX_WIDTH = 100_000_000

HIDDEN_ACTIVATIONS = {k: v for k, v in ACTIVATIONS.items() if k != "softmax"}


def _activation(value):
    return canonical(value, HIDDEN_ACTIVATIONS, "activation", ACTIVATION_SKIP, check_activation)


def _output(value):
    return None if value is None else canonical(value, ACTIVATIONS, "output activation", ACTIVATION_SKIP, check_activation)


def _init(value):
    return canonical(value, INITIALIZERS, "initializer", INIT_SKIP, check_initializer)


# What a YAML file may hold where a spec goes: 'leaky_relu(0.1)' or {name: leaky_relu, alpha: 0.1}
# (json_schema_input_type makes `nnlab schema` describe the input, not the canonical string).
SpecInput = Union[str, dict[str, Any]]
ActivationSpec = Annotated[str, BeforeValidator(_activation, json_schema_input_type=SpecInput)]
InitSpec = Annotated[str, BeforeValidator(_init, json_schema_input_type=SpecInput)]


def _inits(value):
    """One initializer for every weight layer, or a list with one per weight layer."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError("give an initializer, or a list with one per weight layer (e.g. [zeros, he_normal])")
        return [_init(v) for v in value]
    return _init(value)


LayerInits = Annotated[Union[str, list[str]], BeforeValidator(_inits, json_schema_input_type=Union[SpecInput, list[SpecInput]])]


class DenseLayer(Strict):
    type: Literal["dense"] = "dense"
    units: int = Field(ge=1, le=MAX_WIDTH)
    init: InitSpec | None = None       # None: the model's init
    bias_init: InitSpec | None = None  # None: the model's bias_init
    bias: bool = True                  # false: y = x W, no bias (as torch.nn.Linear(bias=False))
    trainable: bool = True             # false: the optimizer leaves this layer's weights as initialised
    l2: float | None = Field(None, ge=0)  # this layer's L2 strength (None: regularization.l2)


class ActivationLayer(Strict):
    type: Literal["activation"] = "activation"
    activation: str

    @field_validator("activation", mode="before")
    @classmethod
    def _act(cls, value):
        return canonical(value, ACTIVATIONS, "activation", ACTIVATION_SKIP, check_activation)


class BatchNormLayer(Strict):
    type: Literal["batchnorm"] = "batchnorm"
    momentum: float = Field(0.1, gt=0, le=1)  # PyTorch's default
    eps: float = Field(1e-5, gt=0)            # PyTorch's default


class DropoutLayer(Strict):
    type: Literal["dropout"] = "dropout"
    p: float = Field(ge=0, lt=1)       # share of units dropped in training
    inverted: bool = True              # false: the pre-2014 form, unscaled in training and scaled by 1-p at evaluation


Pair = Union[Annotated[int, Field(ge=1, le=1000)],
             tuple[Annotated[int, Field(ge=1, le=1000)], Annotated[int, Field(ge=1, le=1000)]]]


def pair(value) -> tuple[int, int]:
    """3 -> (3, 3); [3, 2] -> (3, 2): a kernel or stride as (height, width)."""
    return (value, value) if isinstance(value, int) else tuple(value)  # type: ignore[return-value]


class Conv2dLayer(Strict):
    type: Literal["conv2d"] = "conv2d"
    filters: int = Field(ge=1, le=100_000)   # output channels
    kernel: Pair = 3                   # n or [height, width]
    stride: Pair = 1                   # n or [height, width]
    padding: Union[Literal["same", "valid"], Annotated[int, Field(ge=0, le=1000)]] = "valid"  # valid = 0 (PyTorch's and Keras' default); same keeps the size (stride 1)
    init: InitSpec | None = None       # None: the model's init (fan_in = channels*kh*kw)
    bias_init: InitSpec | None = None  # None: the model's bias_init
    bias: bool = True                  # false: no bias (as torch.nn.Conv2d(bias=False), usual before batch norm)
    trainable: bool = True             # false: the optimizer leaves this layer's weights as initialised
    l2: float | None = Field(None, ge=0)  # this layer's L2 strength (None: regularization.l2)

    @model_validator(mode="after")
    def _same_needs_stride_1(self):
        if self.padding == "same" and pair(self.stride) != (1, 1):
            raise ValueError("padding 'same' needs stride 1 (as in PyTorch); give the padding as a number of pixels")
        return self


class PoolLayer(Strict):
    type: Literal["maxpool2d", "avgpool2d"]
    kernel: Pair = 2                   # window, n or [height, width]
    stride: Pair | None = None         # None: the window size (non-overlapping), as PyTorch
    padding: int = Field(0, ge=0)      # pixels on every side (max: -inf, avg: zeros that count), at most half the window

    @model_validator(mode="after")
    def _half_window(self):
        if self.padding > min(pair(self.kernel)) // 2:
            raise ValueError(f"{self.type}: padding {self.padding} must be at most half the window "
                             f"{pair(self.kernel)} (as in PyTorch)")
        return self


class FlattenLayer(Strict):
    type: Literal["flatten"] = "flatten"


LAYER_TYPES = ("dense", "activation", "batchnorm", "dropout", "conv2d", "maxpool2d", "avgpool2d", "flatten")
WeightLayers = (DenseLayer, Conv2dLayer)
BARE_LAYERS = ("batchnorm", "flatten", "maxpool2d", "avgpool2d")   # written as a plain string: defaults


# The field a shorthand's value gives: {dense: 128} is {type: dense, units: 128}
SHORTHAND_MAIN = {"dense": "units", "activation": "activation", "dropout": "p", "conv2d": "filters",
                  "maxpool2d": "kernel", "avgpool2d": "kernel"}


def _layer_item(item):
    """Shorthands: ``relu``, ``batchnorm``, ``flatten``, ``maxpool2d``, ``{dense: 128, init: ...}``,
    ``{conv2d: 8, kernel: 5}``, ``{maxpool2d: 2}``, ``{dropout: 0.2}``, ``{activation: relu}``,
    ``{batchnorm: {momentum: 0.1}}``; or the canonical ``{type: ...}``."""
    if isinstance(item, str):
        return {"type": item} if item in BARE_LAYERS else {"type": "activation", "activation": item}
    if isinstance(item, dict) and "type" not in item:
        kinds = [k for k in item if k in LAYER_TYPES]
        if len(kinds) != 1:
            raise ValueError(f"a layer needs exactly one of {', '.join(LAYER_TYPES)} "
                             f"(e.g. {{dense: 128}}), got keys {', '.join(map(str, item)) or 'none'}")
        kind = kinds[0]
        rest = {k: v for k, v in item.items() if k != kind}
        value = item[kind]
        main = SHORTHAND_MAIN
        if kind in main and main[kind] in rest:
            raise ValueError(f"{{{kind}: {value}}} already gives {main[kind]}; do not give {main[kind]} again")
        if kind not in main and value is not None and not isinstance(value, dict):
            raise ValueError(f"{kind} takes no value (write {kind}, or {{{kind}: {{...options}}}}), got {value!r}")
        if kind in main:
            return {"type": kind, main[kind]: value, **rest}
        return {"type": kind, **(value or {}), **rest}
    return item


def _layer_type(value):
    return value.get("type") if isinstance(value, dict) else getattr(value, "type", None)


LayerItem = Annotated[
    Annotated[Union[Annotated[DenseLayer, Tag("dense")], Annotated[ActivationLayer, Tag("activation")],
                    Annotated[BatchNormLayer, Tag("batchnorm")], Annotated[DropoutLayer, Tag("dropout")],
                    Annotated[Conv2dLayer, Tag("conv2d")], Annotated[PoolLayer, Tag("maxpool2d")],
                    Annotated[PoolLayer, Tag("avgpool2d")], Annotated[FlattenLayer, Tag("flatten")]],
              Discriminator(_layer_type)],
    BeforeValidator(_layer_item, json_schema_input_type=Union[str, dict[str, Any]]),
]
