"""A trial's numbers never change by accident: the shipped configs' fingerprints (SHA-256
over metrics.csv without timing, steps.csv and the final weights) are pinned in
fingerprints.json. A change that must move them says so in its commit and updates the file.

Fingerprints are bytes of float arithmetic, so they are only comparable under the NumPy
version and OpenBLAS kernel family they were recorded with; elsewhere these tests skip
and name the difference.
"""

import json

import pytest

from nnlab.config import load_config
from nnlab.results.manifest import trial_files
from nnlab.train.trial import run_trial

from conftest import ROOT, arithmetic_differs, needs_mnist

GOLDEN = json.loads((ROOT / "tests" / "fingerprints.json").read_text())
BN_DROPOUT_MOMENTUM = ["data.subset=3000", "model.batchnorm=before", "optimizer=momentum", "optimizer.lr=0.05",
                       "train.epochs=3", "name=bn_dropout_momentum"]


def _same_arithmetic():
    reason = arithmetic_differs()
    if reason:
        pytest.skip(reason)


def fingerprint(config: str, overrides=()) -> str:
    records = run_trial(load_config(ROOT / "configs" / config, list(overrides)))
    assert records.summary["status"] in ("complete", "diverged"), records.summary.get("error")
    trial_files(records)
    return records.summary["fingerprint"]


@pytest.mark.parametrize("name", ["xor", "spirals", "cnn_strokes"])
def test_small_configs_keep_their_fingerprints(name):
    _same_arithmetic()
    assert fingerprint(f"{name}.yaml") == GOLDEN["runs"][name]


@needs_mnist
@pytest.mark.slow
def test_batchnorm_dropout_momentum_trial_keeps_its_fingerprint():
    _same_arithmetic()
    assert fingerprint("mnist.yaml", BN_DROPOUT_MOMENTUM) == GOLDEN["runs"]["bn_dropout_momentum"]


@needs_mnist
@pytest.mark.slow
@pytest.mark.exhaustive
@pytest.mark.parametrize("study, extra", [
    pytest.param("init_schemes", [], id="init_schemes"),
    pytest.param("activations", ["model.activation=relu,elu,tanh,sigmoid"], id="activations"),
])
def test_example_studies_keep_their_fingerprints(cli, tmp_path, study, extra):
    """Every trial of the example studies, through the parallel sweep path (12-24 trials each;
    bn_placement is the README's example study, checked by test_readme.py)."""
    _same_arithmetic()
    code, out, err = cli("sweep", ROOT / "configs" / f"{study}.yaml", *extra, "--workers", "2", "-q")
    assert code == 0, out + err
    found = {}
    for summary in (tmp_path / "results" / study).glob("*/summary.json"):
        found[summary.parent.name.rsplit("-", 1)[0]] = json.loads(summary.read_text())["fingerprint"]
    assert found == GOLDEN["sweeps"][study]
