"""The :class:`Layer` contract, and the layers with parameters or randomness: Dense,
BatchNorm, Dropout (activations are layers too, in ``activations.py``).

Each layer owns ``params`` and ``grads`` (same keys), and ``buffers`` for state that is
not trained (BatchNorm's running statistics). ``out, cache = forward(x, training, rng)``
sits beside ``dx = backward(dout, cache)``, which writes the parameter gradients into
``grads`` (arrays allocated once and reused).

To add a layer: subclass :class:`Layer`, give it a ``name``, ``forward`` and ``backward``
(and ``initialize`` if it has parameters), add a row to the gradient check table in
``tests/nn/test_gradcheck.py``, and a spec type in ``nn/build.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .init import INITIALIZERS
from .ops import matmul


class Layer:
    """Base class: ``params``/``grads`` keyed alike, ``buffers`` for untrained state.

    ``forward(x, training, rng) -> (out, cache)``; ``backward(dout, cache) -> dx`` fills
    ``grads``. ``rng`` is the trial's dropout stream (only layers that draw use it)."""

    name = "layer"
    backward_in_parts = False   # True: backward = parameter_grads(dout, cache), then dx = input_grad(dout, cache)
    skip_input_grad = False     # the network's first weight layer: nothing reads dx

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}

    def initialize(self, rng: np.random.Generator, dtype) -> None:
        """Allocate (and draw) parameters; layers without any keep the default no-op."""

    def forward(self, x: np.ndarray, training: bool = False,
                rng: np.random.Generator | None = None) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        raise NotImplementedError

    def parameter_grads(self, dout: np.ndarray, cache: Any) -> None:
        """With ``backward_in_parts``: the first part of backward, filling ``grads``."""
        raise NotImplementedError

    def input_grad(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        """With ``backward_in_parts``: the second part of backward, dx."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class Dense(Layer):
    """Fully connected: x (N, fan_in) -> y (N, units); y = x @ W + b (torch.nn.Linear).

    W has shape (fan_in, units), i.e. the transpose of torch's ``weight``.
    Backward: dW = x^T dout, db = sum_n dout, dx = dout W^T.
    ``bias=False`` drops b (y = x @ W); ``trainable=False`` keeps the layer's parameters out
    of the optimizer (its gradients are still computed, for the layers before it).
    ``skip_input_grad`` (set for a network's first layer) leaves dx out: nothing reads it.
    ``backward`` is :meth:`parameter_grads` then :meth:`input_grad`; the model may run the
    first beside the second (``Sequential.backward``), since neither reads what the other writes.
    """

    name = "dense"
    backward_in_parts = True

    def __init__(self, fan_in: int, units: int, init: tuple = ("he_normal", {}),
                 bias_init: tuple = ("zeros", {}), bias: bool = True, trainable: bool = True):
        super().__init__()
        self.fan_in, self.units = fan_in, units
        self.init, self.bias_init = init, bias_init
        self.bias, self.trainable = bias, trainable
        self.skip_input_grad = False

    def initialize(self, rng: np.random.Generator, dtype) -> None:
        init_name, init_kwargs = self.init
        bias_name, bias_kwargs = self.bias_init
        w = INITIALIZERS[init_name](self.fan_in, self.units, rng, dtype, **init_kwargs)
        self.params = {"W": w}
        if self.bias:
            self.params["b"] = INITIALIZERS[bias_name](1, self.units, rng, dtype, **bias_kwargs)[0]
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, training=False, rng=None):
        out = matmul(x, self.params["W"])
        if self.bias:
            out += self.params["b"]
        return out, x

    def backward(self, dout, cache):
        self.parameter_grads(dout, cache)
        return None if self.skip_input_grad else self.input_grad(dout, cache)

    def parameter_grads(self, dout, cache) -> None:
        """dW = x^T dout (its rows are input features, never the batch it sums over), db = sum_n dout."""
        matmul(cache.T, dout, out=self.grads["W"])
        if self.bias:
            np.sum(dout, axis=0, out=self.grads["b"])

    def input_grad(self, dout, cache) -> np.ndarray:
        """dx = dout W^T."""
        return matmul(dout, self.params["W"].T)

    def __repr__(self) -> str:
        extra = ("" if self.bias else ", no bias") + ("" if self.trainable else ", frozen")
        return f"dense({self.fan_in}->{self.units}{extra})"


class BatchNorm(Layer):
    """Batch normalisation over the batch axis, as torch.nn.BatchNorm1d.

    x (N, D) -> (N, D). Training: mu, var = batch mean and *biased* batch variance,
    xhat = (x - mu) / sqrt(var + eps), y = gamma * xhat + beta, and the running
    statistics move by ``momentum``: running = (1 - momentum) * running + momentum * stat,
    with the *unbiased* variance (var * N / (N - 1)) for running_var.
    Evaluation: y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta.
    Defaults momentum 0.1, eps 1e-5, gamma = 1, beta = 0, running_mean = 0, running_var = 1.
    """

    name = "batchnorm"

    def __init__(self, dim: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.dim, self.momentum, self.eps = dim, momentum, eps

    def initialize(self, rng: np.random.Generator | None, dtype) -> None:
        self.params = {"gamma": np.ones(self.dim, dtype), "beta": np.zeros(self.dim, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(self.dim, dtype),
                        "running_var": np.ones(self.dim, dtype)}

    def forward(self, x, training=False, rng=None):
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not training:
            inv_std = 1 / np.sqrt(self.buffers["running_var"] + x.dtype.type(self.eps))
            xhat = (x - self.buffers["running_mean"]) * inv_std
            return gamma * xhat + beta, (xhat, inv_std, False)
        n = x.shape[0]
        if n < 2:
            # torch raises here too: one example has no variance to normalise by.
            raise ValueError("BatchNorm needs more than 1 example per batch in training "
                             "(batch_size 1, or a last batch of 1: change batch_size)")
        mu = x.mean(axis=0)
        centered = x - mu
        var = np.mean(centered * centered, axis=0)
        inv_std = 1 / np.sqrt(var + x.dtype.type(self.eps))
        xhat = centered * inv_std
        m = x.dtype.type(self.momentum)
        running_mean, running_var = self.buffers["running_mean"], self.buffers["running_var"]
        running_mean *= 1 - m
        running_mean += m * mu
        running_var *= 1 - m
        running_var += m * var * x.dtype.type(n / (n - 1))
        return gamma * xhat + beta, (xhat, inv_std, True)

    def backward(self, dout, cache):
        xhat, inv_std, batch_stats = cache
        n = dout.shape[0]
        np.sum(dout * xhat, axis=0, out=self.grads["gamma"])
        np.sum(dout, axis=0, out=self.grads["beta"])
        dxhat = dout * self.params["gamma"]
        if not batch_stats:  # evaluation mode: mu and var are constants
            return dxhat * inv_std
        # dx = (1/N) inv_std (N dxhat - sum dxhat - xhat sum(dxhat xhat))
        return (inv_std / n) * (n * dxhat - dxhat.sum(axis=0) - xhat * np.sum(dxhat * xhat, axis=0))

    def __repr__(self) -> str:
        return f"batchnorm({self.dim})"


class Dropout(Layer):
    """Inverted dropout (torch.nn.Dropout): in training y = x * m / (1 - p) with
    m ~ Bernoulli(1 - p) drawn from the trial's dropout stream; identity at evaluation.

    ``inverted=False`` is the original form (Srivastava et al. 2014): y = x * m in
    training, y = (1 - p) x at evaluation, so the expected activation matches there."""

    name = "dropout"

    def __init__(self, p: float, inverted: bool = True):
        super().__init__()
        self.p, self.inverted = p, inverted

    def forward(self, x, training=False, rng=None):
        if self.p == 0:
            return x, None
        if not training:
            return (x, None) if self.inverted else (x * x.dtype.type(1 - self.p), x.dtype.type(1 - self.p))
        keep = rng.random(x.shape, dtype=np.float64) >= self.p
        scale = 1 / (1 - self.p) if self.inverted else 1.0
        mask = keep.astype(x.dtype) * x.dtype.type(scale)
        return x * mask, mask

    def backward(self, dout, cache):
        return dout if cache is None else dout * cache

    def __repr__(self) -> str:
        return f"dropout({self.p})" if self.inverted else f"dropout({self.p}, not inverted)"
