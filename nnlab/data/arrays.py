"""Your own arrays: a NumPy ``.npz`` file (``np.savez``) as a classification, regression or
image task.

The file holds ``x_train`` and ``y_train`` and, optionally, ``x_test`` and ``y_test``
(without them a fixed share of the rows, drawn with data.seed, is the test split) — the
layout of Keras' ``mnist.npz``. ``x`` is (N, features) for a table, (N, H, W) for gray
images or (N, C, H, W) for images with channels (PyTorch's layout; move a channels-last
array with ``np.moveaxis(x, -1, 1)``). ``y`` is (N,) integer labels (classification with
``task: auto``) or (N,) / (N, T) numbers (regression). Pickled objects are never loaded.

``inspect_arrays`` runs at validation time (SHA-256 for the trial's identity, task, image
shape; cached per process like CSV tables); ``load_arrays`` gives the arrays. Every problem
is a one-line DataError naming the file and the array.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .userfiles import read_user_file

MAX_NPZ_BYTES = 4 << 30
REQUIRED = ("x_train", "y_train")
OPTIONAL = ("x_test", "y_test")


@dataclass
class ArraysInfo:
    sha256: str
    task: str                                   # classification | regression
    image_shape: tuple[int, int, int] | None    # (C, H, W) when x holds images
    has_test: bool
    rows: int                                   # x_train rows, then x_test rows (0: a share of x_train)
    test_rows: int
    features: int
    outputs: int                                # classes, or regression targets


def _read(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    raw = read_user_file(path, DataError, "data file", MAX_NPZ_BYTES)
    if not raw.startswith(b"PK"):  # an .npz is a zip archive; anything else np.load would try to unpickle
        kind = "an .npy file holds one array" if raw.startswith(b"\x93NUMPY") else "not a zip archive"
        raise DataError(f"{path}: not a readable .npz file ({kind}); save with np.savez(path, x_train=..., y_train=...)")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files if k in REQUIRED + OPTIONAL}
            names = list(npz.files)
    except ValueError as exc:  # object arrays need pickle: refused
        raise DataError(f"{path}: holds pickled objects, which nnlab does not load ({exc}); save plain numeric arrays") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    for key in REQUIRED:
        if key not in arrays:
            raise DataError(f"{path}: no array '{key}' (it holds {', '.join(names) or 'nothing'}); "
                            f"save with np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DataError(f"{path}: give both x_test and y_test, or neither (then data.test_fraction of the rows is the test split)")
    return hashlib.sha256(raw).hexdigest(), arrays


def _check(path: Path, arrays: dict[str, np.ndarray]) -> None:
    for key, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise DataError(f"{path}: {key} has dtype {a.dtype}; nnlab reads numbers (bool, int, float)")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            bad = np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))[0] if a.ndim else 0
            raise DataError(f"{path}: {key} holds NaN or inf (first in row {bad}); fill or drop those rows first")
    for split in ("train", "test"):
        if f"x_{split}" not in arrays:
            continue
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim not in (2, 3, 4):
            raise DataError(f"{path}: x_{split} has shape {x.shape}; give (N, features), (N, H, W) or (N, C, H, W)")
        if y.ndim not in (1, 2):
            raise DataError(f"{path}: y_{split} has shape {y.shape}; give (N,) labels or (N, targets)")
        if len(x) != len(y):
            raise DataError(f"{path}: x_{split} has {len(x)} rows but y_{split} has {len(y)}")
    if "x_test" in arrays and arrays["x_test"].shape[1:] != arrays["x_train"].shape[1:]:
        raise DataError(f"{path}: x_test rows have shape {arrays['x_test'].shape[1:]}, x_train rows {arrays['x_train'].shape[1:]}")
    if "y_test" in arrays and arrays["y_test"].shape[1:] != arrays["y_train"].shape[1:]:
        raise DataError(f"{path}: y_test rows have shape {arrays['y_test'].shape[1:]}, y_train rows {arrays['y_train'].shape[1:]}")
    if 0 in arrays["x_train"].shape[1:] or 0 in arrays["y_train"].shape[1:]:
        raise DataError(f"{path}: x_train has shape {arrays['x_train'].shape} and y_train {arrays['y_train'].shape}: "
                        f"a row needs at least one value")
    if len(arrays["x_train"]) < 4:
        raise DataError(f"{path}: x_train has {len(arrays['x_train'])} rows; a data set needs at least 4")
    x = arrays["x_train"]
    if x.ndim == 4 and x.shape[1] > 4 and x.shape[-1] in (1, 3, 4):
        raise DataError(f"{path}: x_train has shape {x.shape}, which looks channels-last (N, H, W, C); nnlab reads "
                        f"(N, C, H, W): save np.moveaxis(x, -1, 1)")


_inspected: dict[tuple, ArraysInfo] = {}


def inspect_arrays(path: Path, task: str) -> ArraysInfo:
    """Validate the file; cached per process by size and modification time."""
    try:
        st = path.stat()
    except OSError:
        return _inspect(path, task)  # _read names the problem
    key = (str(path), st.st_size, st.st_mtime_ns, task)
    if key not in _inspected:
        _inspected[key] = _inspect(path, task)
    return _inspected[key]


def _inspect(path: Path, task: str) -> ArraysInfo:
    sha256, arrays = _read(path)
    _check(path, arrays)
    x, y = arrays["x_train"], arrays["y_train"]
    if task == "auto":
        task = "classification" if y.ndim == 1 and y.dtype.kind in "biu" else "regression"
    if task == "classification":
        for key in ("y_train", "y_test"):
            labels = arrays.get(key)
            if labels is not None and (labels.ndim != 1 or (labels.dtype.kind == "f" and not np.all(labels == np.round(labels)))):
                raise DataError(f"{path}: classification needs {key} as (N,) whole-number labels, got {labels.dtype} {labels.shape}")
        classes = np.unique(y)
        if len(classes) < 2:
            raise DataError(f"{path}: y_train holds one class ({classes[0]}); classification needs at least two")
        unseen = np.setdiff1d(np.unique(arrays["y_test"]), classes) if "y_test" in arrays else []
        if len(unseen):
            raise DataError(f"{path}: y_test has labels never seen in y_train ({', '.join(map(str, unseen[:5]))}); "
                            f"a model cannot learn them")
    image_shape = None
    if x.ndim == 3:
        image_shape = (1, x.shape[1], x.shape[2])
    elif x.ndim == 4:
        image_shape = (x.shape[1], x.shape[2], x.shape[3])
    outputs = len(np.unique(y)) if task == "classification" else (1 if y.ndim == 1 else y.shape[1])
    return ArraysInfo(sha256, task, image_shape, "x_test" in arrays, len(x), len(arrays.get("x_test", ())),
                      int(np.prod(x.shape[1:])), outputs)


def load_arrays(cfg) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """(x_train, y_train, x_test, y_test, images) with x flattened to rows (the model sees
    images again as (N, C, H, W)); labels mapped to 0..K-1 in sorted order."""
    path = Path(cfg.path)
    sha256, arrays = _read(path)
    if sha256 != cfg.sha256:
        raise DataError(f"{path}: the file changed since the config was validated (SHA-256 {sha256[:12]}..., "
                        f"expected {cfg.sha256[:12]}...): a changed file is a new trial, validate it again")
    _check(path, arrays)
    x, y = arrays["x_train"], arrays["y_train"]
    if "x_test" in arrays:
        x_test, y_test = arrays["x_test"], arrays["y_test"]
    else:
        order = np.random.default_rng(cfg.seed).permutation(len(x))
        n_test = int(round(cfg.test_fraction * len(x)))
        test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
        x, y, x_test, y_test = x[train], y[train], x[test], y[test]
    images = x.ndim > 2
    if cfg.task == "classification":
        _, inverse = np.unique(np.concatenate([y, y_test.astype(y.dtype)]), return_inverse=True)
        y, y_test = inverse[:len(y)].astype(np.int64), inverse[len(y):].astype(np.int64)
    else:
        y, y_test = (a.reshape(len(a), -1).astype(np.float64) for a in (y, y_test))
    scale_as_images = images and x.dtype == np.uint8   # 'scale' divides 8-bit pixels by 255
    width = int(np.prod(x.shape[1:]))
    return x.reshape(len(x), width), y, x_test.reshape(len(x_test), width), y_test, scale_as_images
