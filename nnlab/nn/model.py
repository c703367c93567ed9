"""A sequential model: a list of layers, with params and grads keyed ``"layers.<i>.<name>"``.

Layer indices are positions in the built list; the keys are the weight files' keys too
(one scheme everywhere: params, grads, optimizer state, final.npz). Activations, BatchNorm
and Dropout are layers of their own, Keras-like.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from . import ops
from .layers import Layer


def key(index: int, name: str) -> str:
    """The key of layer ``index``'s parameter or buffer ``name``: ``layers.0.W``."""
    return f"layers.{index}.{name}"


class Sequential:
    """Layers in order; ``forward`` keeps each layer's cache for ``backward``.

    ``eval_chunk``: rows per evaluation forward pass (smaller for CNNs, whose im2col rows
    are large; see build.py)."""

    eval_chunk = 8192

    def __init__(self, layers: list[Layer]):
        self.layers = layers

    def initialize(self, rng: np.random.Generator, dtype) -> None:
        """Draw every layer's parameters, in layer order, from one generator."""
        for layer in self.layers:
            layer.initialize(rng, dtype)

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {key(i, k): v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {key(i, k): v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    def trainable(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(params, grads) of the layers the optimizer updates (``trainable`` not False)."""
        keep = [i for i, layer in enumerate(self.layers) if getattr(layer, "trainable", True)]
        if len(keep) == len(self.layers):
            return self.params, self.grads
        params = {key(i, k): v for i in keep for k, v in self.layers[i].params.items()}
        grads = {key(i, k): v for i in keep for k, v in self.layers[i].grads.items()}
        return params, grads

    def forward(self, x, training=False, rng=None, stop: int | None = None):
        """Run layers[:stop]; returns the output and the per-layer caches. ``stop=-1``
        leaves out the output activation when the loss is fused with it (``Objective``)."""
        caches = []
        for layer in self.layers[:stop]:
            x, cache = layer.forward(x, training, rng)
            caches.append(cache)
        return x, caches

    def backward(self, dout, caches):
        """Backward through the layers that produced ``caches``; fills every layer's grads.
        A layer that splits its backward (``parameter_grads`` and ``input_grad``: Dense) has its
        parameter gradients computed beside its input gradient, which the layers below wait for
        (``ops.beside``: at once unless a trial's threads are in use; the bytes are the same)."""
        with ops.gathering():
            for layer, cache in zip(reversed(self.layers[:len(caches)]), reversed(caches), strict=True):
                if layer.backward_in_parts and not layer.skip_input_grad:
                    ops.beside(partial(layer.parameter_grads, dout, cache), cache.size * dout.shape[1])
                    dout = layer.input_grad(dout, cache)
                else:
                    dout = layer.backward(dout, cache)
        return dout

    def state_dict(self) -> dict[str, np.ndarray]:
        """Weights and buffers as ``layers.<i>.<param>`` (the .npz contract), copied."""
        out = {}
        for i, layer in enumerate(self.layers):
            for k, v in {**layer.params, **layer.buffers}.items():
                out[key(i, k)] = v.copy()
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for i, layer in enumerate(self.layers):
            for store in (layer.params, layer.buffers):
                for k in store:
                    store[k][...] = state[key(i, k)]

    def describe(self) -> str:
        return " -> ".join(repr(layer) for layer in self.layers)

    def n_params(self) -> int:
        return int(sum(v.size for v in self.params.values()))
