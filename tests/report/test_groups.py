"""groups.csv and comparisons.csv: statistics over seeds that equal what pandas computes
from the trial files, and comparison sentences that say what the numbers say."""

import html
import json
import math
import os

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from nnlab.report.groups import comparisons, group_rows, natural_key
from nnlab.report.statistics import Summary, t_quantile

from conftest import write

STUDY = """name: bn
data: {name: spirals, n_samples: 600, n_test: 300}
model: {hidden: [32, 32], activation: relu}
optimizer: {name: momentum, lr: 0.05}
train: {epochs: 10, batch_size: 32}
sweep:
  grid:
    model.batchnorm: [none, before, after]
  seeds: 3
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A real study, BN none/before/after x 3 seeds, swept and reported once for the module."""
    from typer.testing import CliRunner

    from nnlab.cli.app import app

    folder = tmp_path_factory.mktemp("groups")
    config = write(folder / "bn.yaml", STUDY)
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(folder)
    try:
        assert runner.invoke(app, ["sweep", str(config), "-q"]).exit_code == 0
        result = runner.invoke(app, ["report", "results/bn"])
        assert result.exit_code == 0, result.output
    finally:
        os.chdir(old)
    return folder / "results" / "bn"


def _trials(study):
    rows = []
    for trial in study.iterdir():
        if (trial / "summary.json").is_file():
            summary = json.loads((trial / "summary.json").read_text())
            config = yaml.safe_load((trial / "config.yaml").read_text())
            rows.append({"bn": config["model"]["batchnorm"], "seed": config["seed"],
                         "test_acc": summary["final"]["test_acc"], "time_s": summary["time_s"]})
    return pd.DataFrame(rows)


def test_groups_csv_equals_pandas_on_the_trial_files(study):
    groups = pd.read_csv(study / "report" / "groups.csv").set_index("model.batchnorm")
    trials = _trials(study)
    assert len(trials) == 9 and sorted(groups.index) == ["after", "before", "none"]
    for bn, members in trials.groupby("bn"):
        acc = members["test_acc"]
        row = groups.loc[bn]
        assert row["n"] == 3 and row["complete"] == 3 and row["seeds"] == "0 1 2"
        assert row["final_test_acc_mean"] == pytest.approx(acc.mean(), rel=1e-12)
        assert row["final_test_acc_std"] == pytest.approx(acc.std(ddof=1), rel=1e-12)     # pandas' default ddof=1
        assert row["final_test_acc_min"] == acc.min() and row["final_test_acc_max"] == acc.max()
        half = stats.t.ppf(0.975, 2) * acc.std(ddof=1) / math.sqrt(3)
        assert row["final_test_acc_ci95"] == pytest.approx(half, rel=1e-9)
        assert row["time_s_mean"] == pytest.approx(members["time_s"].mean(), rel=1e-12)


def test_comparison_sentences_match_the_paired_differences(study):
    compared = pd.read_csv(study / "report" / "comparisons.csv")
    trials = _trials(study).pivot(index="seed", columns="bn", values="test_acc")
    means = trials.mean()
    best = means.idxmax()
    assert set(compared["best"]) == {best} and set(compared["level"]) == set(means.index) - {best}
    for _, row in compared.iterrows():
        d = (trials[best] - trials[row["level"]]) * 100
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
        assert row["paired"] and row["difference"] == pytest.approx(d.mean()) and row["ci95"] == pytest.approx(half)
        verdict = "better" if d.mean() - half > 0 else "within noise"
        assert row["verdict"] == verdict
        assert f"{d.mean():.2f} ± {half:.2f} points of test accuracy over 3 seeds (paired by seed)" in row["sentence"]
        assert ("beats" in row["sentence"]) == (verdict == "better")
    page = (study / "report" / "index.html").read_text()
    assert "<h2>Answer</h2>" in page and all(html.escape(text) in page for text in compared["sentence"])
    assert page.index("<h2>Answer</h2>") < page.index("<h2>Trials</h2>")


def _table(rows):
    return pd.DataFrame.from_records(rows)


def test_one_seed_has_no_interval_and_says_so():
    assert Summary.of([0.9]).ci95 is None and Summary.of([0.9]).std is None
    table = _table([{"trial": "a", "width": 5, "seed": 0, "status": "complete", "final_test_acc": 0.9},
                    {"trial": "b", "width": 100, "seed": 0, "status": "complete", "final_test_acc": 0.95}])
    groups = group_rows(table, ["width", "seed"])
    assert [g["width"] for g in groups] == [5, 100]                  # numbers sort as numbers
    assert groups[0]["note"] == "n = 1: no interval" and groups[0]["final_test_acc_ci95"] is None
    (compared,) = comparisons(table, ["width", "seed"])
    assert compared["verdict"] == "too few seeds" and "too few seeds to tell" in compared["sentence"]


def test_unpaired_seeds_use_welch():
    rows = [{"trial": f"a{s}", "opt": "adam", "seed": s, "status": "complete", "final_test_acc": v}
            for s, v in enumerate([0.90, 0.92, 0.91])]
    rows += [{"trial": f"b{s}", "opt": "sgd", "seed": s + 10, "status": "complete", "final_test_acc": v}
             for s, v in enumerate([0.80, 0.85, 0.83, 0.86])]
    (compared,) = comparisons(_table(rows), ["opt", "seed"])
    a, b = np.array([0.90, 0.92, 0.91]), np.array([0.80, 0.85, 0.83, 0.86])
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert not compared["paired"] and compared["verdict"] == "better"
    assert compared["difference"] == pytest.approx(100 * (a.mean() - b.mean()))
    assert compared["ci95"] == pytest.approx(100 * (welch.high - welch.low) / 2)
    assert "3 vs 4 seeds" in compared["sentence"]


def test_failed_and_diverged_trials_are_counted_not_averaged():
    rows = [{"trial": "a", "lr": 0.1, "seed": 0, "status": "complete", "final_test_acc": 0.9, "events": "warn:spiky_run"},
            {"trial": "b", "lr": 0.1, "seed": 1, "status": "diverged", "final_test_acc": None,
             "events": "error:divergence; warn:spiky_run"},
            {"trial": "c", "lr": 0.1, "seed": 2, "status": "failed", "final_test_acc": None, "events": None}]
    (group,) = group_rows(_table(rows), ["lr", "seed"])
    assert (group["n"], group["complete"], group["diverged"], group["failed"]) == (1, 1, 1, 1)
    assert group["final_test_acc_mean"] == 0.9 and group["majority_events"] == "warn:spiky_run (2/3)"


def test_natural_sort_and_t_quantile():
    assert sorted(["[100]", "[5]", "[20, 3]"], key=natural_key) == ["[5]", "[20, 3]", "[100]"]
    assert t_quantile(4) == pytest.approx(2.776, abs=1e-3)


def test_load_study_gives_dataframes_that_agree_with_the_files(study):
    import nnlab

    frames = nnlab.load_study(study)
    assert len(frames.trials) == 9 and {"model.batchnorm", "seed", "status", "final_test_acc"} <= set(frames.trials)
    assert set(frames.epochs["trial"]) == set(frames.trials["trial"])
    one = frames.trials["trial"].iloc[0]
    metrics = pd.read_csv(study / one / "metrics.csv")
    mine = frames.epochs[frames.epochs["trial"] == one]
    assert list(mine.columns[:3]) == ["trial", "model.batchnorm", "seed"]
    # trials with other layers have other per-layer columns: the union holds each trial's own
    pd.testing.assert_frame_equal(mine[list(metrics.columns)].reset_index(drop=True), metrics, check_dtype=False)
    assert len(frames.steps) == sum(len(pd.read_csv(study / t / "steps.csv")) for t in frames.trials["trial"])
    curve = frames.epochs.groupby(["model.batchnorm", "epoch"])["val_loss"].mean().unstack(0)
    assert list(curve.columns) == ["after", "before", "none"] and len(curve) == 11
    trial = nnlab.load_trial(study / one)
    assert list(trial.trials["trial"]) == [one] and len(trial.epochs) == 11


def test_load_trial_refuses_what_is_not_a_trial(tmp_path):
    import nnlab
    from nnlab.errors import ConfigError

    with pytest.raises(ConfigError, match="not a trial folder"):
        nnlab.load_trial(tmp_path)


def test_ls_lists_studies_and_trials_with_status(study, cli):
    code, out, err = cli("ls", study.parent)
    assert code == 0 and out.split() == ["bn", "9", "trials", "9", "complete"]
    code, out, err = cli("ls", study)
    lines = out.strip().splitlines()
    assert lines[0] == "bn: 9 trials (9 complete)" and len(lines) == 10
    assert all(" complete " in line and " 10 epochs " in line and "test_acc 0." in line for line in lines[1:])
    code, out, err = cli("ls", study / "nope")
    assert code == 2 and "no such folder" in err


def test_a_group_whose_seeds_were_computed_with_other_kernels_says_so():
    """Issue 21.5: a study never pools trials computed under different kernels without saying so."""
    table = pd.DataFrame.from_records([
        {"trial": "seed=0-a", "seed": 0, "group": "g", "status": "complete", "final_test_acc": 0.9,
         "kernels": "numpy 2.4.6, openblas Haswell, X86_V3"},
        {"trial": "seed=1-b", "seed": 1, "group": "g", "status": "complete", "final_test_acc": 0.91,
         "kernels": "numpy 2.4.6, openblas SkylakeX, AVX512_ICL"},
    ])
    (row,) = group_rows(table, ["seed"])
    assert "mixed arithmetic" in row["note"] and "SkylakeX" in row["note"] and "Haswell" in row["note"]
    (same,) = group_rows(table.assign(kernels="numpy 2.4.6, openblas Haswell, X86_V3"), ["seed"])
    assert "note" not in same
