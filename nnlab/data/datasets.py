"""Datasets: MNIST-style IDX files and small generated sets, splits and normalisation.

``load_dataset(cfg, rng)`` returns a :class:`Dataset` with train / validation / test
arrays. Inputs are float64 here; prepare.py casts once to the run's dtype.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .generated import generate
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

IMAGE_SIDE = (28, 28)   # MNIST and Fashion-MNIST images, stored row by row
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# SHA-256 of the *decompressed* files (as published with the canonical MNIST set), so any
# faithful copy, gz or raw, passes.
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# Fashion-MNIST's authors publish MD5s of the .gz archives only: checked after a download;
# on every load the IDX headers and sizes are checked.
FASHION_GZ_MD5 = {
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
}
MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion_mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
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


# ---------------------------------------------------------------- IDX files

def data_dirs(root: str | None) -> list[Path]:
    """Where to look, in order: $NNLAB_DATA, data.root, ~/.cache/nnlab."""
    dirs = []
    if os.environ.get("NNLAB_DATA"):
        dirs.append(Path(os.environ["NNLAB_DATA"]).expanduser())
    if root:
        dirs.append(Path(root).expanduser())
    dirs.append(Path.home() / ".cache" / "nnlab")
    return dirs


def find_idx(dataset: str, root: str | None) -> Path | None:
    """The first ``<dir>/<dataset>/`` holding all four files (raw or .gz), or None."""
    for base in data_dirs(root):
        folder = base / dataset
        if all(_idx_path(folder, f) for f in IDX_FILES):
            return folder
    return None


def require_idx(dataset: str, root: str | None) -> Path:
    """``find_idx`` or a DataError saying where to put the files."""
    folder = find_idx(dataset, root)
    if folder is None:
        raise DataError(missing_message(dataset, root))
    return folder


def _idx_path(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc}); delete it and let nnlab download it again") from None


def parse_idx(raw: bytes, path: Path) -> np.ndarray:
    """IDX: 2 zero bytes, type 0x08 (ubyte), ndim, ndim big-endian uint32 sizes, then data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path}: not an IDX ubyte file (bad magic number)")
    ndim = raw[3]
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise DataError(f"{path}: truncated IDX file ({len(raw) - offset} data bytes for shape {shape})")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def verify_idx(dataset: str, folder: Path) -> dict[str, str]:
    """Check every file; return {file: 'ok'} or raise DataError naming the bad one."""
    counts = {}
    for stem in IDX_FILES:
        path = _idx_path(folder, stem)
        if path is None:
            raise DataError(f"{folder}: {stem}[.gz] is missing")
        counts[stem] = len(_checked_array(dataset, path, stem))
    for split in ("train", "t10k"):
        images, labels = counts[f"{split}-images-idx3-ubyte"], counts[f"{split}-labels-idx1-ubyte"]
        if images != labels:
            raise DataError(f"{folder}: {images} {split} images but {labels} labels")
    return counts


def _checked_array(dataset: str, path: Path, stem: str) -> np.ndarray:
    raw = read_idx_bytes(path)
    if dataset == "mnist":
        digest = hashlib.sha256(raw).hexdigest()
        if digest != MNIST_SHA256[stem]:
            raise DataError(f"{path}: SHA-256 of the decompressed bytes is {digest[:12]}..., expected "
                            f"{MNIST_SHA256[stem][:12]}... (corrupt or not MNIST): delete it and run "
                            f"`nnlab data fetch mnist`")
    return parse_idx(raw, path)


def load_idx_dataset(dataset: str, root: str | None, download: bool = True):
    """(x_train, y_train, x_test, y_test) as uint8 arrays, downloading if allowed."""
    folder = find_idx(dataset, root)
    if folder is None:
        if not download or os.environ.get("NNLAB_OFFLINE"):
            raise DataError(missing_message(dataset, root))
        folder = fetch(dataset, root)
    stamps = tuple(_idx_path(folder, stem).stat().st_mtime_ns for stem in IDX_FILES)
    arrays = _read_verified(dataset, str(folder), stamps)
    x_train, x_test = arrays["train-images-idx3-ubyte"], arrays["t10k-images-idx3-ubyte"]
    return (x_train.reshape(len(x_train), -1), arrays["train-labels-idx1-ubyte"],
            x_test.reshape(len(x_test), -1), arrays["t10k-labels-idx1-ubyte"])


@functools.lru_cache(maxsize=2)
def _read_verified(dataset: str, folder: str, stamps: tuple) -> dict[str, np.ndarray]:
    """Decompress, verify and parse once per process (a sweep worker runs many trials);
    ``stamps`` (file mtimes) make a replaced file be read again. Arrays are read-only."""
    arrays = {stem: _checked_array(dataset, _idx_path(Path(folder), stem), stem) for stem in IDX_FILES}
    for array in arrays.values():
        array.flags.writeable = False
    return arrays


def forget_raw_data() -> None:
    """Drop the raw arrays kept for the next trial of this process (``nnlab run`` has none)."""
    _read_verified.cache_clear()


def missing_message(dataset: str, root: str | None) -> str:
    where = " or ".join(str(d / dataset) for d in data_dirs(root))
    return (f"{dataset} not found (and not downloaded): put {', '.join(f + '.gz' for f in IDX_FILES)} in {where} "
            f"(or set NNLAB_DATA to the folder that holds {dataset}/)")


def fetch(dataset: str, root: str | None = None, mirrors: list[str] | None = None,
          target: Path | None = None, progress: bool = True) -> Path:
    """Download the four IDX archives into ``target`` (default: data.root or ~/.cache/nnlab),
    verify them, and return the folder. Offline, raise a DataError saying where to put them."""
    if target is None:
        target = (Path(root).expanduser() if root else Path.home() / ".cache" / "nnlab") / dataset
    target.mkdir(parents=True, exist_ok=True)
    mirrors = mirrors if mirrors is not None else MIRRORS[dataset]
    for stem in IDX_FILES:
        if _idx_path(target, stem):
            continue
        errors = []
        for mirror in mirrors:
            try:
                _download(mirror + stem + ".gz", target / f"{stem}.gz", progress)
                break
            except (urllib.error.URLError, OSError, ValueError) as exc:
                errors.append(f"{mirror}: {getattr(exc, 'reason', exc)}")
        else:
            raise DataError(f"cannot download {dataset} ({'; '.join(errors)}). Offline? "
                            + missing_message(dataset, root))
        if dataset == "fashion_mnist":
            digest = hashlib.md5((target / f"{stem}.gz").read_bytes()).hexdigest()
            if digest != FASHION_GZ_MD5[stem]:
                (target / f"{stem}.gz").unlink()
                raise DataError(f"{stem}.gz from the mirror has MD5 {digest}, expected {FASHION_GZ_MD5[stem]}")
    try:
        verify_idx(dataset, target)
    except DataError:
        for stem in IDX_FILES:
            path = _idx_path(target, stem)
            if path:
                path.unlink()
        raise
    return target


def _download(url: str, dest: Path, progress: bool) -> None:
    """Stream to a temporary file beside ``dest``, then rename: no half-written file survives."""
    with urllib.request.urlopen(url, timeout=30) as response:
        total = int(response.headers.get("Content-Length") or 0)
        with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False, suffix=".part") as tmp:
            try:
                if progress:
                    from rich.progress import (
                        BarColumn,
                        DownloadColumn,
                        Progress,
                        TextColumn,
                        TimeRemainingColumn,
                        TransferSpeedColumn,
                    )
                    columns = (TextColumn(dest.name), BarColumn(), DownloadColumn(),
                               TransferSpeedColumn(), TimeRemainingColumn())
                    with Progress(*columns, transient=True) as bar:
                        task = bar.add_task("download", total=total or None)
                        for chunk in iter(lambda: response.read(1 << 16), b""):
                            tmp.write(chunk)
                            bar.advance(task, len(chunk))
                else:
                    shutil.copyfileobj(response, tmp)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
    os.replace(tmp.name, dest)


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
