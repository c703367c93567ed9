"""From the model section of a config to a built :class:`Sequential`, in two plain steps.

``layer_specs(model_cfg, n_outputs)`` expands the compact form (``hidden``, ``activation``,
``batchnorm``, ``dropout``, ``output``) or the explicit ``layers:`` list into one list of
plain dicts, the output layer included; ``build_model(specs, input_dim)`` turns them into
layers. Everything that needs the model's structure (train/setup.py, the doctor) reads these
specs, so the structure is derived in one place.

Spec types: ``{type: dense, units, init, bias_init, bias, trainable, l2}`` (initializers as
``(name, kwargs)``), ``{type: conv2d, filters, kernel, stride, padding, init, bias_init, bias,
trainable, l2}``, ``{type: maxpool2d | avgpool2d, kernel, stride, padding}``,
``{type: flatten}``, ``{type: activation, activation: (name, kwargs)}``,
``{type: batchnorm, momentum, eps}`` (per feature after a dense layer, per channel after a
conv: BatchNorm2d, chosen by the shape it receives), ``{type: dropout, p, inverted}``.

Shapes: a flat input is an int (features), an image input a tuple (channels, height, width).
:func:`shapes` walks them through the specs and names the first layer that cannot take its
input, so a config error shows before any data is loaded.
"""

from __future__ import annotations

from typing import Any

from ..config.specs import ACTIVATION_SKIP, INIT_SKIP, parse_spec
from ..errors import ConfigError
from .activations import ACTIVATIONS
from .conv import AvgPool2d, BatchNorm2d, Conv2d, Flatten, MaxPool2d, same_padding
from .init import INITIALIZERS
from .layers import BatchNorm, Dense, Dropout, Layer
from .model import Sequential

Shape = int | tuple[int, int, int]
SPATIAL = ("conv2d", "maxpool2d", "avgpool2d")
# Rows per evaluation forward pass: at most this many floats in the largest intermediate
# (a conv layer's im2col rows), so a CNN evaluates in chunks of bounded memory.
EVAL_FLOATS = 1 << 24
MAX_EVAL_CHUNK = 8192

# What the compact form inserts for `batchnorm: before|after`: torch.nn.BatchNorm1d's defaults.
BATCHNORM_DEFAULTS = {"momentum": 0.1, "eps": 1e-5}


def _init(value) -> tuple[str, dict]:
    return parse_spec(value, INITIALIZERS, "initializer", INIT_SKIP)


def _activation(value) -> tuple[str, dict]:
    return parse_spec(value, ACTIVATIONS, "activation", ACTIVATION_SKIP)


def layer_specs(model_cfg: Any, n_outputs: int | None) -> list[dict]:
    """Plain layer dicts for :func:`build_model`, output layer included.

    With explicit ``layers`` the last dense layer must have ``n_outputs`` units (pass None
    to skip that check, e.g. for static checks that only need the structure)."""
    if model_cfg.layers is not None:
        specs = []
        for layer in model_cfg.layers:
            spec = layer.model_dump()
            if spec["type"] in ("dense", "conv2d"):
                spec["init"] = _init(spec["init"] or model_cfg.init)
                spec["bias_init"] = _init(spec["bias_init"] or model_cfg.bias_init)
            if spec["type"] == "activation":
                spec["activation"] = _activation(spec["activation"])
            specs.append(spec)
        last = [s for s in specs if s["type"] == "dense"][-1]["units"]
        if n_outputs is not None and last != n_outputs:
            raise ConfigError(f"model.layers: the last dense layer has {last} units but the task needs {n_outputs} outputs")
        return specs
    bias_init = _init(model_cfg.bias_init)
    n_weights = len(getattr(model_cfg, "conv", [])) + len(model_cfg.hidden) + 1
    inits = [_init(v) for v in model_cfg.init] if isinstance(model_cfg.init, list) else [_init(model_cfg.init)] * n_weights
    act = _activation(model_cfg.activation)
    specs = []
    dense = {"bias_init": bias_init, "bias": model_cfg.bias, "trainable": True, "l2": None}
    for filters in getattr(model_cfg, "conv", []):
        specs.append({"type": "conv2d", "filters": filters, "kernel": model_cfg.kernel, "stride": 1, "padding": "same",
                      "init": inits[_weights(specs)], **dense})
        _block_end(specs, model_cfg, act)
        if model_cfg.pool:
            specs.append({"type": f"{model_cfg.pool_type}pool2d", "kernel": model_cfg.pool, "stride": None, "padding": 0})
        if getattr(model_cfg, "conv_dropout", 0.0):
            specs.append({"type": "dropout", "p": model_cfg.conv_dropout, "inverted": True})
    if getattr(model_cfg, "conv", []):
        specs.append({"type": "flatten"})
    for units in model_cfg.hidden:
        specs.append({"type": "dense", "units": units, "init": inits[_weights(specs)], **dense})
        _block_end(specs, model_cfg, act)
        if model_cfg.dropout:
            specs.append({"type": "dropout", "p": model_cfg.dropout, "inverted": True})
    specs.append({"type": "dense", "units": n_outputs, "init": inits[_weights(specs)], **dense})
    specs.append({"type": "activation", "activation": _activation(model_cfg.output)})
    return specs


def _weights(specs: list[dict]) -> int:
    return sum(s["type"] in ("dense", "conv2d") for s in specs)


def _block_end(specs: list[dict], model_cfg: Any, act: tuple[str, dict]) -> None:
    """What follows a block's dense or conv layer: the activation, with batch norm before or after."""
    norm = {**BATCHNORM_DEFAULTS, "momentum": getattr(model_cfg, "batchnorm_momentum", BATCHNORM_DEFAULTS["momentum"])}
    if model_cfg.batchnorm == "before":
        specs.append({"type": "batchnorm", **norm})
    specs.append({"type": "activation", "activation": act})
    if model_cfg.batchnorm == "after":
        specs.append({"type": "batchnorm", **norm})


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _pads(spec: dict) -> tuple[int, int, int, int]:
    padding = spec["padding"]
    if padding == "same":
        return same_padding(_pair(spec["kernel"]))
    return (0, 0, 0, 0) if padding == "valid" else (padding,) * 4


def _make(spec: dict, shape: Shape, where: str) -> tuple[Layer, Shape]:
    """One layer for ``spec`` given its input shape, and its output shape (ConfigError if it cannot take it)."""
    kind = spec["type"]
    image = isinstance(shape, tuple)
    if kind in SPATIAL and not image:
        raise ConfigError(f"{where}: {kind} needs images (channels x height x width), but it gets {shape} flat "
                          f"features; image layers work on mnist, fashion_mnist or an npz of images, before any flatten")
    if kind == "dense" and image:
        c, h, w = shape  # type: ignore[misc]
        raise ConfigError(f"{where}: dense after an image layer needs a flatten first ({c}x{h}x{w} -> {c * h * w} "
                          f"features): add flatten before it")
    layer: Layer
    if kind == "dense":
        layer = Dense(shape, spec["units"], spec["init"], spec["bias_init"], spec.get("bias", True),  # type: ignore[arg-type]
                      spec.get("trainable", True))
        out: Shape = spec["units"]
    elif kind == "conv2d":
        layer = Conv2d(shape[0], spec["filters"], _pair(spec["kernel"]), _pair(spec["stride"]), _pads(spec),  # type: ignore[index]
                       spec["init"], spec["bias_init"], spec.get("bias", True), spec.get("trainable", True))
        out = layer.output_shape(shape)  # type: ignore[arg-type]
    elif kind in ("maxpool2d", "avgpool2d"):
        pool = MaxPool2d if kind == "maxpool2d" else AvgPool2d
        layer = pool(_pair(spec["kernel"]), None if spec["stride"] is None else _pair(spec["stride"]), spec["padding"])
        out = layer.output_shape(shape)  # type: ignore[arg-type]
    elif kind == "flatten":
        layer, out = Flatten(), (shape[0] * shape[1] * shape[2] if image else shape)  # type: ignore[index]
    elif kind == "activation":
        name, kwargs = spec["activation"]
        layer, out = ACTIVATIONS[name](**kwargs), shape
    elif kind == "batchnorm":
        layer = BatchNorm2d(shape[0], spec["momentum"], spec["eps"]) if image else BatchNorm(shape, spec["momentum"], spec["eps"])  # type: ignore[index,arg-type]
        out = shape
    elif kind == "dropout":
        layer, out = Dropout(spec["p"], spec.get("inverted", True)), shape
    else:  # the schema rejects other types before we get here
        raise ValueError(f"unknown layer type {kind!r}")
    if isinstance(out, tuple) and min(out[1:]) < 1:
        raise ConfigError(f"{where}: {kind} leaves no pixels ({shape[1]}x{shape[2]} in, {out[1]}x{out[2]} out): "  # type: ignore[index]
                          f"the images are too small for its kernel and stride; pad, or use fewer pooling layers")
    return layer, out


def _where(model_cfg_explicit: bool, i: int, spec: dict) -> str:
    return f"model.layers[{i}]" if model_cfg_explicit else f"model ({spec['type']} layer {i})"


def build_model(specs: list[dict], input_shape: Shape, explicit: bool = True) -> Sequential:
    """Layers from resolved specs; each takes its input size from the layer before (dense
    widths, conv channels, batch norm per feature or per channel)."""
    layers: list[Layer] = []
    shape, largest = input_shape, _size(input_shape)
    for i, spec in enumerate(specs):
        layer, out = _make(spec, shape, _where(explicit, i, spec))
        if isinstance(layer, Conv2d):
            kh, kw = layer.kernel
            largest = max(largest, _size(out) // layer.filters * shape[0] * kh * kw)  # type: ignore[index]
        layers.append(layer)
        shape, largest = out, max(largest, _size(out))
    if layers and isinstance(layers[0], (Conv2d, Dense)):
        layers[0].skip_input_grad = True   # nothing reads the gradient with respect to the data
    model = Sequential(layers)
    if uses_images(specs):  # MLPs keep 8192 rows: their evaluation sums (and bytes) stay as they were
        model.eval_chunk = max(1, min(MAX_EVAL_CHUNK, EVAL_FLOATS // largest))
    return model


def _size(shape: Shape) -> int:
    return shape[0] * shape[1] * shape[2] if isinstance(shape, tuple) else shape


def shapes(specs: list[dict], input_shape: Shape, explicit: bool = True) -> list[Shape]:
    """Each layer's output shape (ConfigError naming the first layer that cannot take its input)."""
    out, shape = [], input_shape
    for i, spec in enumerate(specs):
        _, shape = _make(spec, shape, _where(explicit, i, spec))
        out.append(shape)
    return out


def uses_images(specs: list[dict]) -> bool:
    """True when the model starts on images: it has a conv or pooling layer."""
    return any(spec["type"] in SPATIAL for spec in specs)


def output_activation(specs: list[dict]) -> str:
    """Name of the last activation if the model ends with one, else 'linear'."""
    last = specs[-1]
    return last["activation"][0] if last["type"] == "activation" else "linear"


def hidden_activations(specs: list[dict]) -> list[str]:
    """Names of the activations other than the output one, in order."""
    names = [s["activation"][0] for s in specs if s["type"] == "activation"]
    return names[:-1] if specs[-1]["type"] == "activation" else names


def dense_inits(specs: list[dict]) -> list[str]:
    """Each dense layer's initializer as written in configs, e.g. 'normal(std=1.0, mean=0.0)'."""
    from ..config.specs import format_spec

    return [format_spec(*s["init"]) for s in specs if s["type"] in ("dense", "conv2d")]
