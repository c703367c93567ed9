"""``run_trial(exp) -> TrialRecords``: the one function that runs a trial (prepare, the
doctor's checks, training, the diagnosis), with one BLAS thread, never raising for a failure
inside training (it becomes status ``failed`` with the error). ``nnlab run``, every executor
of a sweep, ``nnlab fix`` and ``nnlab reproduce`` run trials through here; the study runner
(``sweep/runner.py``) writes what it returns."""

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
# its other cores through runtime/threads.py, which keeps the one-thread bytes.
BLAS_THREADS = 1


def environment(fused: bool = False, threads: int = 1) -> dict:
    """Where and with what arithmetic the trial ran (see runtime/pinning.py): nnlab, Python,
    NumPy, BLAS library/version/kernel/threads, NumPy's active CPU dispatch targets, the CPU,
    whether the kernel pin held, and ``threads``: how many threads the trial's split products
    ran on (runtime/threads.py; the bytes do not depend on it) and ``fused_kernels``: what
    compiled the optimizer's one-pass update when the trial's optimizer used one (``fused``),
    else "none" (runtime/kernels.py; nor on that)."""
    from ..runtime import kernels
    from ..runtime.pinning import arithmetic

    return {"nnlab": __version__, "python": platform.python_version(), "platform": platform.platform(),
            "pid": os.getpid(), **arithmetic(BLAS_THREADS), "threads": threads,
            "fused_kernels": kernels.describe() if fused else "none"}


def prepare(exp: Experiment, download: bool = True) -> TrialSetup:
    """Load data and build the model; ConfigError / DataError surface here, before training."""
    with threadpool_limits(BLAS_THREADS):
        return _prepare(exp, download=download)


class Observer:
    """How a caller watches one trial run in its own process (``nnlab run``'s console):
    :meth:`prepared` sees the data, model and the doctor's findings before training (it may
    raise to refuse, e.g. ``--strict``) and returns callbacks that watch training."""

    def prepared(self, setup: TrialSetup, findings: list[dict]) -> list[Callback]:
        return []


def run_trial(exp: Experiment, threads: int = 1, observer: Observer | None = None,
              setup: TrialSetup | None = None, checkpoints=None, stop_at: int | None = None) -> TrialRecords:
    """Prepare, check (the doctor), train and diagnose one trial: its records, ready to be
    written. A diverged run is a result; an exception inside training is recorded as
    ``failed`` with the error, so a sweep goes on. With an ``observer`` (one trial run in
    this process), a config or data error while preparing is raised instead, before
    anything is written, and so is whatever the observer raises.

    ``threads``: how many threads the trial's products, updates and evaluation may use
    (``runtime.threads``; the bytes are those of one). ``setup``: already prepared (tests).
    ``checkpoints``: the trial's ``CheckpointStore`` (go on from its snapshot, take new ones);
    ``stop_at``: a budget of epochs (successive halving)."""
    from ..diagnose.doctor import check
    from ..runtime.threads import Threads

    # Overflow on the way to NaN is expected and detected explicitly: no numpy warnings.
    with threadpool_limits(BLAS_THREADS), Threads(threads), \
            np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        callbacks: list[Callback] = []
        if observer is not None:   # errors before training are the caller's to report
            setup = setup or _prepare(exp)
            doctor_events = check(setup)
            callbacks = observer.prepared(setup, doctor_events)
        try:
            if observer is None:
                setup = setup or _prepare(exp)
                doctor_events = check(setup)
            records = _train(setup, doctor_events, callbacks, checkpoints, stop_at)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a failed trial is recorded, the sweep goes on
            records = failed_records(exp.resolved(), exc, traceback.format_exc(limit=8))
    records.summary["config_hash"] = exp.config_hash()
    records.summary["environment"] = environment(bool(setup is not None and setup.optimizer.fused), threads)
    records.summary.setdefault("events", [])
    return records


def _train(setup: TrialSetup, doctor_events: list[dict], callbacks: list[Callback], checkpoints=None,
           stop_at: int | None = None) -> TrialRecords:
    stats = UnitStats(setup.model, setup.probe, setup.weight_indices) if setup.exp.train.unit_stats else None
    result = fit(setup, ([stats] if stats else []) + list(callbacks), checkpoints, stop_at)
    records = result.records
    records.after_first_step = stats.after_first_step if stats else {}
    records.summary = summarize(setup, result, records.after_first_step, doctor_events)
    if checkpoints is not None and checkpoints.resumed_from is not None:
        records.summary["resumed_from_epoch"] = checkpoints.resumed_from   # a run interrupted, then resumed
    return records
