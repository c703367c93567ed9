"""Activation layers: ``out, cache = forward(x)`` beside ``dx = backward(dout, cache)``.

Every activation is elementwise except softmax. Shapes: x (N, D) -> (N, D).
"""

from __future__ import annotations

import numpy as np

from .layers import Layer


class Activation(Layer):
    """Base class: no parameters, ``name`` is the YAML name, ``kwargs`` its parameters."""

    name = "activation"
    # The initializer family that keeps its activations' variance through the layers: He for
    # the ReLU family (half the inputs zeroed), Glorot for symmetric ones (tanh, sigmoid, ...).
    matched_init = "glorot_uniform"

    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs

    def spec(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
        return f"{self.name}({args})" if args else self.name

    def __repr__(self) -> str:
        return self.spec()


class ReLU(Activation):
    """relu(x) = max(x, 0); d/dx = 1[x > 0] (0 at x = 0, as PyTorch)."""

    name = "relu"
    matched_init = "he_normal"

    def forward(self, x, training=False, rng=None):
        out = np.maximum(x, 0)
        return out, x

    def backward(self, dout, cache):
        return dout * (cache > 0)


class LeakyReLU(Activation):
    """leaky_relu(x) = x if x > 0 else alpha * x (PyTorch default alpha = 0.01)."""

    name = "leaky_relu"
    matched_init = "he_normal"

    def __init__(self, alpha: float = 0.01):
        super().__init__(alpha=alpha)
        self.alpha = alpha

    def forward(self, x, training=False, rng=None):
        return np.where(x > 0, x, x * x.dtype.type(self.alpha)), x

    def backward(self, dout, cache):
        return dout * np.where(cache > 0, 1, self.alpha).astype(dout.dtype)


class ELU(Activation):
    """elu(x) = x if x > 0 else alpha * (exp(x) - 1); d/dx = 1 or elu(x) + alpha."""

    name = "elu"
    matched_init = "he_normal"

    def __init__(self, alpha: float = 1.0):
        super().__init__(alpha=alpha)
        self.alpha = alpha

    def forward(self, x, training=False, rng=None):
        alpha = x.dtype.type(self.alpha)
        out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        return out, (x, out)

    def backward(self, dout, cache):
        x, out = cache
        return dout * np.where(x > 0, 1, out + x.dtype.type(self.alpha))


class Sigmoid(Activation):
    """sigmoid(x) = 1 / (1 + exp(-x)), computed without overflow; d/dx = s (1 - s)."""

    name = "sigmoid"

    def forward(self, x, training=False, rng=None):
        out = sigmoid(x)
        return out, out

    def backward(self, dout, cache):
        return dout * cache * (1 - cache)


class Tanh(Activation):
    """tanh(x); d/dx = 1 - tanh(x)^2."""

    name = "tanh"

    def forward(self, x, training=False, rng=None):
        out = np.tanh(x)
        return out, out

    def backward(self, dout, cache):
        return dout * (1 - cache * cache)


class Linear(Activation):
    """Identity: linear(x) = x."""

    name = "linear"

    def forward(self, x, training=False, rng=None):
        return x, None

    def backward(self, dout, cache):
        return dout


class Softmax(Activation):
    """softmax(x)_k = exp(x_k - max x) / sum_j exp(x_j - max x) over the last axis.

    dx = s * (dout - sum_k dout_k s_k). When it feeds cross-entropy the two are fused
    into log-softmax on the logits instead (see ``losses.py``).
    """

    name = "softmax"

    def forward(self, x, training=False, rng=None):
        out = softmax(x)
        return out, out

    def backward(self, dout, cache):
        s = cache
        return s * (dout - np.sum(dout * s, axis=1, keepdims=True))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function (no overflow warning for large |x|)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# YAML name -> class. Keyword arguments are the class's own (alpha for leaky_relu, elu).
ACTIVATIONS: dict[str, type[Activation]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "linear": Linear,
    "softmax": Softmax,
}
