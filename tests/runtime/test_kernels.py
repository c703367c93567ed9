"""The fused optimizer kernel computes the NumPy code's bytes (nn/kernels.py), so whether
Numba is installed never changes a trial."""

import os
import subprocess
import sys
from functools import partial

import numpy as np
import pytest

from nnlab.config import load_config
from nnlab.nn.optim import Adam, AdamW, _adam_fused, _adam_update
from nnlab.results.manifest import trial_files
from nnlab.runtime import kernels
from nnlab.train.trial import run_trial

from conftest import ROOT

needs_numba = pytest.mark.skipif(not kernels.enabled(),
                                 reason="Numba is not installed (or NNLAB_JIT=0): nnlab runs the NumPy code")


def _awkward(dtype, n, rng) -> np.ndarray:
    """Normal values mixed with zeros, subnormals, huge values, infinities and NaN."""
    info = np.finfo(dtype)
    x = rng.standard_normal(n).astype(dtype)
    specials = np.array([0.0, -0.0, info.smallest_subnormal, -3 * info.smallest_subnormal, info.tiny / 3,
                         info.max / 2, -info.max, np.inf, -np.inf, np.nan, 1e-20, 1e20], dtype)
    where = rng.integers(0, n, n // 3)
    x[where] = specials[rng.integers(0, len(specials), len(where))]
    return x


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_adam_gives_numpys_bytes_on_awkward_values(dtype):
    rng = np.random.default_rng(11)
    for n in (1, 7, 8, 9, 31, 1000, 4099):
        for t, (b1, b2), eps, lr in ((1, (0.9, 0.999), 1e-8, 1e-3), (7, (0.5, 0.9), 1e-3, 0.1),
                                     (3000, (0.9, 0.999), 1e-8, 3.0)):
            c = tuple(np.dtype(dtype).type(v) for v in (b1, 1 - b1, b2, 1 - b2, np.sqrt(1 - b2 ** t), eps,
                                                         lr / (1 - b1 ** t)))
            w, g, m = (_awkward(dtype, n, rng) for _ in range(3))
            v = np.abs(_awkward(dtype, n, rng))
            numpy_arrays = [x.copy() for x in (w, g, m, v)]
            with np.errstate(all="ignore"):
                _adam_update(c, *numpy_arrays, np.empty_like(w))
                _adam_fused(kernels.kernel("adam"), c, w, g, m, v)
            for fused, reference in zip((w, g, m, v), numpy_arrays, strict=True):
                assert fused.tobytes() == reference.tobytes(), (dtype, n, t)


@needs_numba
@pytest.mark.parametrize("optimizer", [Adam, AdamW])
def test_the_optimizers_use_the_fused_kernel_when_it_is_there(optimizer, monkeypatch):
    def job():
        opt = optimizer(lr=0.1)
        opt.steps = 1
        fn, arrays = opt.update(np.ones(5, np.float32), np.ones(5, np.float32), {})
        assert isinstance(fn, partial)
        return fn.func, len(arrays)
    assert job() == (_adam_fused, 4)
    monkeypatch.setattr(kernels, "_kernels", {})
    assert job() == (_adam_update, 5)


@needs_numba
@pytest.mark.parametrize("config", ["spirals.yaml", "cnn_strokes.yaml"])
def test_a_trial_has_the_same_fingerprint_with_and_without_the_fused_kernel(config, monkeypatch):
    def fingerprint():
        records = run_trial(load_config(ROOT / "configs" / config, []))
        assert records.summary["status"] == "complete", records.summary.get("error")
        trial_files(records)
        return records.summary["fingerprint"]
    fused = fingerprint()
    monkeypatch.setattr(kernels, "_kernels", {})
    assert fingerprint() == fused


def test_nnlab_jit_0_runs_the_numpy_code():
    env = {**os.environ, "NNLAB_JIT": "0"}
    out = subprocess.run([sys.executable, "-c", "from nnlab.runtime import kernels; print(kernels.enabled())"],
                         capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_a_compiler_that_fails_leaves_the_numpy_code_with_a_warning(monkeypatch):
    """E.g. no writable cache folder, or an LLVM error: training goes on, with the same bytes."""
    def broken():
        raise RuntimeError("cannot cache function 'adam': no locator available")
    monkeypatch.setattr(kernels, "_kernels", None)
    monkeypatch.setattr(kernels, "_compile", broken)
    with pytest.warns(RuntimeWarning, match="did not compile .*no locator available.*same results"):
        assert kernels.enabled() is False
    assert kernels.describe() == "none" and kernels.kernel("adam") is None


@needs_numba
@pytest.mark.parametrize("w, g", [
    (np.ones(6, np.float16), np.ones(6, np.float16)),                       # a dtype the kernel was not built for
    (np.asfortranarray(np.ones((3, 4), np.float32)), np.ones((3, 4), np.float32)),   # Fortran-ordered
    (np.ones(6, np.float32), np.ones(6, np.float64)),                       # mixed dtypes
], ids=["float16", "fortran", "mixed"])
def test_arrays_the_kernel_does_not_take_run_the_numpy_code(w, g):
    """Review: these raised a Numba TypeError from the Python API; NumPy's code handles them."""
    reference_w, optimizer, reference = w.copy(order="K"), Adam(lr=0.1), Adam(lr=0.1)
    optimizer.step({"p": w}, {"p": g})
    reference.steps = 1
    fn, arrays = reference.update(reference_w, g, {})
    assert fn.func is _adam_update
    fn(*arrays)
    assert w.tobytes() == reference_w.tobytes() and not np.array_equal(w, np.ones_like(w))


@needs_numba
def test_the_record_names_the_kernel_only_for_trials_that_used_it():
    """Review: recording it loaded Numba (0.5 s, 110 MB) after every trial, SGD ones included."""
    def fused(*overrides):
        records = run_trial(load_config(ROOT / "configs" / "spirals.yaml", ["train.epochs=1", *overrides]))
        return records.summary["environment"]["fused_kernels"]
    assert fused() == kernels.describe() and fused().startswith("numba ")
    assert fused("optimizer.name=sgd", "optimizer.lr=0.1") == "none"
