"""Where trials run: in this process, in a pool of local worker processes, or on a Dask
cluster (``dask.py``). Every executor runs the same function, :func:`execute`, on a resolved
config and hands back the trial's records; only the calling process writes the study.

To add an executor: implement the :class:`Executor` protocol and add it to
``make_executor``.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
from collections import deque
from pathlib import Path
from typing import Protocol

from ..config import Experiment
from ..errors import ConfigError
from ..train.records import TrialRecords, failed_records
from ..train.trial import BLAS_THREADS, run_trial

EXECUTORS = ("serial", "local", "dask")


class Executor(Protocol):
    """``submit`` a trial, collect finished ones with ``next_done`` (blocks), keep at most
    ``capacity`` in flight; ``close`` when done, ``terminate`` on an interrupt."""

    name: str
    where: str    # for the line before a study runs: "on 2 worker processes"

    @property
    def capacity(self) -> int: ...

    def submit(self, trial_id: str, config: dict, checkpoints: str | None = None, stop_at: int | None = None) -> None:
        """Run the trial of ``config``; ``checkpoints``: its checkpoint folder (executors whose
        workers share this disk; None otherwise), ``stop_at``: a budget of epochs."""

    def next_done(self) -> tuple[str, TrialRecords]: ...

    def check(self, trials: list) -> None:
        """Before the first submit: ConfigError if the trials cannot run here as planned (a Dask
        worker that would compute other bytes, or lacks the data)."""

    def finished(self) -> list[tuple[str, TrialRecords]]:
        """Results already back and not yet taken, without waiting (kept on an interrupt)."""

    def close(self) -> None: ...

    def terminate(self) -> None: ...


def execute(config: dict, checkpoints: str | None = None, stop_at: int | None = None) -> TrialRecords:
    """Train one resolved config (plain data, so it crosses process and network boundaries),
    going on from its checkpoint folder's snapshot when there is one."""
    from ..train.checkpoint import CheckpointStore

    exp = Experiment.model_validate(config)
    store = CheckpointStore(Path(checkpoints), exp.config_hash()) if checkpoints else None
    return run_trial(exp, checkpoints=store, stop_at=stop_at)


class SerialExecutor:
    """Runs each trial in this process when its result is asked for, on ``threads`` threads
    (``nnlab run`` uses every core; the bytes are those of one); an ``observer`` watches it
    (``nnlab run``'s console: the doctor's findings, a progress bar)."""

    name = "serial"
    capacity = 1
    where = "in this process"
    shares_disk = True   # checkpoints are written where this process can read them again

    def __init__(self, threads: int = 1, observer=None):
        self.pending: deque = deque()
        self.threads = threads
        self.observer = observer

    def check(self, trials: list) -> None:
        pass

    def finished(self) -> list:
        return []   # a trial runs when its result is asked for: nothing waits here

    def submit(self, trial_id: str, config: dict, checkpoints: str | None = None, stop_at: int | None = None) -> None:
        self.pending.append((trial_id, config, checkpoints, stop_at))

    def next_done(self):
        from ..train.checkpoint import CheckpointStore

        trial_id, config, checkpoints, stop_at = self.pending.popleft()
        exp = Experiment.model_validate(config)
        store = CheckpointStore(Path(checkpoints), exp.config_hash()) if checkpoints else None
        return trial_id, run_trial(exp, self.threads, self.observer, checkpoints=store, stop_at=stop_at)

    def close(self):
        pass

    def terminate(self):
        self.pending.clear()


def _worker_init() -> None:
    # Ctrl-C goes to the parent, which stops the pool; workers just die with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(BLAS_THREADS)


def die_with_parent() -> None:
    """Linux: SIGKILL this process when the one that started it ends. The pool's forkserver
    dies with the sweep (runtime/jit_preload.py) and each worker with the forkserver: a sweep
    killed with SIGKILL used to leave its workers to finish their trial and each print a
    BrokenPipeError traceback, writing its result to the dead sweep."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass   # not Linux: a worker of a killed sweep may still print its broken pipe


class LocalExecutor:
    """A pool of long-lived worker processes (forkserver: no fork of a threaded parent),
    so many short trials do not each pay a process start and imports."""

    name = "local"
    shares_disk = True

    def __init__(self, workers: int):
        self.capacity = workers
        self.where = f"on {workers} worker processes"
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["nnlab.sweep.executors", "nnlab.runtime.jit_preload"])   # workers fork with both
        # The pool's helper processes (forkserver, resource tracker) start here and inherit this:
        # after a kill, the tracker's "leaked semaphore" warning is no news to the user.
        quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
        before = os.environ.get("PYTHONWARNINGS")
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [before, quiet]))
        try:
            self.pool = context.Pool(workers, initializer=_worker_init)
        finally:
            if before is None:
                os.environ.pop("PYTHONWARNINGS", None)
            else:
                os.environ["PYTHONWARNINGS"] = before
        self.done: queue.Queue = queue.Queue()

    def check(self, trials: list) -> None:
        pass   # its workers fork from this machine's nnlab: the same kernels

    def finished(self) -> list:
        out = []
        while True:
            try:
                out.append(self.done.get_nowait())
            except queue.Empty:
                return out

    def submit(self, trial_id: str, config: dict, checkpoints: str | None = None, stop_at: int | None = None) -> None:
        self.pool.apply_async(
            execute, (config, checkpoints, stop_at),
            callback=lambda records: self.done.put((trial_id, records)),
            error_callback=lambda exc: self.done.put((trial_id, failed_records(config, exc))))

    def next_done(self):
        return self.done.get()

    def close(self):
        self.pool.close()
        self.pool.join()

    def terminate(self):
        self.pool.terminate()
        self.pool.join()


def executor_workers(kind: str, workers: int | None, scheduler: str | None) -> int:
    """Check a command line's executor options (ConfigError, exit 2, for a bad combination)
    and return how many trials run at once on this machine (0 for a Dask cluster).
    ``workers`` None means the default: one per core for ``local``."""
    if kind not in EXECUTORS:
        raise ConfigError(f"unknown executor '{kind}'; choose {', '.join(EXECUTORS)}")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if kind == "dask":
        if not scheduler:
            raise ConfigError("--executor dask needs --scheduler tcp://host:8786 (or a scheduler file)")
        if workers is not None:
            raise ConfigError("--workers is for --executor local; a Dask cluster runs one trial per worker thread "
                              "(start workers with --nthreads 1)")
        return 0
    if scheduler:
        raise ConfigError("--scheduler goes with --executor dask")
    if kind == "serial":
        if workers not in (None, 1):
            raise ConfigError(f"--executor serial runs one trial at a time; drop --workers {workers} "
                              "or use --executor local")
        return 1
    return workers or os.cpu_count() or 1


def make_executor(kind: str, workers: int | None, scheduler: str | None) -> Executor:
    """The executor a command line asks for (options checked by ``executor_workers``)."""
    local = executor_workers(kind, workers, scheduler)
    if kind == "dask":
        from .dask import DaskExecutor

        assert scheduler is not None
        return DaskExecutor(scheduler)
    return SerialExecutor() if local == 1 else LocalExecutor(local)
