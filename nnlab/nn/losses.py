"""Losses: ``loss, cache = forward(output, target)`` beside ``doutput = backward(cache)``.

Reductions follow PyTorch: ``mean`` divides by the batch size for cross-entropy
(torch.nn.CrossEntropyLoss) and by the number of elements for BCE, MSE and MAE
(BCEWithLogitsLoss, MSELoss, L1Loss); ``sum`` adds everything up.

Which quantity a loss reads depends on the model's output activation, decided once by
:func:`make_loss`:

* cross_entropy after softmax: fused log-softmax on the logits (stable, PyTorch's
  CrossEntropyLoss on the pre-softmax values);
* cross_entropy after sigmoid: -sum_k y_k log p_k on the sigmoid outputs as given, the
  classic mistake nnlab exists to reproduce (every output drifts to 1);
* cross_entropy after any other output (linear, relu, tanh, ...): the output is taken as
  the logits, as torch.nn.CrossEntropyLoss does (a ReLU output clamps logits at 0);
* binary_cross_entropy after sigmoid: fused BCE on logits; after softmax: BCE on the
  given probabilities; after anything else: the output is taken as logits
  (BCEWithLogitsLoss).
Probabilities are clipped to [1e-7, 1 - 1e-7] before the log (Keras' epsilon).
"""

from __future__ import annotations

import numpy as np

from .activations import log_softmax, sigmoid, softmax

PROB_EPS = 1e-7


def _reduce_scale(reduction: str, count: int) -> float:
    return 1.0 / count if reduction == "mean" else 1.0


class SoftmaxCrossEntropy:
    """Cross-entropy on logits z (N, C) with integer labels y (N,).

    L = -(1/N) sum_n log softmax(z_n)_{y_n};  dL/dz = (softmax(z) - onehot(y)) / N.
    """

    name = "cross_entropy"
    reads = "logits"

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, z, y):
        logp = log_softmax(z)
        n = z.shape[0]
        loss = -float(np.sum(logp[np.arange(n), y], dtype=np.float64)) * _reduce_scale(self.reduction, n)
        return loss, (logp, y)

    def per_example(self, z, y):
        """Each example's loss, float64 (their mean is the mean loss)."""
        return -log_softmax(z)[np.arange(z.shape[0]), y].astype(np.float64)

    def backward(self, cache):
        logp, y = cache
        n = logp.shape[0]
        d = np.exp(logp)
        d[np.arange(n), y] -= 1
        return d * logp.dtype.type(_reduce_scale(self.reduction, n))


class ProbabilityCrossEntropy:
    """Categorical cross-entropy on given probabilities p (N, C), labels y (N,).

    L = -(1/N) sum_n log clip(p_{n, y_n});  dL/dp_{n,y_n} = -1 / (N p) inside the clip, 0 outside.
    Only the true class's output is pushed, so unnormalised (sigmoid) outputs all drift up.
    """

    name = "cross_entropy"
    reads = "probabilities"

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, p, y):
        n = p.shape[0]
        picked = p[np.arange(n), y]
        clipped = np.clip(picked, PROB_EPS, 1 - PROB_EPS)
        loss = -float(np.sum(np.log(clipped), dtype=np.float64)) * _reduce_scale(self.reduction, n)
        return loss, (p, y, picked, clipped)

    def per_example(self, p, y):
        return -np.log(np.clip(p[np.arange(p.shape[0]), y], PROB_EPS, 1 - PROB_EPS)).astype(np.float64)

    def backward(self, cache):
        p, y, picked, clipped = cache
        n = p.shape[0]
        d = np.zeros_like(p)
        inside = (picked == clipped)
        d[np.arange(n), y] = np.where(inside, -1 / clipped, 0) * _reduce_scale(self.reduction, n)
        return d


class LogitBinaryCrossEntropy:
    """BCE on logits z with targets y in [0, 1], same shape (BCEWithLogitsLoss).

    l = max(z, 0) - z y + log(1 + exp(-|z|));  dl/dz = sigmoid(z) - y; mean over all elements.
    """

    name = "binary_cross_entropy"
    reads = "logits"

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, z, y):
        elementwise = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        loss = float(np.sum(elementwise, dtype=np.float64)) * _reduce_scale(self.reduction, z.size)
        return loss, (z, y)

    def per_example(self, z, y):
        return (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).astype(np.float64).mean(axis=1)

    def backward(self, cache):
        z, y = cache
        return (sigmoid(z) - y) * z.dtype.type(_reduce_scale(self.reduction, z.size))


class ProbabilityBinaryCrossEntropy:
    """BCE on given probabilities p (torch.nn.BCELoss, clipped instead of log-clamped).

    l = -(y log p + (1 - y) log(1 - p));  dl/dp = (p - y) / (p (1 - p)) inside the clip.
    """

    name = "binary_cross_entropy"
    reads = "probabilities"

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, p, y):
        clipped = np.clip(p, PROB_EPS, 1 - PROB_EPS)
        elementwise = -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
        loss = float(np.sum(elementwise, dtype=np.float64)) * _reduce_scale(self.reduction, p.size)
        return loss, (p, y, clipped)

    def per_example(self, p, y):
        clipped = np.clip(p, PROB_EPS, 1 - PROB_EPS)
        return (-(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))).astype(np.float64).mean(axis=1)

    def backward(self, cache):
        p, y, clipped = cache
        d = np.where(p == clipped, (clipped - y) / (clipped * (1 - clipped)), 0)
        return (d * _reduce_scale(self.reduction, p.size)).astype(p.dtype)


class MeanSquaredError:
    """MSE (torch.nn.MSELoss): L = mean over all elements of (o - y)^2; dL/do = 2 (o - y) / size."""

    name = "mse"
    reads = "outputs"

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, o, y):
        diff = o - y
        loss = float(np.sum(diff * diff, dtype=np.float64)) * _reduce_scale(self.reduction, o.size)
        return loss, diff

    def per_example(self, o, y):
        diff = (o - y).astype(np.float64)
        return (diff * diff).mean(axis=1)

    def backward(self, cache):
        diff = cache
        return diff * diff.dtype.type(2 * _reduce_scale(self.reduction, diff.size))


class MeanAbsoluteError:
    """MAE (torch.nn.L1Loss): L = mean |o - y|; dL/do = sign(o - y) / size (0 at o = y)."""

    name = "mae"
    reads = "outputs"

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, o, y):
        diff = o - y
        loss = float(np.sum(np.abs(diff), dtype=np.float64)) * _reduce_scale(self.reduction, o.size)
        return loss, diff

    def per_example(self, o, y):
        return np.abs((o - y).astype(np.float64)).mean(axis=1)

    def backward(self, cache):
        diff = cache
        return np.sign(diff) * diff.dtype.type(_reduce_scale(self.reduction, diff.size))


LOSSES = ("cross_entropy", "binary_cross_entropy", "mse", "mae")


class Objective:
    """The loss and the model's output activation, decided together once.

    When ``fused`` (softmax + cross-entropy, sigmoid + BCE) the loss reads the values
    *before* the output activation, so training, evaluation and the doctor run the model
    up to, not including, its last layer (``outputs``); predictions still pass through it.
    ``eval_loss`` is the same loss with ``mean`` reduction: epoch metrics are means over a
    split whatever the training reduction."""

    def __init__(self, name: str, output_activation: str, reduction: str = "mean"):
        self.loss, self.fused = make_loss(name, output_activation, reduction)
        self.eval_loss, _ = make_loss(name, output_activation, "mean")
        self.stop = -1 if self.fused else None

    @property
    def reads(self) -> str:
        """'logits', 'probabilities' or 'outputs': what the loss is computed on."""
        return self.loss.reads

    def outputs(self, model, x, training: bool = False, rng=None):
        """What the loss reads, with the caches for backward: ``(out, caches)``."""
        return model.forward(x, training, rng, stop=self.stop)

    def describe(self) -> str:
        return f"{self.loss.name} on {self.loss.reads}" + (" (fused with the output activation)" if self.fused else "")


def make_loss(name: str, output_activation: str, reduction: str = "mean"):
    """Pick the loss object and whether it fuses with the model's last (activation) layer.

    Returns ``(loss, fused)``. When ``fused`` the loss reads the values *before* the output
    activation (logits), and ``Objective`` runs the model without that layer.
    """
    if name == "cross_entropy":
        if output_activation == "softmax":
            return SoftmaxCrossEntropy(reduction), True
        if output_activation == "sigmoid":
            return ProbabilityCrossEntropy(reduction), False
        return SoftmaxCrossEntropy(reduction), False
    if name == "binary_cross_entropy":
        if output_activation == "sigmoid":
            return LogitBinaryCrossEntropy(reduction), True
        if output_activation == "softmax":
            return ProbabilityBinaryCrossEntropy(reduction), False
        return LogitBinaryCrossEntropy(reduction), False
    if name == "mse":
        return MeanSquaredError(reduction), False
    if name == "mae":
        return MeanAbsoluteError(reduction), False
    raise KeyError(name)


__all__ = ["LOSSES", "Objective", "make_loss", "softmax", "sigmoid"]
