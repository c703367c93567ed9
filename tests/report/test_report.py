"""`nnlab report`: plots, table and a self-contained page for a trial and for a study."""

import csv

import numpy as np
import pytest

from nnlab.report.plots import ema

from conftest import trials_in, write

STUDY = """
name: rep
data: {name: spirals, n_samples: 300}
model: {hidden: [16]}
optimizer: {name: adam, lr: 0.01}
train: {epochs: 6}
sweep:
  grid: {model.activation: [relu, tanh]}
  seeds: 2
"""

PNG = b"\x89PNG\r\n\x1a\n"


def test_ema_is_debiased_and_flat_on_a_constant():
    assert ema(np.array([3.0, 3.0, 3.0])).tolist() == pytest.approx([3.0, 3.0, 3.0])
    # TensorBoard: last = 0.6 last + 0.4 x, shown as last / (1 - 0.6^n): 0.24 / 0.64 after 1, 0
    assert ema(np.array([1.0, 0.0]))[1] == pytest.approx(0.375)


def test_trial_report(cli, tmp_path):
    config = write(tmp_path / "c.yaml", "name: t\ndata: {name: spirals, n_samples: 300}\nmodel: {hidden: [16], init: zeros}\ntrain: {epochs: 6}\n")
    assert cli("run", config, "-q")[0] == 0
    (trial,) = trials_in(tmp_path / "results" / "t")
    code, out, _ = cli("report", trial)
    assert code == 0 and "report:" in out
    page = (trial / "report" / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 1 and "src=\"http" not in page  # self-contained
    assert "plateau" in page and "duplicate_units" in page
    assert (trial / "report" / f"{trial.name}.png").read_bytes()[:8] == PNG


def test_study_report(cli, tmp_path):
    config = write(tmp_path / "s.yaml", STUDY)
    assert cli("sweep", config, "-e", "serial", "-q")[0] == 0
    code, _, _ = cli("report", "results/rep", "--out", "out")
    assert code == 0
    out = tmp_path / "out"
    with open(out / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["model.activation"] for r in rows] == ["relu", "relu", "tanh", "tanh"]  # planned order
    assert {r["status"] for r in rows} == {"complete"} and all(float(r["final_test_acc"]) > 0 for r in rows)
    for name in ("compare.png", "curves.png"):
        assert (out / name).read_bytes()[:8] == PNG
    page = (out / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 2 + 4 and all(r["trial"] in page for r in rows)


def test_study_report_with_a_null_axis_value(cli, tmp_path):
    """train.early_stopping: [null, {...}] (configs/studies/overfitting_es.yaml) once crashed the
    report (StopIteration: a missing value equals nothing, not even itself)."""
    config = write(tmp_path / "s.yaml", STUDY.replace("grid: {model.activation: [relu, tanh]}",
                                                      "grid: {train.early_stopping: [null, {monitor: val_loss, patience: 2}]}"))
    assert cli("sweep", config, "-e", "serial", "-q")[0] == 0
    code, out, err = cli("report", "results/rep", "--out", "out")
    assert code == 0, out + err
    with open(tmp_path / "out" / "comparisons.csv") as f:
        (row,) = list(csv.DictReader(f))
    assert row["axis"] == "train.early_stopping" and "null" in (row["best"], row["level"])
    assert "early_stopping=null" in (tmp_path / "out" / "index.html").read_text()


def test_report_on_something_else_exits_2(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = cli("report", tmp_path / "empty")
    assert code == 2 and "neither a trial folder" in err
    code, _, err = cli("report", tmp_path / "missing")
    assert code == 2 and "no such results folder" in err


def test_report_of_a_study_still_running_with_damaged_and_hostile_parts(cli, tmp_path):
    """A pending trial, a writer's temporary folder, a damaged trial and a description full of
    markup: the page counts, names and escapes them; nothing raises."""
    import shutil

    config = write(tmp_path / "s.yaml", STUDY.replace("name: rep", "name: rep\ndescription: '<script>alert(1)</script> & co'"))
    assert cli("sweep", config, "-e", "serial", "-q")[0] == 0
    study = tmp_path / "results" / "rep"
    trials = sorted(p for p in study.iterdir() if p.is_dir() and not p.name.startswith("."))
    shutil.rmtree(trials[0])                                   # planned, not there yet: pending
    (study / ".tmp-abc-999999-0123abcd").mkdir()               # a writer mid-write
    (trials[1] / "metrics.csv").write_text("epoch,train_loss\n0,nan\n")   # damaged after the fact
    code, out, err = cli("report", study)
    assert code == 0, out + err
    page = (study / "report" / "index.html").read_text()
    assert "4 trials: 2 complete, 1 pending, 1 corrupt" in page or (
        "4 trials:" in page and "1 pending" in page and "1 corrupt" in page), page[:600]
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert trials[1].name in page and "corrupt" in page
    groups = (study / "report" / "groups.csv").read_text()
    assert "complete" in groups.splitlines()[0]
