"""run_trial(exp) -> TrialRecords: train one resolved experiment, never raising for a
failure inside training (it becomes status ``failed`` with the error)."""

from __future__ import annotations

import os
import platform
import traceback

import numpy as np
from threadpoolctl import threadpool_limits

from . import __version__
from .config import Experiment
from .trainer import Trainer, TrialRecords

# OpenBLAS gives different bytes with 1 and 2 threads (measured), so every trial runs
# with one BLAS thread wherever it runs: alone, in a pool or on a Dask worker.
BLAS_THREADS = 1


def environment() -> dict:
    return {"nnlab": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "blas_threads": BLAS_THREADS, "pid": os.getpid()}


def prepare(exp: Experiment, download: bool = True) -> Trainer:
    """Load data and build the model; ConfigError / DataError surface here, before training."""
    with threadpool_limits(BLAS_THREADS):
        return Trainer(exp, download=download)


def run_trial(exp: Experiment, trainer: Trainer | None = None, on_step=None, on_epoch=None,
              doctor_events: list | None = None) -> TrialRecords:
    """Train ``exp``; a diverged run is a result, an exception is recorded as ``failed``.

    The doctor's checks (before training) lead the trial's events, then the diagnosis."""
    from .doctor import check
    # Overflow on the way to NaN is expected and detected explicitly: no numpy warnings.
    with threadpool_limits(BLAS_THREADS), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            trainer = trainer or Trainer(exp)
            if doctor_events is None:
                doctor_events = check(trainer)
            records = trainer.fit(on_step=on_step, on_epoch=on_epoch)
            records.summary["events"] = doctor_events + records.summary["events"]
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a failed trial is recorded, the sweep goes on
            records = TrialRecords(config=exp.resolved())
            records.summary = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                               "traceback": traceback.format_exc(limit=8)}
    records.summary["config_hash"] = exp.config_hash()
    records.summary["environment"] = environment()
    records.summary.setdefault("events", [])
    return records
