"""Datasets: MNIST-style IDX files (``idx.py``), generated sets, CSV and npz files, split and normalised.

``load_dataset(cfg, rng)`` returns a :class:`Dataset` with train / validation / test
arrays. Inputs are float64 here; train/setup.py casts once to the run's dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .generated import generate
from .idx import IMAGE_SIDE, load_idx_dataset
from .resize import resize_images

DATASET_KINDS = {
    "mnist": "classification",
    "fashion_mnist": "classification",
    "xor": "classification",
    "spirals": "classification",
    "moons": "classification",
    "blobs": "classification",
    "regression": "regression",
    "csv": "table",  # classification or regression, from data.task (resolved from the file)
    "npz": "arrays",  # classification or regression, from data.task (resolved from the file)
}

@dataclass
class Dataset:
    """Arrays of one task. Classification: y are int64 labels; regression: y (N, T) floats."""

    name: str
    kind: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None
    image_shape: tuple[int, int, int] | None = None   # (channels, height, width) of image sets; x stays flat

    @property
    def input_dim(self) -> int:
        return self.x_train.shape[1]

    def input_shape(self, images: bool) -> int | tuple[int, int, int]:
        """What the model's first layer receives: (C, H, W) for a model that starts on images,
        else the number of features."""
        return self.image_shape if images and self.image_shape is not None else self.input_dim

    def splits(self):
        """(name, x, y) for each non-empty split, in metrics.csv order."""
        for split, x, y in (("train", self.x_train, self.y_train), ("val", self.x_val, self.y_val),
                            ("test", self.x_test, self.y_test)):
            if len(x):
                yield split, x, y


# ---------------------------------------------------------------- split and normalise

def stratified_split(y: np.ndarray, n_val: int, rng: np.random.Generator, stratify: bool):
    """Indices (train, val). Stratified: each class gives round(n_val * share) examples.

    Both index arrays are sorted, so the training set keeps the file's order ("first N")."""
    n = len(y)
    if n_val <= 0:
        return np.arange(n), np.arange(0)
    if n_val >= n:
        raise DataError(f"data.validation asks for {n_val} of {n} training examples; leave some to train on")
    if not stratify:
        val = rng.permutation(n)[:n_val]
    else:
        classes, counts = np.unique(y, return_counts=True)
        quota = np.floor(counts * n_val / n).astype(int)
        # distribute the remainder to the classes with the largest fractional parts
        remainder = n_val - quota.sum()
        frac = counts * n_val / n - quota
        quota[np.argsort(-frac, kind="stable")[:remainder]] += 1
        val = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:q] for c, q in zip(classes, quota, strict=True)])
    mask = np.zeros(n, bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def load_dataset(cfg, split_rng: np.random.Generator, download: bool = True, dtype=None) -> Dataset:
    """Load, split (validation from the full train set), take ``subset``, normalise.

    ``dtype`` (the trial's): image sets scaled by 255 (or not normalised) come back in it,
    converted a block of rows at a time, so no float64 copy of the whole set is ever held
    (the values are those of the float64 pass cast to ``dtype``). Otherwise float64."""
    kind = cfg.task if cfg.name in ("csv", "npz") else DATASET_KINDS[cfg.name]
    image_shape = None
    if cfg.name == "npz":
        from .arrays import inspect_arrays, load_arrays

        x_train, y_train, x_test, y_test, images = load_arrays(cfg)
        image_shape = inspect_arrays(Path(cfg.path), cfg.task).image_shape
    elif cfg.name == "csv":
        from .tables import load_table

        x_train, y_train, x_test, y_test = load_table(cfg)
        images = False
    elif cfg.name in ("mnist", "fashion_mnist"):
        x_train, y_train, x_test, y_test = load_idx_dataset(cfg.name, cfg.root, download)
        images = True
    else:
        x_train, y_train = generate(cfg, "train")
        x_test, y_test = generate(cfg, "test")
        images = False
    y_train = y_train.astype(np.int64) if kind == "classification" else y_train.astype(np.float64)
    y_test = y_test.astype(np.int64) if kind == "classification" else y_test.astype(np.float64)
    n = len(x_train)
    n_val = int(round(cfg.validation * n)) if isinstance(cfg.validation, float) else cfg.validation
    train_idx, val_idx = stratified_split(y_train, n_val, split_rng, stratify=kind == "classification")
    if cfg.subset is not None:
        if cfg.subset > len(train_idx):
            raise DataError(f"data.subset={cfg.subset} but only {len(train_idx)} training examples remain after the validation split")
        train_idx = train_idx[:cfg.subset]
    if cfg.test_subset is not None:
        if cfg.test_subset > len(x_test):
            raise DataError(f"data.test_subset={cfg.test_subset} but the test split has only {len(x_test)} examples")
        x_test, y_test = x_test[:cfg.test_subset], y_test[:cfg.test_subset]
    x_val, y_val = x_train[val_idx], y_train[val_idx]
    x_train, y_train = x_train[train_idx], y_train[train_idx]
    if cfg.resize is not None:
        x_train, x_val, x_test = (resize_images(x, IMAGE_SIDE, tuple(cfg.resize)) for x in (x_train, x_val, x_test))
    if images and dtype is not None and cfg.normalize in ("scale", "none"):
        x_train, x_val, x_test = (_images_as(x, np.dtype(dtype), cfg.normalize == "scale") for x in (x_train, x_val, x_test))
    else:
        x_train, x_val, x_test = normalize(cfg.normalize, x_train, x_val, x_test, images)
    if cfg.name in ("mnist", "fashion_mnist"):
        image_shape = (1, *(tuple(cfg.resize) if cfg.resize else IMAGE_SIDE))
    if cfg.target == "input":  # an autoencoder: reconstruct the normalised input
        return Dataset(cfg.name, "regression", x_train, x_train, x_val, x_val, x_test, x_test, None, image_shape)
    n_classes = (int(max(y_train.max(), y_test.max() if len(y_test) else 0) + 1)  # an empty test split (test_fraction: 0)
                 if kind == "classification" else None)
    return Dataset(cfg.name, kind, x_train, y_train, x_val, y_val, x_test, y_test, n_classes, image_shape)


BLOCK_ROWS = 4096   # rows converted at a time by _images_as


def _images_as(x: np.ndarray, dtype: np.dtype, scale: bool) -> np.ndarray:
    """``normalize``'s image arithmetic (float64, then x / 255) cast to ``dtype``, block by block."""
    out = np.empty(x.shape, dtype=dtype)
    for i in range(0, len(x), BLOCK_ROWS):
        block = x[i:i + BLOCK_ROWS].astype(np.float64)
        if scale:
            block /= 255.0
        out[i:i + BLOCK_ROWS] = block
    return out


def normalize(mode: str, x_train, x_val, x_test, images: bool):
    """none | scale (x/255 for images, min-max from train otherwise) | standard (z-score
    from the training split; constant features are left centred, not divided by 0)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (x_train, x_val, x_test)]
    if mode == "none":
        return arrays
    if mode == "scale":
        if images:
            return [a / 255.0 for a in arrays]
        lo, hi = arrays[0].min(axis=0), arrays[0].max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        return [(a - lo) / span for a in arrays]
    mean, std = arrays[0].mean(axis=0), arrays[0].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [(a - mean) / std for a in arrays]
