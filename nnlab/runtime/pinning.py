"""The same bytes on any AVX2 x86-64 machine: pin the arithmetic before NumPy loads.

Two things pick float code by CPU. OpenBLAS (bundled with NumPy) chooses its matrix kernels
at load time: Haswell and Zen kernels give the same bytes, Sandybridge or Nehalem others,
and an AVX-512 machine would get SkylakeX kernels. NumPy dispatches some loops (exp, log,
...) to AVX-512 code where the CPU has it. So :func:`pin_environment`, called by the
``nnlab`` package as it is imported (the ``nnlab`` command, ``python -m nnlab.studies``,
the test suite, a notebook that imports nnlab before NumPy), sets

* ``OPENBLAS_CORETYPE=Haswell`` (AVX2 + FMA kernels; any AVX2 x86-64 CPU runs them), and
* ``NPY_DISABLE_CPU_FEATURES`` to NumPy's AVX-512 dispatch targets (for the NumPy release
  family whose target names are known here; others are recorded, not pinned),

and worker processes inherit both. It does nothing when NumPy is already loaded (a Dask
worker, a notebook), on a CPU without AVX2 or another architecture, or when the user asks
for the machine's own kernels with ``NNLAB_NATIVE_KERNELS=1`` (faster on AVX-512, and
then trials are reproducible on that kind of machine only). Every trial records what held:
:func:`arithmetic` reads the kernel OpenBLAS actually loaded and NumPy's active features.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

KERNEL = "Haswell"
# NumPy >= 2.4 names its x86 dispatch targets by micro-architecture level.
NUMPY_AVX512 = {(2, 4): "X86_V4 AVX512_ICL AVX512_SPR"}
OPT_OUT = "NNLAB_NATIVE_KERNELS"
MARK = "NNLAB_PINNED"

_pin: dict = {"pinned": False, "why": "nnlab was not imported before NumPy in this process"}


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _numpy_family() -> tuple[int, int] | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = version("numpy").split(".")[:2]
        return int(major), int(minor)
    except (PackageNotFoundError, ValueError):
        return None


def pin_environment() -> dict:
    """Set the pins in os.environ if they can hold; returns (and remembers) what was done.
    Called when ``nnlab`` is imported; a second call keeps what the first one did."""
    global _pin
    if _pin.get("pinned"):
        pass   # this process pinned already (importing nnlab, then the command's main)
    elif os.environ.get(OPT_OUT) == "1":
        _pin = {"pinned": False, "why": f"{OPT_OUT}=1: the machine's own kernels"}
    elif "numpy" in sys.modules:
        _pin = {"pinned": False, "why": "NumPy was loaded before nnlab could pin its kernels"}
    elif platform.machine().lower() not in ("x86_64", "amd64") or not {"avx2", "fma"} <= _cpu_flags():
        _pin = {"pinned": False, "why": f"not an AVX2 x86-64 CPU ({platform.machine()})"}
    else:
        os.environ["OPENBLAS_CORETYPE"] = KERNEL
        os.environ[MARK] = "1"   # worker processes (forkserver, spawn) inherit the pins and this mark
        disabled = NUMPY_AVX512.get(_numpy_family() or (0, 0))
        if disabled:
            os.environ["NPY_DISABLE_CPU_FEATURES"] = disabled
        _pin = {"pinned": True, "blas_kernel": KERNEL, "numpy_disabled": disabled,
                "why": "pinned" if disabled else "BLAS pinned; NumPy's feature names for this release are not known here"}
    return dict(_pin)


def numpy_blas(libraries: list[dict]) -> dict:
    """NumPy's BLAS among the loaded ones (threadpoolctl's list): SciPy brings its own
    OpenBLAS (Numba loads it), and the list's order varies from run to run. NumPy's wheels
    keep theirs in ``numpy.libs``; otherwise (a system BLAS) the first one."""
    blas = [info for info in libraries if info.get("user_api") == "blas"]
    mine = [info for info in blas if Path(str(info.get("filepath", ""))).parent.name.startswith("numpy")]
    return (mine or blas or [{}])[0]


def arithmetic(threads: int) -> dict:
    """What this process computes with: BLAS library, version, kernel, threads; NumPy's
    active dispatch targets; the CPU; and whether the pin held."""
    import numpy as np
    from threadpoolctl import threadpool_info

    blas = numpy_blas(threadpool_info())
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__  # type: ignore[no-redef]
    active = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    pin = dict(_pin)
    if not pin["pinned"] and os.environ.get(MARK) == "1" and os.environ.get(OPT_OUT) != "1":
        pin = {"pinned": True, "blas_kernel": os.environ.get("OPENBLAS_CORETYPE"),
               "numpy_disabled": os.environ.get("NPY_DISABLE_CPU_FEATURES"), "why": "pinned by the parent nnlab process"}
    record = {"numpy": np.__version__, "blas": blas.get("internal_api"), "blas_version": blas.get("version"),
              "blas_kernel": blas.get("architecture"), "blas_threads": threads,
              "numpy_dispatch": active, "cpu": cpu_model(), "pin": pin}
    if pin.get("pinned") and blas.get("architecture") and blas.get("architecture") != KERNEL:
        record["pin"]["held"] = False
    return record


COMPONENTS = (("nnlab", "nnlab"), ("numpy", "NumPy"), ("blas_kernel", "BLAS kernel"), ("blas_version", "BLAS version"),
              ("numpy_dispatch", "NumPy CPU features"), ("blas_threads", "thread count"))


def differences(stored: dict, current: dict) -> list[str]:
    """'BLAS kernel: Haswell here, SkylakeX when recorded' for each component that differs."""
    out = []
    for key, name in COMPONENTS:
        if key in stored and stored.get(key) != current.get(key):
            out.append(f"{name}: {current.get(key)} here, {stored.get(key)} when recorded")
    return out
