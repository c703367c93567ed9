"""Real MNIST (skipped with a reason when the IDX files are absent; CI sets NNLAB_DATA)."""

import json
import math

import pytest

from conftest import ROOT, arithmetic_differs, needs_mnist, trials_in

pytestmark = [needs_mnist, pytest.mark.slow]


def test_shared_copy_verifies(cli):
    code, out, _ = cli("data", "verify", "mnist")
    assert code == 0 and "4 files ok" in out


def test_default_config_reaches_98_percent(cli, tmp_path):
    """The README's main job: 784-256-128-10 ReLU/He/Adam 1e-3, batch 128 (about 25 s)."""
    code, out, _ = cli("run", ROOT / "configs" / "mnist.yaml", "-q")
    assert code == 0, out
    (trial,) = trials_in(tmp_path / "results" / "mnist")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["data"] == {"name": "mnist", "kind": "classification", "classes": 10,
                               "n_train": 54000, "n_val": 6000, "n_test": 10000}
    assert summary["final"]["test_acc"] >= 0.98
    # a healthy baseline: the diagnosis raises no warning or error
    assert [e["type"] for e in summary["events"] if e["severity"] in ("warn", "error")] == []
    assert {"dead_frac/1", "grad_norm/0", "update_ratio/0", "distinct/0"} <= set(summary["final"])
    # before training a He-initialised net predicts near-uniformly: loss close to ln 10
    first = (trial / "metrics.csv").read_text().splitlines()[1].split(",")
    assert abs(float(first[2]) - math.log(10)) < 0.3
    if arithmetic_differs() is None:  # same NumPy and BLAS kernels: the same bytes as recorded
        golden = json.loads((ROOT / "tests" / "fingerprints.json").read_text())
        assert summary["fingerprint"] == golden["runs"]["mnist"]


def test_subset_overfits_quickly(cli):
    code, out, _ = cli("run", ROOT / "configs" / "mnist.yaml", "data.subset=500", "train.epochs=30",
                       "model.dropout=0.0", "schedule=null", "-q")
    assert code == 0, out
    train_acc = float(out.split("final:")[1].split("train_acc")[1].split()[0])
    test_acc = float(out.split("final:")[1].split("test_acc")[1].split()[0])
    assert train_acc == 1.0 and test_acc < 0.92
