"""From the model section of a config to a built :class:`Sequential`, in two plain steps.

``layer_specs(model_cfg, n_outputs)`` expands the compact form (``hidden``, ``activation``,
``batchnorm``, ``dropout``, ``output``) or the explicit ``layers:`` list into one list of
plain dicts, the output layer included; ``build_model(specs, input_dim)`` turns them into
layers. Everything that needs the model's structure (prepare.py, the doctor) reads these
specs, so the structure is derived in one place.

Spec types: ``{type: dense, units, init, bias_init, bias, trainable}`` (initializers as
``(name, kwargs)``), ``{type: activation, activation: (name, kwargs)}``,
``{type: batchnorm, momentum, eps}``, ``{type: dropout, p, inverted}``.
"""

from __future__ import annotations

from typing import Any

from ..config.specs import ACTIVATION_SKIP, INIT_SKIP, parse_spec
from ..errors import ConfigError
from .activations import ACTIVATIONS
from .init import INITIALIZERS
from .layers import BatchNorm, Dense, Dropout, Layer
from .model import Sequential

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
            if spec["type"] == "dense":
                spec["init"] = _init(spec["init"] or model_cfg.init)
                spec["bias_init"] = _init(spec["bias_init"] or model_cfg.bias_init)
            if spec["type"] == "activation":
                spec["activation"] = _activation(spec["activation"])
            specs.append(spec)
        last = [s for s in specs if s["type"] == "dense"][-1]["units"]
        if n_outputs is not None and last != n_outputs:
            raise ConfigError(f"model.layers: the last dense layer has {last} units but the task needs {n_outputs} outputs")
        return specs
    init, bias_init = _init(model_cfg.init), _init(model_cfg.bias_init)
    act = _activation(model_cfg.activation)
    specs = []
    dense = {"init": init, "bias_init": bias_init, "bias": model_cfg.bias, "trainable": True}
    for units in model_cfg.hidden:
        specs.append({"type": "dense", "units": units, **dense})
        if model_cfg.batchnorm == "before":
            specs.append({"type": "batchnorm", **BATCHNORM_DEFAULTS})
        specs.append({"type": "activation", "activation": act})
        if model_cfg.batchnorm == "after":
            specs.append({"type": "batchnorm", **BATCHNORM_DEFAULTS})
        if model_cfg.dropout:
            specs.append({"type": "dropout", "p": model_cfg.dropout, "inverted": True})
    specs.append({"type": "dense", "units": n_outputs, **dense})
    specs.append({"type": "activation", "activation": _activation(model_cfg.output)})
    return specs


def build_model(specs: list[dict], input_dim: int) -> Sequential:
    """Layers from resolved specs; dense and batchnorm layers take their width from the
    layer before."""
    layers: list[Layer] = []
    dim = input_dim
    for spec in specs:
        kind = spec["type"]
        if kind == "dense":
            layers.append(Dense(dim, spec["units"], spec["init"], spec["bias_init"], spec.get("bias", True),
                                spec.get("trainable", True)))
            dim = spec["units"]
        elif kind == "activation":
            name, kwargs = spec["activation"]
            layers.append(ACTIVATIONS[name](**kwargs))
        elif kind == "batchnorm":
            layers.append(BatchNorm(dim, spec["momentum"], spec["eps"]))
        elif kind == "dropout":
            layers.append(Dropout(spec["p"], spec.get("inverted", True)))
        else:  # the schema rejects other types before we get here
            raise ValueError(f"unknown layer type {kind!r}")
    return Sequential(layers)


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

    return [format_spec(*s["init"]) for s in specs if s["type"] == "dense"]
