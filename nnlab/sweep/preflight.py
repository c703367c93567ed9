"""Checks before any training that no config schema can make: does the trial fit in
memory, and can its results be written? Each failure is one ConfigError (exit 2) naming
the key to change, raised before anything is loaded, trained or written.

The memory estimate counts what a trial holds at its peak: the data (float64 as loaded,
plus the copy in the training dtype), parameters, gradients, optimizer state, the weight
copies kept for init/final/best and update ratios, and the activations of the largest
forward pass (a training batch or an evaluation chunk). It is an estimate, within a
factor of about two; the check only refuses what clearly cannot fit.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import Experiment
from ..errors import ConfigError
from ..nn.build import EVAL_FLOATS, layer_specs, shapes, uses_images
from ..nn.optim import optimizer_info
from ..train.probes import PROBE_SIZE

# Sizes of the file-based sets: (training examples, test examples, input features, classes).
IDX_SHAPES = {"mnist": (60_000, 10_000, 784, 10), "fashion_mnist": (60_000, 10_000, 784, 10)}
EVAL_ROWS = 8192         # rows per evaluation pass of an MLP (Sequential.eval_chunk; smaller for CNNs)
WEIGHT_COPIES = 4        # init, final, best (early stopping) and the update-ratio copy
DATA_COPIES = 4          # float64 copies of the inputs alive at the peak of loading
USABLE_SHARE = 0.8       # leave room for the interpreter, NumPy temporaries and other processes


def available_memory() -> int | None:
    """Bytes of memory available now (Linux MemAvailable), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _data_shape(exp: Experiment) -> tuple[int, int, int, int]:
    data = exp.data
    if data.name in IDX_SHAPES:
        n_train, n_test, features, classes = IDX_SHAPES[data.name]
        return n_train, n_test, (data.resize[0] * data.resize[1] if data.resize else features), classes
    if data.name == "npz":
        from ..data.arrays import inspect_arrays

        info = inspect_arrays(Path(data.path), data.task)
        return info.rows, info.test_rows, info.features, info.outputs
    if data.name == "csv":  # rows estimated from the file size, at least 4 characters a cell
        columns = len(data.features or []) + len(data.target)
        rows = max(4, os.path.getsize(data.path) // (4 * max(columns, 1)))
        return rows, 0, len(data.features or []), 2 if data.task == "classification" else 1
    features = 1 if data.name == "regression" else 2
    classes = {"xor": 2, "moons": 2, "regression": 1}.get(data.name, data.classes or 3)
    return data.n_samples, data.n_test, features, classes


def estimate(exp: Experiment) -> dict[str, tuple[int, str]]:
    """Peak bytes by part, each with the config key that drives it."""
    n_train, n_test, features, classes = _data_shape(exp)
    binary_single = (exp.loss.name == "binary_cross_entropy" or exp.model.outputs == 1) and classes == 2
    outputs = features if exp.data.target == "input" else 1 if exp.data.name == "regression" or binary_single else classes
    item = 4 if exp.train.dtype == "float32" else 8
    specs = layer_specs(exp.model, outputs)
    if uses_images(specs):
        params, widths = _image_model(exp, specs, features)
    else:
        params, widths, width = 0, [], features
        for spec in specs:
            if spec["type"] == "dense":
                params += (width + 1) * spec["units"]
                width = spec["units"]
            elif spec["type"] == "batchnorm":
                params += 4 * width
            widths.append(width)
    model_key = "model.layers" if exp.model.layers is not None else "model.hidden"
    batch = n_train if exp.train.batch_size == "full" else min(exp.train.batch_size, n_train)
    eval_rows = max(1, min(EVAL_ROWS, EVAL_FLOATS // max(widths))) if uses_images(specs) else EVAL_ROWS  # build.py's chunk
    rows = max(batch, min(eval_rows, max(n_train, n_test)))
    if uses_images(specs):   # the unit statistics forward the whole probe at once
        rows = max(rows, min(PROBE_SIZE, n_train))
    state = optimizer_info(exp.optimizer.name).state_arrays
    return {
        # generated sets pass through about four float64 copies (draw, split, normalise) before
        # the copy in the training dtype; IDX files are read as uint8 first
        "data": ((n_train + n_test) * features * (DATA_COPIES * 8 + item),
                 "data.n_samples" if exp.data.name not in IDX_SHAPES else "data.name"),
        "parameters": (params * item * (2 + state + WEIGHT_COPIES), model_key),
        "activations": (rows * sum(widths) * item * 2, model_key if max(widths) * 100 > rows else "train.batch_size"),
    }


def _image_model(exp: Experiment, specs: list[dict], features: int) -> tuple[int, list[int]]:
    """Parameters and per-example floats per layer of a CNN, a conv layer's im2col rows included."""
    shape = _image_shape(exp, features)
    params, widths = 0, []
    for spec, out in zip(specs, shapes(specs, shape, explicit=exp.model.layers is not None), strict=True):
        size = out[0] * out[1] * out[2] if isinstance(out, tuple) else out
        before = shape[0] * shape[1] * shape[2] if isinstance(shape, tuple) else shape
        if spec["type"] == "conv2d":
            kh, kw = (spec["kernel"], spec["kernel"]) if isinstance(spec["kernel"], int) else spec["kernel"]
            params += out[0] * (shape[0] * kh * kw + 1)  # type: ignore[index]
            size += out[1] * out[2] * shape[0] * kh * kw  # type: ignore[index]
        elif spec["type"] == "dense":
            params += (before + 1) * spec["units"]
        elif spec["type"] == "batchnorm":
            params += 4 * (shape[0] if isinstance(shape, tuple) else shape)
        widths.append(size)
        shape = out
    return params, widths


def _image_shape(exp: Experiment, features: int) -> tuple[int, int, int]:
    if exp.data.name == "npz":
        from ..data.arrays import inspect_arrays

        found = inspect_arrays(Path(exp.data.path), exp.data.task).image_shape  # type: ignore[arg-type]
        if found is not None:
            return found
    side = exp.data.resize or (28, 28)
    return (1, side[0], side[1])


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PB"


def check_memory(exp: Experiment, concurrent: int = 1, available: int | None = None) -> None:
    """ConfigError when ``concurrent`` trials like ``exp`` cannot fit in available memory."""
    available = available_memory() if available is None else available
    if available is None:
        return
    parts = estimate(exp)
    total = sum(size for size, _ in parts.values()) * concurrent
    if total <= USABLE_SHARE * available:
        return
    _, key = max(parts.values())
    detail = ", ".join(f"{name} {_size(size)}" for name, (size, _) in parts.items())
    who = f"{concurrent} trials at once need" if concurrent > 1 else "this trial needs"
    raise ConfigError(f"{key}: {who} about {_size(total)} of memory ({detail}{' each' if concurrent > 1 else ''}) "
                      f"but {_size(available)} is available; make it smaller"
                      + (" or run fewer workers" if concurrent > 1 else ""))


def check_writable(folder: Path) -> None:
    """ConfigError unless results can be written under ``folder``: a file is created (and
    removed at once) in the nearest folder of the path that exists, so a read-only file
    system, a special one (/proc, /sys) or missing permissions are found before training."""
    import tempfile

    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigError(f"{probe}: is a file, so results cannot be written under it; choose another -o/--results-dir")
    try:
        handle, name = tempfile.mkstemp(prefix=".nnlab-write-check-", dir=probe)
        os.close(handle)
        os.unlink(name)
    except OSError as exc:
        raise ConfigError(f"{probe}: not writable ({exc.strerror or exc}), so results cannot be written to {folder}; "
                          "choose another -o/--results-dir") from None


def preflight(trials: list, study_dir: Path, concurrent: int = 1) -> None:
    """Both checks for a planned study before anything runs: its folder can be written, and
    ``concurrent`` of its trials fit in memory at once (0: they run elsewhere, on a cluster)."""
    check_writable(study_dir)
    for trial in trials if concurrent else []:
        check_memory(trial.experiment, concurrent=min(concurrent, len(trials)))
