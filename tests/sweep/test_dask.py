"""Dask as the README tells a user to start it: `dask scheduler` and workers started from a
shell (their environment knows nothing of nnlab's kernel pins), then `nnlab sweep --executor
dask`. The study is byte-identical to a serial run, or refused in one line before anything
runs; `nnlab worker` starts a worker that gives the serial bytes on any machine."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnlab.results.store import trial_dirs

from conftest import needs_mnist, write

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed", reason="dask.distributed is in the dev extra")

STUDY = """
name: d
data: {name: spirals, n_samples: 600, n_test: 200}
model: {hidden: [32]}
optimizer: {name: adam, lr: 0.01}
train: {epochs: 4, batch_size: 32}
sweep: {grid: {model.activation: [relu, tanh]}, seeds: 2}
"""
PINS = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "NNLAB_PINNED")


def shell_env() -> dict:
    """The environment of a user's shell: none of the pins importing nnlab set in this process."""
    return {k: v for k, v in os.environ.items() if k not in PINS}


def fingerprints(study: Path) -> dict:
    return {t.name: json.loads((t / "summary.json").read_text())["fingerprint"] for t in trial_dirs(study)}


@pytest.fixture
def cluster(tmp_path):
    """A `dask scheduler` on loopback; ``start(command)`` adds a worker started as from a shell."""
    from distributed import Client

    bin_dir = Path(sys.executable).parent
    scheduler_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([bin_dir / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", scheduler_file], env=shell_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]

    def start(command: list, count: int = 1, **env):
        for _ in range(count):
            procs.append(subprocess.Popen([*command, "--scheduler-file", scheduler_file, "--host", "127.0.0.1",
                                           "--nthreads", "1", "--no-dashboard"], env={**shell_env(), **env},
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(count, timeout=60)

    def stop_workers():
        from distributed import Client

        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.retire_workers(list(client.scheduler_info()["workers"]))
        for proc in procs[1:]:
            proc.terminate()
            proc.wait(timeout=30)
        del procs[1:]

    start.stop_workers = stop_workers
    start.file = scheduler_file
    try:
        yield start
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


@pytest.fixture
def serial(cli, tmp_path):
    config = write(tmp_path / "d.yaml", STUDY)
    assert cli("sweep", config, "--executor", "serial", "-q", "-o", tmp_path / "serial")[0] == 0
    return config, fingerprints(tmp_path / "serial" / "d")


def test_a_worker_started_by_hand_gives_the_serial_bytes_or_is_refused(cli, tmp_path, cluster, serial):
    """`dask worker` from a shell loads NumPy before nnlab: on an AVX-512 machine its kernels
    differ from a serial run's. The sweep must then refuse in one line, naming `nnlab worker`."""
    config, reference = serial
    cluster([Path(sys.executable).parent / "dask", "worker"], count=2)
    code, out, err = cli("sweep", config, "--executor", "dask", "--scheduler", cluster.file, "-q")
    study = tmp_path / "results" / "d"
    print(f"hand-started worker: exit {code}; {err.strip()}")   # which way this machine went (pytest -s)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and "would compute other bytes" in err and "nnlab worker" in err
        assert trial_dirs(study) == []
    else:
        assert code == 0, out + err
        assert fingerprints(study) == reference


def test_nnlab_worker_gives_the_serial_bytes(cli, tmp_path, cluster, serial):
    config, reference = serial
    cluster([Path(sys.executable).parent / "nnlab", "worker"], count=2)
    code, out, err = cli("sweep", config, "--executor", "dask", "--scheduler", cluster.file, "-q")
    assert code == 0, out + err
    study = tmp_path / "results" / "d"
    assert fingerprints(study) == reference
    pins = {json.loads((t / "summary.json").read_text())["environment"]["pin"]["pinned"] for t in trial_dirs(study)}
    assert pins == {True}


@needs_mnist
def test_a_worker_without_the_data_is_refused_before_anything_runs(cli, tmp_path, cluster):
    """A worker on a machine without MNIST (its NNLAB_DATA is elsewhere) would fail every trial."""
    config = write(tmp_path / "m.yaml", "name: m\ndata: {name: mnist, subset: 500, test_subset: 100}\n"
                                        "model: {hidden: [16]}\ntrain: {epochs: 1}\n")
    cluster([Path(sys.executable).parent / "nnlab", "worker"], NNLAB_DATA=str(tmp_path / "nothing"), NNLAB_OFFLINE="1")
    code, out, err = cli("sweep", config, "--executor", "dask", "--scheduler", cluster.file, "-q")
    assert code == 2 and "cannot load the study's data" in err and "mnist" in err, out + err
    assert len(err.strip().splitlines()) == 1 and trial_dirs(tmp_path / "results" / "m") == []
