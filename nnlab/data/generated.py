"""The small built-in data sets, generated from ``data.seed`` (fixed across trial seeds, so
replicates share their data): xor, spirals, moons, blobs and a 1-D regression."""

from __future__ import annotations

import numpy as np


def make_xor(n, rng, noise=0.25):
    """Four Gaussian clusters at (+-1, +-1); label = 1 where the signs differ (XOR)."""
    corners = rng.integers(0, 2, size=(n, 2))
    x = (2 * corners - 1) + noise * rng.standard_normal((n, 2))
    return x, (corners[:, 0] ^ corners[:, 1]).astype(np.int64)


def make_spirals(n, rng, noise=0.2, classes=3):
    """cs231n's spiral: per class k, r = linspace(0, 1), t = linspace(4k, 4k + 4) + noise N(0, 1)."""
    per_class = -(-n // classes)
    xs, ys = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1, per_class)
        t = np.linspace(k * 4, (k + 1) * 4, per_class) + rng.standard_normal(per_class) * noise
        xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(per_class, k))
    order = rng.permutation(per_class * classes)[:n]
    return np.concatenate(xs)[order], np.concatenate(ys).astype(np.int64)[order]


def make_moons(n, rng, noise=0.1):
    """Two interleaving half circles (as scikit-learn's make_moons) plus N(0, noise^2) jitter."""
    labels = rng.integers(0, 2, size=n)
    t = rng.uniform(0, np.pi, size=n)
    x = np.where(labels[:, None] == 0, np.c_[np.cos(t), np.sin(t)],
                 np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return x + noise * rng.standard_normal((n, 2)), labels.astype(np.int64)


def make_blobs(n, rng, noise=1.0, classes=3, centers_rng=None):
    """Isotropic Gaussian blobs, std ``noise``, centres uniform in [-10, 10]^2."""
    centers = (centers_rng or rng).uniform(-10, 10, size=(classes, 2))
    labels = rng.integers(0, classes, size=n)
    return centers[labels] + noise * rng.standard_normal((n, 2)), labels.astype(np.int64)


def make_regression(n, rng, noise=0.1):
    """y = 2 sin(3 x) + 0.5 x + noise, x ~ U(-2, 2): targets span about [-3, 3], outside [0, 1]."""
    x = rng.uniform(-2, 2, size=(n, 1))
    y = 2 * np.sin(3 * x) + 0.5 * x + noise * rng.standard_normal((n, 1))
    return x, y


GENERATORS = {"xor": make_xor, "spirals": make_spirals, "moons": make_moons,
              "blobs": make_blobs, "regression": make_regression}


def generate(cfg, split: str):
    """Generated train or test data: fixed by data.seed, independent between splits."""
    train_seq, test_seq, centers_seq = np.random.SeedSequence(cfg.seed).spawn(3)
    rng = np.random.default_rng(train_seq if split == "train" else test_seq)
    n = cfg.n_samples if split == "train" else cfg.n_test
    kwargs = {}
    if cfg.noise is not None:
        kwargs["noise"] = cfg.noise
    if cfg.name in ("spirals", "blobs"):
        kwargs["classes"] = cfg.classes or 3
    if cfg.name == "blobs":
        kwargs["centers_rng"] = np.random.default_rng(centers_seq)  # same centres in train and test
    return GENERATORS[cfg.name](n, rng, **kwargs)
