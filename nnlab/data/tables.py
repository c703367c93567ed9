"""Your own data: a CSV table (via pandas) as a classification or regression task.

``inspect_table(path, target, features, task)`` reads the file once at validation time and
returns its SHA-256 (part of the trial's identity: a changed file is a new trial), the
resolved target and feature columns and the task; ``load_table`` gives the arrays. Every
problem is a one-line DataError naming the file, the column and, for a bad cell, the row.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .userfiles import read_user_file

MAX_TABLE_BYTES = 2 << 30
CLASSIFICATION_MAX_LEVELS = 20   # "auto": a single integer (or text) target with at most this many values


@dataclass
class TableInfo:
    sha256: str
    target: list[str]
    features: list[str]
    task: str          # classification | regression


def _read(path: Path):
    import pandas as pd

    raw = read_user_file(path, DataError, "data file", MAX_TABLE_BYTES)
    try:
        frame = pd.read_csv(io.BytesIO(raw))
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError and EmptyDataError are ValueErrors
        raise DataError(f"{path}: not a readable CSV table ({str(exc).splitlines()[0]})") from None
    if len(frame) < 4:
        raise DataError(f"{path}: {len(frame)} data rows; a table needs at least 4")
    return hashlib.sha256(raw).hexdigest(), frame


def _columns(path: Path, frame, names: list[str], what: str) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise DataError(f"{path}: no {what} column '{missing[0]}'; the columns are {', '.join(map(str, frame.columns))}")


_inspected: dict[tuple, TableInfo] = {}


def inspect_table(path: Path, target, features, task: str) -> TableInfo:
    """Cached per process by the file's size and modification time: a sweep validates every
    trial's config, and each would otherwise read and hash the whole table again."""
    try:
        info = path.stat()
    except OSError:
        return _inspect(path, target, features, task)  # _read names the problem
    key = (str(path), info.st_size, info.st_mtime_ns, repr(target), repr(features), task)
    if key not in _inspected:
        _inspected[key] = _inspect(path, target, features, task)
    return _inspected[key]


def _inspect(path: Path, target, features, task: str) -> TableInfo:
    sha256, frame = _read(path)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    targets = [columns[-1]] if target == "label" else [target] if isinstance(target, str) else list(target)
    _columns(path, frame, targets, "target")
    inputs = [c for c in columns if c not in targets] if features is None else list(features)
    _columns(path, frame, inputs, "feature")
    if not inputs:
        raise DataError(f"{path}: no feature columns left besides the target {', '.join(targets)}")
    leaked = [c for c in inputs if c in targets]
    if leaked:
        raise DataError(f"{path}: column '{leaked[0]}' is both the target and a feature, so the net would read the "
                        f"answer from its input; leave it out of data.features")
    if task == "auto":
        from pandas.api.types import is_integer_dtype, is_numeric_dtype

        values = frame[targets[0]]
        integral = is_integer_dtype(values) or values.dtype.kind == "b" or not is_numeric_dtype(values)
        task = "classification" if len(targets) == 1 and integral and values.nunique() <= CLASSIFICATION_MAX_LEVELS \
            else "regression"
    if task == "classification" and len(targets) != 1:
        raise DataError(f"{path}: classification takes one target column, got {', '.join(targets)}")
    if task == "classification":
        _labels_are_classes(path, frame[targets[0]])
    return TableInfo(sha256, targets, inputs, task)


def _labels_are_classes(path: Path, values) -> None:
    """Class labels are integers or text: a column of fractional numbers is a regression
    target (read as classes, 200 rows of floats would be 200 classes of one example each)."""
    from pandas.api.types import is_float_dtype

    if not is_float_dtype(values):
        return
    numbers = values.dropna().to_numpy(dtype=np.float64)
    fractional = numbers[np.isfinite(numbers) & (numbers != np.round(numbers))]
    if len(fractional):
        raise DataError(f"{path}: data.task: classification needs integer or text labels, but column "
                        f"'{values.name}' holds fractional numbers such as {fractional[0]:g} ({values.nunique()} "
                        f"different values); use task: regression")


def load_table(cfg) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test); the test rows are a fixed share drawn with
    data.seed, so every trial seed sees the same held-out rows."""
    path = Path(cfg.path)
    sha256, frame = _read(path)
    if sha256 != cfg.sha256:
        raise DataError(f"{path}: the file changed since the config was validated (SHA-256 {sha256[:12]}..., "
                        f"expected {cfg.sha256[:12]}...): a changed file is a new trial, validate it again")
    frame.columns = [str(c) for c in frame.columns]
    x = _numeric(path, frame, cfg.features)
    if cfg.task == "classification":
        labels = frame[cfg.target[0]]
        if labels.isna().any():
            raise DataError(f"{path}: column '{cfg.target[0]}' row {int(np.flatnonzero(labels.isna())[0]) + 2}: empty label")
        from pandas.api.types import is_numeric_dtype

        values = labels.to_numpy() if is_numeric_dtype(labels) else labels.astype(str).to_numpy()
        _, y = np.unique(values, return_inverse=True)
        y = y.astype(np.int64)
    else:
        y = _numeric(path, frame, cfg.target)
    order = np.random.default_rng(cfg.seed).permutation(len(x))
    n_test = int(round(cfg.test_fraction * len(x)))
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return x[train], y[train], x[test], y[test]


def _numeric(path: Path, frame, columns: list[str]) -> np.ndarray:
    import pandas as pd

    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path}: column '{column}' row {row + 2}: {frame[column].iloc[row]!r} is not a number")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise DataError(f"{path}: column '{column}' row {row + 2}: empty cell (NaN); fill or drop the rows first")
        if not np.all(np.isfinite(values.to_numpy(dtype=np.float64))):
            raise DataError(f"{path}: column '{column}' holds inf")
        out[:, j] = values.to_numpy(dtype=np.float64)
    return out
