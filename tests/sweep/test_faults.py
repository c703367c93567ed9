"""The fault harness of issue 21: kills at every write and rename, and several commands on one
study at once. After any of them, every trial folder that exists verifies, no finished trial
is lost, every plan a command recorded is still there, and no group pools different configs.

Kills come from the store's test-only hook: with NNLAB_FAULT=any:<n> a process SIGKILLs
itself right before its n-th write or rename (results/fsio.py). Each command is run with
n = 1, 2, 3, ... until it completes without reaching n, so every write and rename it makes
is a kill point; the next command run then finds what the killed one left."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nnlab.results.manifest import verify_trial
from nnlab.results.store import trial_dirs

from conftest import claims_left, write

pytestmark = pytest.mark.slow

STUDY = """
name: f
data: {name: xor, n_samples: 120, n_test: 40}
model: {hidden: [4]}
train: {epochs: 3}
sweep: {seeds: 2}
"""


def run(*args, cwd, fault: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NNLAB_FAULT"}
    if fault:
        env["NNLAB_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "nnlab", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def fingerprints(study: Path) -> dict[str, str]:
    return {t.name: json.loads((t / "summary.json").read_text()).get("fingerprint") for t in trial_dirs(study)}


def check_study(study: Path, finished_before: dict[str, str]) -> None:
    """What must hold after any kill: every trial folder verifies (corrupt is never a state a
    kill leaves), and the trials finished before are all there with the same fingerprint."""
    for trial in trial_dirs(study):
        problem = verify_trial(trial)
        assert problem is None, f"{trial.name}: {problem}"
    found = fingerprints(study)
    for name, fingerprint in finished_before.items():
        assert found.get(name) == fingerprint, f"{name} was finished and is now {'gone' if name not in found else 'other'}"


def state(study: Path) -> tuple:
    """What a finished command leaves that a user reads: trials, their statuses, the plans."""
    with open(study / "summary.csv") as f:
        summary = sorted((r["trial"], r["status"]) for r in csv.DictReader(f))
    plans = yaml.safe_load((study / "study.yaml").read_text())["plans"]
    events = {t.name: json.loads((t / "summary.json").read_text())["events"] for t in trial_dirs(study)}
    return fingerprints(study), summary, len(plans), events


def kill_points(command: list, cwd: Path, study: Path) -> int:
    """From the study as it is now, run ``command`` killed before its 1st, 2nd, ... write or
    rename, until it completes; after each kill, check the study, run the command again
    without a kill and check that it ends where an uninterrupted run ends. Returns the number
    of kill points. The study is left as an uninterrupted run leaves it."""
    snapshot = study.parent / f".snapshot-{study.name}"
    shutil.copytree(study, snapshot, symlinks=True)
    before = fingerprints(study)
    clean = run(*command, cwd=cwd)
    assert clean.returncode in (0, 1) and "Traceback" not in clean.stderr, clean.stderr
    expected = state(study)
    n = 0
    while True:
        n += 1
        shutil.rmtree(study)
        shutil.copytree(snapshot, study, symlinks=True)
        proc = run(*command, cwd=cwd, fault=f"any:{n}")
        if proc.returncode != -signal.SIGKILL:
            assert proc.returncode == clean.returncode and "Traceback" not in proc.stderr, proc.stderr
            break
        check_study(study, before)
        assert claims_left(study) == [] or all(pid != os.getpid() for _, pid in claims_left(study))
        again = run(*command, cwd=cwd)
        assert again.returncode == clean.returncode and "Traceback" not in again.stderr, again.stderr
        assert state(study) == expected, f"killed before write or rename {n} of {command[0]}, then resumed"
        assert n < 300, "the command never completes"
    shutil.rmtree(snapshot)
    return n - 1


@pytest.mark.exhaustive
def test_a_kill_at_every_write_and_rename_loses_nothing(tmp_path):
    config = write(tmp_path / "f.yaml", STUDY)
    study = tmp_path / "results" / "f"
    assert run("sweep", config, "--workers", "1", "-q", cwd=tmp_path).returncode == 0
    points = {"sweep (one more seed)": kill_points(["sweep", config, "seed=0,1,2", "--workers", "1", "-q"], tmp_path, study)}
    for trial in trial_dirs(study):   # a stored diagnosis that today's detectors change: --write replaces it
        _forge_events(trial)
    points["diagnose --write"] = kill_points(["diagnose", study, "--write"], tmp_path, study)
    assert all(json.loads((t / "summary.json").read_text())["events"] != FORGED for t in trial_dirs(study))
    points["report"] = kill_points(["report", study], tmp_path, study)
    points["run --force"] = kill_points(["run", config, "seed=0", "--force", "-q"], tmp_path, study)
    assert len(trial_dirs(study)) == 3 and claims_left(study) == []
    print("kill points:", points, "total", sum(points.values()))
    assert all(n >= 3 for n in points.values())


def test_a_sweep_killed_while_it_writes_a_trial_resumes_to_the_same_study(tmp_path):
    """The quick cut of the test above: a kill in the middle of writing the third trial."""
    config = write(tmp_path / "f.yaml", STUDY)
    study = tmp_path / "results" / "f"
    assert run("sweep", config, "--workers", "1", "-q", cwd=tmp_path).returncode == 0
    reference = fingerprints(study)
    proc = run("sweep", config, "seed=0,1,2", "--workers", "1", "-q", cwd=tmp_path, fault="any:9")
    assert proc.returncode == -signal.SIGKILL
    check_study(study, reference)
    again = run("sweep", config, "seed=0,1,2", "--workers", "1", "-q", cwd=tmp_path)
    assert again.returncode == 0 and "1 trained, 2 already done" in again.stdout, again.stdout + again.stderr
    check_study(study, reference)
    assert len(trial_dirs(study)) == 3 and claims_left(study) == []


FORGED = [{"type": "dead_units", "severity": "warn", "where": {}, "evidence": {}, "message": "stored earlier"}]


def _forge_events(trial: Path) -> None:
    import hashlib

    summary = json.loads((trial / "summary.json").read_text())
    summary["events"] = FORGED
    text = json.dumps(summary)
    (trial / "summary.json").write_text(text)
    manifest = json.loads((trial / "manifest.json").read_text())
    manifest["sha256"]["summary.json"] = hashlib.sha256(text.encode()).hexdigest()
    (trial / "manifest.json").write_text(json.dumps(manifest))


def test_commands_at_once_on_one_study_keep_every_plan_and_never_pool_different_configs(tmp_path):
    """Issue 21.2: three sweeps of one study with different axes at once (one with 2 epochs:
    lost plans once pooled its trials with the 3-epoch ones), then the same beside a report,
    a diagnose --write and an ls of that study while the sweeps run."""
    for attempt in range(2):
        name = f"x{attempt}"
        config = write(tmp_path / f"{name}.yaml", f"name: {name}\ndata: {{name: xor, n_samples: 200, n_test: 40}}\n"
                                                  "model: {hidden: [4]}\ntrain: {epochs: 3}\n")
        study = tmp_path / "results" / name
        commands = [["sweep", config, "seed=range(0,4)", "-w", "1", "-q"],
                    ["sweep", config, "seed=range(4,8)", "-w", "1", "-q"],
                    ["sweep", config, "seed=range(8,12)", "train.epochs=2", "-w", "1", "-q"]]
        procs = [subprocess.Popen([sys.executable, "-m", "nnlab", *map(str, c)], cwd=tmp_path, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
                 for c in commands]
        if attempt:   # once the first trial is written, readers and a rewriter of the same study join
            for line in procs[0].stdout:
                if line.startswith("["):
                    break
            procs += [subprocess.Popen([sys.executable, "-m", "nnlab", *c], cwd=tmp_path, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
                      for c in (["report", str(study)], ["diagnose", str(study), "--write"], ["ls", str(study)])]
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0 and "Traceback" not in err, err
        plans = yaml.safe_load((study / "study.yaml").read_text())["plans"]
        assert len(plans) == 3
        with open(study / "summary.csv") as f:
            summary = list(csv.DictReader(f))
        assert len(summary) == 12 and {r["status"] for r in summary} == {"complete"}
        assert len({r["group"] for r in summary}) == 2 and {r["train.epochs"] for r in summary} == {"2", "3"}
        assert run("report", study, cwd=tmp_path).returncode == 0
        with open(study / "report" / "groups.csv") as f:
            groups = list(csv.DictReader(f))
        assert sorted((g["train.epochs"], g["n"]) for g in groups) == [("2", "4"), ("3", "8")]
        check_study(study, {})
        assert claims_left(study) == []
