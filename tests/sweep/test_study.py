"""Running studies: identical bytes across executors, resume, kills, concurrency, Dask."""

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from nnlab.results.csvtext import TIMING_COLUMNS

from conftest import claims_left, write

# Tests marked slow train the 6-trial reference study, start worker pools, kill
# subprocesses mid-study or start a Dask cluster: seconds each.
slow = pytest.mark.slow

STUDY = """
name: study
data: {name: spirals, n_samples: 3000, n_test: 300}
model: {hidden: [32, 32], dropout: 0.1}
optimizer: {name: adam, lr: 0.01}
train: {epochs: 40, batch_size: 32}  # ~0.5 s a trial: kills land mid-study
sweep:
  grid: {model.activation: [relu, tanh]}
  seeds: 3
"""


def trials(study_dir: Path) -> dict[str, Path]:
    return {p.name: p for p in study_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}


def fingerprint_table(study_dir: Path) -> dict[str, str]:
    return {name: json.loads((p / "summary.json").read_text())["fingerprint"] for name, p in trials(study_dir).items()}


def metrics_without_time(path: Path) -> list[dict]:
    with open(path) as f:
        return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in csv.DictReader(f)]


def nnlab(*args, cwd, **kwargs):
    """`python -m nnlab ...` as a separate process (for kills and concurrency)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "nnlab", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.fixture(scope="module")
def serial_reference(tmp_path_factory):
    """The study run serially in this process: the bytes every other way must match."""
    from typer.testing import CliRunner

    from nnlab.cli.app import app

    root = tmp_path_factory.mktemp("serial")
    config = write(root / "study.yaml", STUDY)
    result = CliRunner().invoke(app, ["sweep", str(config), "--executor", "serial", "-q", "-o", str(root / "results")])
    assert result.exit_code == 0, result.output
    return root / "results" / "study"


@slow
def test_serial_study_writes_summary_and_plan(serial_reference):
    assert len(trials(serial_reference)) == 6
    with open(serial_reference / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["model.activation"] for r in rows] == ["relu"] * 3 + ["tanh"] * 3
    assert [r["seed"] for r in rows] == ["0", "1", "2"] * 2
    assert {r["status"] for r in rows} == {"complete"}
    assert all(float(r["final_test_acc"]) > 0.5 and r["epochs"] == "40" for r in rows)
    assert {"best_epoch", "best_val_loss", "final_val_loss", "time_s"} <= set(rows[0])
    import yaml
    planned = yaml.safe_load((serial_reference / "study.yaml").read_text())
    assert planned["axes"] == ["model.activation", "seed"] and len(planned["trials"]) == 6
    assert planned["base"]["sweep"]["seeds"] == 3


@slow
def test_workers_give_the_same_bytes_as_serial(cli, tmp_path, serial_reference):
    config = write(tmp_path / "study.yaml", STUDY)
    code, out, err = cli("sweep", config, "--workers", "2", "-q")
    assert code == 0, out + err
    assert "on 2 worker processes" in out
    parallel = tmp_path / "results" / "study"
    assert fingerprint_table(parallel) == fingerprint_table(serial_reference)
    for name, folder in trials(parallel).items():
        reference = serial_reference / name
        assert metrics_without_time(folder / "metrics.csv") == metrics_without_time(reference / "metrics.csv")
        assert (folder / "steps.csv").read_bytes() == (reference / "steps.csv").read_bytes()
        a, b = np.load(folder / "final.npz"), np.load(reference / "final.npz")
        assert all(np.array_equal(a[k], b[k]) for k in b)
    environments = [json.loads((p / "summary.json").read_text())["environment"] for p in trials(parallel).values()]
    pids = {env["pid"] for env in environments}
    assert len(pids) == 2 and os.getpid() not in pids  # two long-lived workers did all six trials
    from nnlab.runtime import kernels
    # the workers forked from a server that had loaded the fused optimizer kernel, as this process has
    assert {env["fused_kernels"] for env in environments} == {kernels.describe()}


@slow
def test_rerun_skips_extends_forces_and_retries(cli, tmp_path):
    config = write(tmp_path / "s.yaml", "name: s\ndata: {name: blobs, n_samples: 101, validation: 0}\n"
                   "model: {hidden: [4], batchnorm: before}\ntrain: {epochs: 2, batch_size: 50}\n")
    # batch 50 on 101 examples leaves a last batch of 1, which BatchNorm cannot train on: a failure
    code, out, err = cli("sweep", config, "seed=0,1", "train.batch_size=50,30", "--executor", "serial", "-q")
    assert code == 1 and "2 trial(s) failed" in err and "--retry" in err
    study = tmp_path / "results" / "s"
    with open(study / "summary.csv") as f:
        rows = {(r["seed"], r["train.batch_size"]): r for r in csv.DictReader(f)}
    assert rows[("0", "50")]["status"] == "failed" and "BatchNorm needs more than 1 example" in rows[("0", "50")]["error"]
    assert rows[("0", "30")]["status"] == "complete"
    before = {n: (p / "summary.json").stat().st_mtime_ns for n, p in trials(study).items()}

    code, out, _ = cli("sweep", config, "seed=0,1", "train.batch_size=50,30", "--executor", "serial", "-q")
    assert code == 1 and "0 trained, 4 already done" in out

    code, out, _ = cli("sweep", config, "seed=0,1,2", "train.batch_size=50,30", "--executor", "serial", "-q")
    assert "2 trained, 4 already done" in out
    assert all((study / n / "summary.json").stat().st_mtime_ns == t for n, t in before.items())

    code, out, _ = cli("sweep", config, "seed=0,1,2", "train.batch_size=50,30", "--executor", "serial", "-q", "--retry")
    assert "3 trained, 3 already done" in out and code == 1  # they fail again, deterministically

    code, out, _ = cli("sweep", config, "seed=0,1,2", "train.batch_size=30", "--executor", "serial", "-q", "--force")
    assert code == 0 and "3 trained, 0 already done" in out
    assert len(trials(study)) == 6


def test_dry_run_lists_trials_and_runs_nothing(cli, tmp_path):
    config = write(tmp_path / "study.yaml", STUDY)
    code, out, _ = cli("sweep", config, "optimizer.lr=0.1,0.01", "--dry-run")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["#", "trial", "model.activation", "optimizer.lr", "seed", "status"]
    assert len(lines) == 1 + 12 + 1 and "12 trials, 12 to run" in lines[-1]
    assert not (tmp_path / "results").exists()


@slow
def test_sigkill_mid_sweep_then_resume_matches_serial(tmp_path, serial_reference):
    config = write(tmp_path / "study.yaml", STUDY)
    proc = nnlab("sweep", config, "--workers", "2", "-q", cwd=tmp_path, start_new_session=True)
    for line in proc.stdout:  # wait for the first finished trial, then kill the whole process group
        if line.startswith("[1/6]"):
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    study = tmp_path / "results" / "study"
    finished = trials(study)
    assert 1 <= len(finished) < 6
    assert all((p / "summary.json").exists() for p in finished.values())  # whole folders only

    dry = nnlab("sweep", config, "--dry-run", cwd=tmp_path)
    out, _ = dry.communicate()
    assert "running" not in out  # killed trials are not shown as running
    assert out.count("pending") == 6 - len(finished)

    resume = nnlab("sweep", config, "--workers", "2", "-q", cwd=tmp_path)
    out, err = resume.communicate()
    assert resume.returncode == 0, err
    assert f"{6 - len(finished)} trained, {len(finished)} already done" in out
    assert fingerprint_table(study) == fingerprint_table(serial_reference)
    assert not list(study.glob(".tmp-*")) and claims_left(study) == []


@slow
def test_a_sweep_killed_alone_takes_its_workers_without_a_traceback(tmp_path):
    """`kill -9` of the sweep alone (its workers not signalled): the workers used to finish
    their trial and each print a BrokenPipeError traceback into the user's terminal.
    communicate() reads stderr until every process that holds it (workers, forkserver,
    resource tracker) has ended."""
    config = write(tmp_path / "study.yaml", STUDY)
    proc = nnlab("sweep", config, "seed=0,1,2,3,4,5", "--workers", "2", "-q", cwd=tmp_path)
    for line in proc.stdout:
        if line.startswith("[ 2/12]"):
            break
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err and "leaked semaphore" not in err, err


@slow
def test_two_sweeps_on_one_study_never_run_a_trial_twice(tmp_path, serial_reference):
    config = write(tmp_path / "study.yaml", STUDY)
    procs = [nnlab("sweep", config, "--executor", "serial", "-q", cwd=tmp_path) for _ in range(2)]
    outputs = [p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    trained = [int(out.strip().splitlines()[-1].split(" trained")[0]) for out, _ in outputs]
    assert sum(trained) == 6
    study = tmp_path / "results" / "study"
    assert fingerprint_table(study) == fingerprint_table(serial_reference)


@pytest.fixture
def dask_cluster(tmp_path):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1."""
    pytest.importorskip("distributed", reason="dask.distributed is in the dev extra")
    from distributed import Client

    dask = Path(sys.executable).with_name("dask")
    scheduler_file = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--scheduler-file", scheduler_file, *common],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    for _ in range(2):
        procs.append(subprocess.Popen([dask, "worker", "--scheduler-file", scheduler_file, "--host", "127.0.0.1",
                                       "--nthreads", "1", "--nworkers", "1", *common],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield scheduler_file
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


@slow
def test_dask_cluster_gives_the_same_bytes_as_serial(cli, tmp_path, dask_cluster, serial_reference):
    config = write(tmp_path / "study.yaml", STUDY)
    code, out, err = cli("sweep", config, "--executor", "dask", "--scheduler", dask_cluster, "-q")
    assert code == 0, out + err
    assert "on the Dask cluster" in out and "6 trained" in out
    study = tmp_path / "results" / "study"
    assert fingerprint_table(study) == fingerprint_table(serial_reference)
    hosts = {json.loads((p / "summary.json").read_text())["environment"]["pid"] for p in trials(study).values()}
    assert len(hosts) == 2  # both workers trained, the client wrote everything


@pytest.mark.parametrize("options, message", [
    pytest.param(["--executor", "dask"], "--scheduler", id="dask-without-scheduler"),
    pytest.param(["--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers is for",
                 id="workers-with-dask"),
    pytest.param(["--executor", "serail", "--workers", "1"], "unknown executor 'serail'", id="executor-typo"),
    pytest.param(["--executor", "serial", "--workers", "2"], "one trial at a time", id="workers-with-serial"),
    pytest.param(["--scheduler", "tcp://127.0.0.1:1"], "--scheduler goes with --executor dask", id="scheduler-local"),
    pytest.param(["--workers", "0"], "at least 1", id="zero-workers"),
])
def test_executor_options_that_cannot_work_are_usage_errors(cli, tmp_path, options, message):
    code, out, err = cli("sweep", write(tmp_path / "s.yaml", STUDY), *options)
    assert code == 2 and message in err, out + err
    assert err.count("\n") == 1  # one line
    assert not (tmp_path / "results").exists()  # nothing written


@slow
def test_ctrl_c_keeps_finished_trials_and_releases_claims(tmp_path, serial_reference):
    # 12 trials (seeds 0-5): after the first finishes, about 7 s of work remain, so the
    # interrupt lands mid-study even on a loaded machine (with 6 it once arrived too late)
    config = write(tmp_path / "study.yaml", STUDY)
    seeds = "seed=0,1,2,3,4,5"
    proc = nnlab("sweep", config, seeds, "--workers", "2", "-q", cwd=tmp_path)
    for line in proc.stdout:
        if line.startswith("[ 1/12]"):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate()
    assert proc.returncode == 130, err
    assert "interrupted:" in err and "Run the same command to resume" in err
    study = tmp_path / "results" / "study"
    finished = trials(study)
    assert 1 <= len(finished) < 12
    assert claims_left(study) == []  # nothing is left looking like it runs
    with open(study / "summary.csv") as f:
        statuses = [row["status"] for row in csv.DictReader(f)]
    assert statuses.count("complete") == len(finished) and statuses.count("pending") == 12 - len(finished)
    resume = nnlab("sweep", config, seeds, "-q", cwd=tmp_path)
    resume.communicate()
    reference = fingerprint_table(serial_reference)   # seeds 0-2: the same trials, the same bytes
    assert resume.returncode == 0 and len(trials(study)) == 12
    assert {name: fp for name, fp in fingerprint_table(study).items() if name in reference} == reference


@slow
def test_a_trial_finished_by_another_sweep_while_we_claim_is_not_run_again(tmp_path, serial_reference, monkeypatch):
    """The race behind a duplicate once seen with two concurrent sweeps: another sweep
    finishes the trial (writes its folder, releases its claim) just before our claim
    succeeds. Checking after claiming must see the folder and skip the trial."""
    import shutil

    from nnlab.sweep import runner as study_module
    from nnlab.sweep.plan import plan

    study_dir = tmp_path / "study"
    the_plan = plan(yaml.safe_load(STUDY))
    ids = {trial.config_hash: trial.id for trial in the_plan.trials}
    from nnlab.results.index import StudyIndex

    real_claim = StudyIndex.claim

    def claim_after_the_other_sweep_finished(index, config_hash):
        trial_id = ids[config_hash]
        shutil.copytree(serial_reference / trial_id, index.folder / trial_id)  # the other sweep's result
        return real_claim(index, config_hash)

    monkeypatch.setattr(StudyIndex, "claim", claim_after_the_other_sweep_finished)

    class MustNotRun:
        capacity = 2
        where = "nowhere"

        def check(self, trials):
            pass

        def submit(self, trial_id, config):
            raise AssertionError(f"{trial_id} is complete on disk and was submitted again")

        def close(self):
            pass

        def terminate(self):
            pass

    outcome = study_module.run_study(the_plan, study_dir, MustNotRun())
    assert outcome.ran == [] and len(outcome.skipped) == 6
    assert claims_left(study_dir) == []


def test_a_sweep_with_other_axes_keeps_the_earlier_plan(cli, tmp_path):
    """Re-running a study with fewer axes adds a plan; it never drops the earlier trials."""
    config = write(tmp_path / "s.yaml", "name: s\ndata: {name: xor, n_samples: 40, n_test: 20}\nmodel: {hidden: [4]}\n"
                                        "train: {epochs: 1}\nsweep: {grid: {model.activation: [relu, tanh]}, seeds: 2}\n")
    assert cli("sweep", config, "-q", "-w", "1")[0] == 0
    code, out, _ = cli("sweep", config, "model.activation=relu", "seed=0", "-q", "-w", "1")
    assert code == 0 and "0 trained, 1 already done" in out
    study = tmp_path / "results" / "s"
    planned = yaml.safe_load((study / "study.yaml").read_text())
    assert len(planned["trials"]) == 4 and len(planned["plans"]) == 2
    assert planned["plans"][1]["axes"] == []
    with open(study / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {r["model.activation"] for r in rows} == {"relu", "tanh"}
    assert all(r["status"] == "complete" for r in rows)
    code, out, _ = cli("sweep", config, "seed=0,1,2", "-q", "-w", "1")  # extends: one more seed per activation
    assert code == 0 and "2 trained, 4 already done" in out
    assert len(yaml.safe_load((study / "study.yaml").read_text())["trials"]) == 6


def test_plans_with_different_base_configs_stay_apart(cli, tmp_path):
    """Two sweeps of one study that differ by a single-value override (train.epochs=2, then 3):
    the differing key becomes a column, so seeds of different configs are not pooled."""
    config = write(tmp_path / "s.yaml", "name: s\ndata: {name: xor, n_samples: 40, n_test: 20}\nmodel: {hidden: [4]}\n")
    assert cli("sweep", config, "seed=0,1", "train.epochs=2", "-q", "-w", "1")[0] == 0
    assert cli("sweep", config, "seed=0,1", "train.epochs=3", "-q", "-w", "1")[0] == 0
    with open(tmp_path / "results" / "s" / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["train.epochs"], r["seed"]) for r in rows] == [("2", "0"), ("2", "1"), ("3", "0"), ("3", "1")]
