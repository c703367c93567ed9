"""Weight initializers, as ``torch.nn.init`` defines them.

Each takes ``(fan_in, fan_out, rng, dtype)`` plus its own parameters and returns W of
shape (fan_in, fan_out), so that a layer computes ``y = x @ W + b``; ``shape=`` draws
another shape with the same scale (a conv layer's (filters, channels, kh, kw) weight with
fan_in = channels*kh*kw and fan_out = filters*kh*kw, as torch.nn.init computes them). Draws are made in
float64 and cast, so float32 and float64 runs start from the same numbers.
"""

from __future__ import annotations

import math

import numpy as np


def zeros(fan_in, fan_out, rng, dtype, *, shape=None):
    """W = 0. Never breaks symmetry: every unit of a layer stays identical."""
    return np.zeros(shape or (fan_in, fan_out), dtype=dtype)


def constant(fan_in, fan_out, rng, dtype, value: float = 0.0, *, shape=None):
    """W = value (torch.nn.init.constant_). Like zeros, every unit stays identical."""
    return np.full(shape or (fan_in, fan_out), value, dtype=dtype)


def normal(fan_in, fan_out, rng, dtype, std: float = 1.0, mean: float = 0.0, *, shape=None):
    """W ~ N(mean, std^2) (torch.nn.init.normal_: mean 0, std 1 by default)."""
    return (mean + std * rng.standard_normal(shape or (fan_in, fan_out))).astype(dtype)


def uniform(fan_in, fan_out, rng, dtype, a: float = 0.0, b: float = 1.0, *, shape=None):
    """W ~ U(a, b) (torch.nn.init.uniform_: a = 0, b = 1 by default)."""
    return rng.uniform(a, b, shape or (fan_in, fan_out)).astype(dtype)


def glorot_uniform(fan_in, fan_out, rng, dtype, *, shape=None):
    """W ~ U(-l, l), l = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010; xavier_uniform_)."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(fan_in, fan_out, rng, dtype, -limit, limit, shape=shape)


def glorot_normal(fan_in, fan_out, rng, dtype, *, shape=None):
    """W ~ N(0, s^2), s = sqrt(2 / (fan_in + fan_out)) (xavier_normal_, not truncated)."""
    return normal(fan_in, fan_out, rng, dtype, std=math.sqrt(2.0 / (fan_in + fan_out)), shape=shape)


def he_uniform(fan_in, fan_out, rng, dtype, *, shape=None):
    """W ~ U(-l, l), l = sqrt(6 / fan_in) (He et al. 2015; kaiming_uniform_ for ReLU)."""
    limit = math.sqrt(6.0 / fan_in)
    return uniform(fan_in, fan_out, rng, dtype, -limit, limit, shape=shape)


def he_normal(fan_in, fan_out, rng, dtype, *, shape=None):
    """W ~ N(0, s^2), s = sqrt(2 / fan_in) (kaiming_normal_ for ReLU, fan_in mode)."""
    return normal(fan_in, fan_out, rng, dtype, std=math.sqrt(2.0 / fan_in), shape=shape)


def lecun_uniform(fan_in, fan_out, rng, dtype, *, shape=None):
    """W ~ U(-l, l), l = sqrt(3 / fan_in) (LeCun 1998; keeps unit variance for linear units)."""
    limit = math.sqrt(3.0 / fan_in)
    return uniform(fan_in, fan_out, rng, dtype, -limit, limit, shape=shape)


def lecun_normal(fan_in, fan_out, rng, dtype, *, shape=None):
    """W ~ N(0, s^2), s = sqrt(1 / fan_in) (LeCun; not truncated)."""
    return normal(fan_in, fan_out, rng, dtype, std=math.sqrt(1.0 / fan_in), shape=shape)


# YAML name -> function. Keyword arguments after dtype are the initializer's parameters.
INITIALIZERS = {
    "zeros": zeros,
    "constant": constant,
    "normal": normal,
    "uniform": uniform,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
}
