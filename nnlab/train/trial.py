"""``run_trial(exp) -> TrialRecords``: one resolved experiment, trained with one BLAS
thread, diagnosed, never raising for a failure inside training (it becomes status
``failed`` with the error). Every executor runs trials through here."""

from __future__ import annotations

import os
import platform
import traceback

import numpy as np
from threadpoolctl import threadpool_limits

from .. import __version__
from ..config import Experiment
from .callbacks import Callback
from .loop import fit
from .probes import UnitStats
from .records import TrialRecords, failed_records
from .setup import TrialSetup
from .setup import prepare as _prepare
from .summary import summarize

# OpenBLAS gives different bytes with 1 and 2 threads (measured), so every trial calls BLAS
# with one thread wherever it runs: alone, in a pool or on a Dask worker. A single run uses
# its other cores through nn/parallel.py, which keeps the one-thread bytes.
BLAS_THREADS = 1


def environment(fused: bool = False) -> dict:
    """Where and with what arithmetic the trial ran (see pinning.py): nnlab, Python, NumPy,
    BLAS library/version/kernel/threads, NumPy's active CPU dispatch targets, the CPU,
    whether the kernel pin held, and ``threads``: how many threads the trial's split products
    ran on (nn/parallel.py; the bytes do not depend on it) and ``fused_kernels``: what
    compiled the optimizer's one-pass update when the trial's optimizer used one (``fused``),
    else "none" (nn/kernels.py; nor on that)."""
    from ..runtime import kernels
    from ..runtime.pinning import arithmetic
    from ..runtime.threads import threads

    return {"nnlab": __version__, "python": platform.python_version(), "platform": platform.platform(),
            "pid": os.getpid(), **arithmetic(BLAS_THREADS), "threads": threads(),
            "fused_kernels": kernels.describe() if fused else "none"}


def prepare(exp: Experiment, download: bool = True) -> TrialSetup:
    """Load data and build the model; ConfigError / DataError surface here, before training."""
    with threadpool_limits(BLAS_THREADS):
        return _prepare(exp, download=download)


def run_trial(exp: Experiment, setup: TrialSetup | None = None, callbacks: list[Callback] | tuple = (),
              doctor_events: list | None = None) -> TrialRecords:
    """Train ``exp``; a diverged run is a result, an exception is recorded as ``failed``.

    The doctor's checks (before training) lead the trial's events, then the diagnosis.
    ``callbacks`` observe training (progress bars); unit statistics are added here."""
    from ..diagnose import settle
    from ..diagnose.doctor import check
    # Overflow on the way to NaN is expected and detected explicitly: no numpy warnings.
    with threadpool_limits(BLAS_THREADS), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            setup = setup or _prepare(exp)
            if doctor_events is None:
                doctor_events = check(setup)
            stats = UnitStats(setup.model, setup.probe, setup.weight_indices) if exp.train.unit_stats else None
            result = fit(setup, ([stats] if stats else []) + list(callbacks))
            records = result.records
            records.after_first_step = stats.after_first_step if stats else {}
            records.summary = summarize(setup, result, records.after_first_step)
            # with evidence that training worked, the doctor's unit and lr findings are info too
            records.summary["events"] = settle(doctor_events, records.summary.get("learned")) + records.summary["events"]
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a failed trial is recorded, the sweep goes on
            records = failed_records(exp.resolved(), exc, traceback.format_exc(limit=8))
    records.summary["config_hash"] = exp.config_hash()
    records.summary["environment"] = environment(fused=getattr(getattr(setup, "optimizer", None), "fused", False))
    records.summary.setdefault("events", [])
    return records
