"""Trials on a Dask distributed cluster, with the bytes of a serial run or not at all.

Trials run on the cluster's workers and their records come back to this client, which alone
writes the study (no shared file system needed). A worker computes the same bytes as this
machine only if it runs the same nnlab and NumPy with the same kernels: OpenBLAS's and
NumPy's, which both pick code by CPU when NumPy loads. A worker started from a shell with
``dask worker`` loads NumPy before nnlab can pin them, so on an AVX-512 machine it computes
with other kernels (SkylakeX, AVX-512 loops) than an ``nnlab`` process does. Hence:

* ``nnlab worker SCHEDULER`` starts a Dask worker in a process whose kernels are pinned
  before NumPy loads (it replaces itself with ``dask worker`` after setting the pins);
* before it submits anything, :class:`DaskExecutor` asks every worker what it computes with
  (nnlab and NumPy versions, BLAS kernel and version, NumPy's CPU dispatch, whether the pin
  holds) and whether it has the study's data (the same files, by SHA-256), and refuses a
  worker that differs, in one line saying how to start it, unless ``NNLAB_NATIVE_KERNELS=1``
  chose each machine's own kernels (then every trial records what it ran with and a report
  names the mix);
* a trial that comes back from a worker that joined later with other arithmetic is not
  stored as a result: it is recorded as failed with the reason (``--retry`` runs it again).
"""

from __future__ import annotations

import os
import re

from ..errors import ConfigError
from ..train.records import TrialRecords, failed_records
from .executors import execute

# What must match for the same bytes (pinning.COMPONENTS without the thread count, which a
# trial sets itself).
MATCH = (("nnlab", "nnlab"), ("numpy", "NumPy"), ("blas_kernel", "BLAS kernel"), ("blas_version", "BLAS version"),
         ("numpy_dispatch", "NumPy CPU features"))
HOW = ("start workers with `nnlab worker {scheduler}` (it pins the kernels before NumPy loads), or set "
       "NNLAB_NATIVE_KERNELS=1 here to accept each machine's own kernels (recorded per trial)")


def is_address(scheduler: str) -> bool:
    """tcp://host:8786 or host:8786, rather than the path of a scheduler file."""
    return "://" in scheduler or bool(re.fullmatch(r"[\w.-]+:\d+", scheduler))


def how(scheduler: str) -> str:
    """How to start a worker that gives these bytes, for this scheduler address or file."""
    return HOW.format(scheduler=scheduler if is_address(scheduler) else f"--scheduler-file {scheduler}")


def arithmetic_facts() -> dict:
    """What this process computes with (run on each worker, and here)."""
    from .. import __version__
    from ..runtime.pinning import arithmetic

    facts = arithmetic(1)
    return {"nnlab": __version__, **{k: facts.get(k) for k, _ in MATCH if k != "nnlab"}, "pin": facts.get("pin")}


def data_problems(sections: list[dict]) -> list[str]:
    """What a worker lacks of a study's data (run on each worker), one line each: IDX files
    (MNIST, Fashion-MNIST) found and verified by their checksums, a CSV or npz file at its path
    with the SHA-256 the config names. Generated sets need nothing."""
    from pathlib import Path

    from ..data.idx import require_idx, verify_idx
    from ..errors import NnlabError
    from ..results import fsio

    problems = []
    for section in sections:
        name = section.get("name")
        try:
            if name in ("mnist", "fashion_mnist"):
                verify_idx(name, require_idx(name, section.get("root")))
            elif name in ("csv", "npz"):
                found = fsio.sha256_of(Path(section["path"]))
                if found != section.get("sha256"):
                    problems.append(f"{section['path']} there is another file (SHA-256 {found[:12]}..., the study's is "
                                    f"{str(section.get('sha256'))[:12]}...): it changed, or is not the same data")
        except NnlabError as exc:
            problems.append(str(exc))
        except OSError as exc:
            problems.append(f"{section.get('path')}: {exc.strerror or exc}")
    return problems


def mismatch(expected: dict, found: dict) -> list[str]:
    """'BLAS kernel: SkylakeX there, Haswell here' for each component that differs."""
    return [f"{name}: {found.get(key)} there, {expected.get(key)} here" for key, name in MATCH
            if found.get(key) != expected.get(key)]


class DaskExecutor:
    """Trials on a Dask cluster; ``scheduler`` is an address (tcp://host:8786) or the path of
    a scheduler file. ``check(trials)`` vets every worker before the first submit."""

    name = "dask"
    shares_disk = False   # workers on other machines: checkpoints stay out of it

    def __init__(self, scheduler: str, connect_timeout: float = 30):
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise ConfigError("--executor dask needs dask.distributed: pip install 'nnlab[dask]'") from None
        try:
            if is_address(scheduler):
                self.client = Client(scheduler, timeout=connect_timeout)
            else:
                self.client = Client(scheduler_file=scheduler, timeout=connect_timeout)
            self.client.wait_for_workers(1, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler (or any worker) at {scheduler}: {exc}") from None
        self.scheduler = scheduler
        self.as_completed = as_completed()
        self.futures: dict = {}
        self.where = f"on the Dask cluster at {scheduler}"
        self.native = os.environ.get("NNLAB_NATIVE_KERNELS") == "1"
        self.expected = arithmetic_facts()

    @property
    def capacity(self) -> int:
        """One trial per worker thread currently on the cluster (workers may join later)."""
        return max(sum(self.client.nthreads().values()), 1)

    def check(self, trials: list) -> None:
        """ConfigError (one line) when a worker would compute other bytes than this machine,
        or lacks the study's data."""
        address = self.scheduler
        for worker, found in self.client.run(arithmetic_facts).items():
            differ = mismatch(self.expected, found)
            if found.get("nnlab") != self.expected["nnlab"] or (differ and not self.native):
                raise ConfigError(f"Dask worker {worker} would compute other bytes than this machine "
                                  f"({'; '.join(differ)}); {how(address)}")
        sections = list({repr(s): s for s in (t.experiment.data.model_dump(mode="json") for t in trials)}.values())
        for worker, problems in self.client.run(data_problems, sections).items():
            if problems:
                raise ConfigError(f"Dask worker {worker} cannot load the study's data: {problems[0]}")

    def submit(self, trial_id: str, config: dict, checkpoints: str | None = None, stop_at: int | None = None) -> None:
        # a worker's disk is not this one: no checkpoints; a budget trains from the start (same bytes)
        future = self.client.submit(execute, config, None, stop_at, key=f"nnlab-{trial_id}-{os.getpid()}", pure=False)
        self.futures[future.key] = (trial_id, config, future)
        self.as_completed.add(future)

    def next_done(self) -> tuple[str, TrialRecords]:
        future = next(self.as_completed)
        trial_id, config, _ = self.futures.pop(future.key)
        return self._records(trial_id, config, future)

    def _records(self, trial_id: str, config: dict, future) -> tuple[str, TrialRecords]:
        """A finished future's records; a failed task, or one computed with other arithmetic
        (a worker that joined after the check), is recorded as failed with the reason."""
        try:
            records = future.result()
        except Exception as exc:  # a worker died or the task was lost
            return trial_id, failed_records(config, exc)
        found = records.summary.get("environment") or {}
        differ = mismatch(self.expected, found)
        if found.get("nnlab") != self.expected["nnlab"] or (differ and not self.native):
            return trial_id, failed_records(config, RuntimeError(
                f"computed on a worker with other arithmetic ({'; '.join(differ)}), so not stored as a result; "
                + how(self.scheduler)))
        return trial_id, records

    def finished(self) -> list[tuple[str, TrialRecords]]:
        out = []
        for key, (trial_id, config, future) in list(self.futures.items()):
            if future.done() and future.status == "finished":
                del self.futures[key]
                out.append(self._records(trial_id, config, future))
        return out

    def close(self) -> None:
        self.client.close()

    def terminate(self) -> None:
        try:
            self.client.cancel([future for _, _, future in self.futures.values()])
        finally:
            self.client.close()
