"""Issue 21: no result lost, no trials pooled that differ, nothing trusted that should not be.

Each test reproduces one finding as a user met it (the command, their folder, their order of
commands) and checks what they would notice: files, exit codes, one-line errors, groups."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnlab.results.manifest import verify_trial
from nnlab.results.store import trial_dirs

from conftest import ROOT, assert_one_error_line, write

slow = pytest.mark.slow
XOR = ROOT / "configs" / "xor.yaml"


def rows(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def nnlab(*args, cwd, env=None):
    """`python -m nnlab ...` in a process of its own, as a shell would start it."""
    return subprocess.Popen([sys.executable, "-m", "nnlab", *map(str, args)], cwd=cwd,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def xor_study(cli, tmp_path):
    """results/xor with three seeds of configs/xor.yaml (3 epochs)."""
    assert cli("sweep", XOR, "seed=0,1,2", "train.epochs=3", "-q", "--workers", "1")[0] == 0
    return tmp_path / "results" / "xor"


# ---------------------------------------------------------------- 1. a report never deletes what it did not write

def test_report_out_refuses_a_folder_of_the_users_and_leaves_it_alone(cli, tmp_path, xor_study):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.tex").write_text("x")
    code, out, err = cli("report", xor_study, "--out", notes)
    assert_one_error_line(code, out, err, ["notes", "not an nnlab report", "thesis.tex", "nothing was written"])
    assert sorted(p.name for p in notes.iterdir()) == ["thesis.tex"] and (notes / "thesis.tex").read_text() == "x"


@pytest.mark.parametrize("where", ["study", "trial", "results"])
def test_report_out_pointed_at_results_is_refused_and_they_stay_intact(cli, tmp_path, xor_study, where):
    target = {"study": xor_study, "trial": trial_dirs(xor_study)[1], "results": tmp_path / "results"}[where]
    before = {p: p.read_bytes() for p in xor_study.rglob("*") if p.is_file()}
    code, out, err = cli("report", xor_study, "--out", target)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "nothing was written" in err or "holds the results" in err, err
    assert {p: p.read_bytes() for p in xor_study.rglob("*") if p.is_file()} == before
    assert all(verify_trial(t) is None for t in trial_dirs(xor_study))


def test_report_out_replaces_its_own_report_and_fills_an_empty_folder(cli, tmp_path, xor_study):
    out = tmp_path / "out"
    out.mkdir()
    assert cli("report", xor_study, "--out", out)[0] == 0          # an empty folder
    assert (out / "index.html").exists() and (out / ".nnlab-report").exists()
    (out / "stale.png").write_bytes(b"")
    assert cli("report", xor_study, "--out", out)[0] == 0          # its own report: replaced whole
    assert not (out / "stale.png").exists() and (out / "index.html").exists()
    old = xor_study / "report"                                      # a report from before the mark existed
    assert cli("report", xor_study)[0] == 0
    (old / ".nnlab-report").unlink()
    assert cli("report", xor_study)[0] == 0


# ---------------------------------------------------------------- 4. seeds of one configuration only

def test_the_readme_workflow_never_pools_a_run_with_other_settings_into_a_sweep(cli, tmp_path):
    """`nnlab run` at lr 0.5, then a sweep over seeds at the default lr 0.01, then a report:
    the lr 0.5 trial is its own group, and every table says which lr each trial had."""
    assert cli("run", XOR, "optimizer.lr=0.5", "train.epochs=3", "-q")[0] == 0
    assert cli("sweep", XOR, "seed=0,1,2", "train.epochs=3", "-q", "--workers", "1")[0] == 0
    assert cli("report", tmp_path / "results" / "xor")[0] == 0
    study = tmp_path / "results" / "xor"
    summary = rows(study / "summary.csv")
    assert len(summary) == 4 and "optimizer.lr" in summary[0]
    assert sorted(r["optimizer.lr"] for r in summary) == ["0.01", "0.01", "0.01", "0.5"]
    groups = rows(study / "report" / "groups.csv")
    assert sorted((g["optimizer.lr"], g["n"], g["seeds"]) for g in groups) == [("0.01", "3", "0 1 2"), ("0.5", "1", "0")]
    import nnlab

    frames = nnlab.load_study(study)
    assert len(frames.groups) == 2 and sorted(frames.groups["n"]) == [1, 3]
    assert frames.trials.groupby("group")["optimizer.lr"].nunique().max() == 1


# ---------------------------------------------------------------- 6. a folder is the trial its config says

def test_a_config_edited_together_with_its_manifest_is_corrupt(cli, tmp_path, xor_study):
    import hashlib

    trial = trial_dirs(xor_study)[0]
    config = (trial / "config.yaml").read_text().replace("lr: 0.01", "lr: 0.02")
    (trial / "config.yaml").write_text(config)
    manifest = json.loads((trial / "manifest.json").read_text())
    manifest["sha256"]["config.yaml"] = hashlib.sha256(config.encode()).hexdigest()
    (trial / "manifest.json").write_text(json.dumps(manifest))
    assert "config.yaml is the config of trial" in verify_trial(trial)
    code, out, err = cli("ls", xor_study)
    assert " corrupt " in out


def test_a_trial_copied_or_linked_into_a_study_is_counted_once_or_not_at_all(cli, tmp_path, xor_study):
    first = trial_dirs(xor_study)[0]
    shutil.copytree(first, xor_study / f"copy-{first.name.rsplit('-', 1)[1]}")   # the same trial under another name
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(first, elsewhere)
    other = xor_study.parent / "other"
    other.mkdir()
    os.symlink(elsewhere, other / first.name)                                   # linked into a study of its own
    assert cli("report", xor_study)[0] == 0
    groups = rows(xor_study / "report" / "groups.csv")
    assert [(g["n"], g["seeds"]) for g in groups] == [("3", "0 1 2")]
    assert trial_dirs(other) == []
    code, out, err = cli("diagnose", other / first.name, "--write")
    assert code == 2 and "a link" in err


# ---------------------------------------------------------------- 7. a loss that large is divergence

def test_a_finite_loss_that_explodes_is_divergence(cli, tmp_path):
    code, out, err = cli("run", XOR, "optimizer.lr=1e30", "-q")
    assert code == 0 and "diverged: the loss passed 1e+06" in err and "ended at" in err, out + err
    (trial,) = trial_dirs(tmp_path / "results" / "xor")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["diverged"]["ended"] > 1e20
    assert summary["epochs_run"] == 100   # judged at the end: a loss that passes the limit and recovers is not divergence
    types = {e["type"] for e in summary["events"]}
    assert "divergence" in types and "loss_spikes" not in types and "plateau" not in types


# ---------------------------------------------------------------- 8. CSV data that cannot mean what it says

@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = x.sum(axis=1) + 0.1 * rng.normal(size=200)
    path = tmp_path / "t.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{a},{b},{c},{t}\n" for (a, b, c), t in zip(x, y, strict=True)))
    return path


@pytest.mark.parametrize("data, fragments", [
    pytest.param("{name: csv, path: t.csv, target: y, features: [a, y]}\nloss: mse", ["'y' is both the target and a feature"],
                 id="target-as-feature"),
    pytest.param("{name: csv, path: t.csv, target: y, task: classification}", ["fractional numbers", "task: regression"],
                 id="float-column-as-classes"),
    pytest.param("{name: csv, path: t.csv, target: y}", ["cross_entropy needs class labels", "regression"],
                 id="regression-with-cross-entropy"),
])
def test_csv_data_that_cannot_mean_what_it_says_is_one_line(cli, tmp_path, table, data, fragments):
    config = write(tmp_path / "c.yaml", f"name: t\ndata: {data}\ntrain: {{epochs: 2}}\n")
    for command in ("run", "doctor"):
        code, out, err = cli(command, config)
        assert_one_error_line(code, out, err, fragments, tmp_path / "results")


# ---------------------------------------------------------------- tracebacks and hangs: one clear line instead

@pytest.mark.parametrize("args, fragments", [
    pytest.param(["train.epochs=" + "9" * 5000], ["5000 digits"], id="huge-integer-override"),
    pytest.param(["optimizer=null"], ["optimizer cannot be null", "adam"], id="null-optimizer"),
])
def test_odd_overrides_are_one_line(cli, tmp_path, args, fragments):
    code, out, err = cli("run", XOR, *args)
    assert_one_error_line(code, out, err, fragments, tmp_path / "results")


def test_a_huge_integer_in_the_file_is_one_line_with_its_place(cli, tmp_path):
    config = write(tmp_path / "c.yaml", "name: big\ndata: {name: xor}\ntrain: {epochs: " + "9" * 5000 + "}\n")
    code, out, err = cli("run", config)
    assert_one_error_line(code, out, err, ["c.yaml:3:", "5000 digits"], tmp_path / "results")


def test_load_study_and_load_trial_say_what_they_cannot_read(cli, tmp_path):
    import nnlab
    from nnlab.errors import ConfigError

    assert cli("sweep", XOR, "seed=0,1", "train.epochs=2", "-q", "--workers", "1")[0] == 0
    assert cli("run", XOR, "train.epochs=2", "train.batch_size=1", "model.batchnorm=before", "-q")[0] == 1  # fails
    study = tmp_path / "results" / "xor"
    frames = nnlab.load_study(study)
    assert sorted(frames.trials["status"]) == ["complete", "complete", "failed"]
    assert set(frames.epochs["trial"]) == set(frames.trials.loc[frames.trials["status"] == "complete", "trial"])
    complete = next(t for t in trial_dirs(study) if t.name.startswith("seed=0"))
    with pytest.raises(ConfigError, match="a trial folder, not a study; nnlab.load_trial"):
        nnlab.load_study(complete)
    assert len(nnlab.load_trial(complete).epochs) == 3
    assert nnlab.load_trial(trial_dirs(study)[0]).epochs.empty   # the failed trial: no rows, no traceback


def test_a_summary_that_says_diverged_without_where_is_corrupt_not_a_crash(cli, tmp_path, xor_study):
    import hashlib

    trial = trial_dirs(xor_study)[0]
    summary = json.loads((trial / "summary.json").read_text())
    summary.update(status="diverged", diverged=None)
    text = json.dumps(summary)
    (trial / "summary.json").write_text(text)
    manifest = json.loads((trial / "manifest.json").read_text())
    manifest["sha256"]["summary.json"] = hashlib.sha256(text.encode()).hexdigest()
    (trial / "manifest.json").write_text(json.dumps(manifest))
    code, out, err = cli("run", XOR, "seed=0", "train.epochs=3")
    assert code == 1 and "corrupt" in err and "diverged but not where" in err, out + err


def _forge_events(trial: Path, events: list) -> None:
    """Give a trial other stored events, with a manifest that matches (as an older nnlab would have)."""
    import hashlib

    summary = json.loads((trial / "summary.json").read_text())
    summary["events"] = events
    text = json.dumps(summary)
    (trial / "summary.json").write_text(text)
    manifest = json.loads((trial / "manifest.json").read_text())
    manifest["sha256"]["summary.json"] = hashlib.sha256(text.encode()).hexdigest()
    (trial / "manifest.json").write_text(json.dumps(manifest))


def test_a_read_only_results_folder_is_one_line_for_diagnose_write(cli, tmp_path, xor_study, monkeypatch):
    from nnlab.results import fsio

    trial = trial_dirs(xor_study)[0]
    _forge_events(trial, [{"type": "dead_units", "severity": "warn", "where": {}, "evidence": {}, "message": "old"}])
    before = (trial / "summary.json").read_bytes()

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system", str(xor_study))
    monkeypatch.setattr(fsio, "write_file", read_only)
    code, out, err = cli("diagnose", xor_study, "--write")
    assert code == 1 and err.count("\n") == 1 and "Read-only file system" in err and "Traceback" not in err, err
    assert (trial / "summary.json").read_bytes() == before and verify_trial(trial) is None


def test_results_on_a_path_that_cannot_be_written_are_refused_before_training(cli, tmp_path):
    code, out, err = cli("run", XOR, "-o", "/proc/nnlab-results")
    assert_one_error_line(code, out, err, ["/proc", "not writable"])
    assert "nnlab run" not in out


@pytest.mark.parametrize("damage", ["metrics-linked-to-dev-zero", "summary-is-a-fifo"])
def test_ls_and_report_of_a_hostile_trial_end_with_corrupt(tmp_path, xor_study, damage):
    """`nnlab ls` read a metrics.csv linked to /dev/zero until it was killed at 24 GB, and
    hung on a summary.json that is a FIFO. Run as a process of its own, with a time limit."""
    trial = trial_dirs(xor_study)[0]
    if damage == "metrics-linked-to-dev-zero":
        (trial / "metrics.csv").unlink()
        os.symlink("/dev/zero", trial / "metrics.csv")
    else:
        (trial / "summary.json").unlink()
        os.mkfifo(trial / "summary.json")
    for command in (["ls", xor_study], ["report", xor_study]):
        proc = subprocess.run([sys.executable, "-m", "nnlab", *map(str, command)], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "corrupt" in subprocess.run([sys.executable, "-m", "nnlab", "ls", str(xor_study)], capture_output=True,
                                       text=True, timeout=120).stdout


# ---------------------------------------------------------------- found in review

def test_a_pending_trial_has_the_group_it_will_have_once_trained(cli, tmp_path):
    """Shorthand values (optimizer=sgd) and label axes (fix=...) gave pending trials another
    group than the same trials once trained: a running study showed each configuration twice."""
    from nnlab.results.rows import study_table

    assert cli("sweep", XOR, "optimizer=sgd,adam", "seed=0,1", "train.epochs=2", "-q", "--workers", "1")[0] == 0
    study = tmp_path / "results" / "xor"
    done = {r["trial"]: r["group"] for r in study_table(study).rows}
    shutil.rmtree(trial_dirs(study)[0])           # one trial is pending again
    pending = {r["trial"]: (r["status"], r["group"]) for r in study_table(study).rows}
    assert sorted(s for s, _ in pending.values()) == ["complete"] * 3 + ["pending"]
    assert {name: group for name, (_, group) in pending.items()} == done
    assert len(set(done.values())) == 2


def test_run_strict_on_an_existing_study_leaves_no_plan_behind(cli, tmp_path):
    assert cli("run", XOR, "train.epochs=2", "-q")[0] == 0
    study = tmp_path / "results" / "xor"
    before = (study / "study.yaml").read_text(), (study / "summary.csv").read_text()
    code, out, err = cli("run", XOR, "train.epochs=2", "model.init=zeros", "--strict", "-q")
    assert code == 2 and "--strict" in err
    assert ((study / "study.yaml").read_text(), (study / "summary.csv").read_text()) == before
    assert len(trial_dirs(study)) == 1


def test_reproduce_without_the_data_is_one_line(cli, tmp_path, monkeypatch):
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(40)))
    config = write(tmp_path / "c.yaml", f"name: c\ndata: {{name: csv, path: {table}, target: y}}\ntrain: {{epochs: 1}}\n")
    assert cli("run", config, "-q")[0] == 0
    table.unlink()
    code, out, err = cli("reproduce", trial_dirs(tmp_path / "results" / "c")[0])
    assert_one_error_line(code, out, err, ["t.csv", "no such data file"])


@pytest.mark.parametrize("damage, problem", [
    pytest.param("manifest-without-summary", "does not list summary.json", id="manifest-without-summary"),
    pytest.param("no-manifest-no-fingerprint", "manifest.json is missing", id="no-manifest-no-fingerprint"),
])
def test_a_folder_stripped_of_its_evidence_is_corrupt(xor_study, damage, problem):
    trial = trial_dirs(xor_study)[0]
    if damage == "manifest-without-summary":
        manifest = json.loads((trial / "manifest.json").read_text())
        del manifest["sha256"]["summary.json"]
        (trial / "manifest.json").write_text(json.dumps(manifest))
    else:
        (trial / "manifest.json").unlink()
        summary = json.loads((trial / "summary.json").read_text())
        for key in ("stop_reason", "fingerprint"):
            summary.pop(key)
        (trial / "summary.json").write_text(json.dumps(summary))
    assert problem in (verify_trial(trial) or "")


def test_a_malformed_study_yaml_is_not_a_traceback(cli, xor_study):
    (xor_study / "study.yaml").write_text("plans:\n- axes: [seed]\n  trials: [a-12345678]\n  base: {data: [1, 2], train: 3}\n"
                                          "trials: [{id: a-12345678}]\naxes: [seed]\n")
    for command in (["ls", xor_study], ["report", xor_study]):
        code, out, err = cli(*command)
        assert code == 0 and "Traceback" not in out + err, err


def test_diagnose_write_leaves_a_trial_being_trained_alone(cli, xor_study):
    from nnlab.results.index import StudyIndex
    from nnlab.results.naming import hash_of

    trial = trial_dirs(xor_study)[0]
    _forge_events(trial, [{"type": "dead_units", "severity": "warn", "where": {}, "evidence": {}, "message": "old"}])
    before = (trial / "summary.json").read_bytes()
    with StudyIndex(xor_study) as index:
        assert index.claim(hash_of(trial.name)) is None      # a --force re-run of it holds the claim
        code, out, err = cli("diagnose", xor_study, "--write")
    assert code == 0 and "being trained right now" in err
    assert (trial / "summary.json").read_bytes() == before
