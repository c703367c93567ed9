"""Fused element-wise kernels: the optimizer's update in one pass over its arrays.

NumPy runs Adam's update as 13 array operations, each a pass over every parameter (about
0.42 ms for a 784x256 layer, measured); compiled as one loop (Numba) the same operations
take about 0.12 ms and release the GIL, so two threads can share them.

The bytes do not change. A kernel computes, element by element, the same correctly rounded
IEEE operations (+, -, *, /, sqrt), on the same float32 or float64 values, in the same order as
the NumPy code beside it, so every element gets the same result whatever the vector width:
Numba compiles without fast-math (no fused multiply-add, no reassociation, no reciprocal
approximations), with NumPy's error model (a division by zero gives inf, as in NumPy).
``tests/runtime/test_kernels.py`` compares both on values that include zeros, subnormals, huge
numbers, infinities and NaN, in both dtypes. One exception: when two NaNs of opposite sign
meet in one operation, which sign the result keeps may differ (it also differs between
NumPy's own vector and scalar loops, so it never depended only on the values). No trial
keeps such a value: a non-finite loss or gradient skips the update and ends training, and a
NaN in a weight or moment makes the next loss NaN.

Numba is optional: without it, or with ``NNLAB_JIT=0``, the NumPy code runs, with the same
bytes. Kernels compile on first use in a process (about 0.4 s; cached on disk afterwards)
and are loaded when an optimizer is made, before a trial's clock starts.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

_kernels: dict[str, Callable] | None = None

ADAM_SIGNATURES = [f"void({t}[::1], {t}[::1], {t}[::1], {t}[::1], {', '.join([t] * 7)})" for t in ("f4", "f8")]


def enabled() -> bool:
    """Whether the compiled kernels are used (Numba importable and NNLAB_JIT not 0)."""
    return bool(_load())


def describe() -> str:
    """"numba 0.68.1" when the kernels are loaded in this process, else "none" (never loads them)."""
    if not _kernels:
        return "none"
    from importlib.metadata import version

    return f"numba {version('numba')}"


def kernel(name: str) -> Callable | None:
    """The compiled kernel ``name``, or None (use the NumPy code)."""
    return _load().get(name)


def _load() -> dict[str, Callable]:
    global _kernels
    if _kernels is None:
        _kernels = {}
        if os.environ.get("NNLAB_JIT", "1") != "0":
            try:
                _kernels = _compile()
            except ImportError:      # no Numba (or one that does not fit this NumPy): the NumPy code
                pass
            except Exception as exc:  # noqa: BLE001 - a compiler that fails must not stop training
                warnings.warn(f"nnlab: the fused optimizer kernel did not compile ({type(exc).__name__}: "
                              f"{exc}); using the NumPy code, with the same results", RuntimeWarning, stacklevel=2)
    return _kernels


def _compile() -> dict[str, Callable]:
    import numba
    import numpy as np

    jit = numba.njit(ADAM_SIGNATURES, nogil=True, cache=True, error_model="numpy", fastmath=False)

    @jit
    def adam(w, g, m, v, b1, one_minus_b1, b2, one_minus_b2, root_correction2, eps, step):
        # optim._adam_update, element by element, operation for operation
        for i in range(w.size):
            gi = g[i]
            mi = m[i] * b1 + gi * one_minus_b1
            vi = v[i] * b2 + (gi * gi) * one_minus_b2
            m[i] = mi
            v[i] = vi
            w[i] = w[i] - (mi / (np.sqrt(vi) / root_correction2 + eps)) * step

    return {"adam": adam}
