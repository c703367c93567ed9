"""MNIST-style IDX files: where they are found, how they are checked, read and downloaded.

Files are looked for under ``$NNLAB_DATA``, then ``data.root``, then ``~/.cache/nnlab``;
MNIST is checked against the SHA-256 of its decompressed files (any faithful copy, gz or
raw, passes), Fashion-MNIST by its IDX headers and sizes (its authors publish MD5s of the
archives only, checked after a download). Offline, a missing set is one line saying where
to put the files.
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
from pathlib import Path

import numpy as np

from ..errors import DataError

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


