"""`nnlab doctor` and the checks run/sweep print before training."""

import numpy as np
import pytest
import yaml

from nnlab.config import apply_overrides, validate
from nnlab.diagnose.doctor import check
from nnlab.train.trial import prepare

from conftest import ROOT, write

SPIRALS = yaml.safe_load((ROOT / "configs" / "spirals.yaml").read_text())


def findings(*overrides):
    return {f["type"]: f for f in check(prepare(validate(apply_overrides(SPIRALS, list(overrides)))))}


@pytest.mark.parametrize("overrides, expected, severity", [
    pytest.param(["model.output=relu"], "output_activation_with_cross_entropy", "warn", id="relu-output-with-ce"),
    pytest.param(["model.output=sigmoid"], "sigmoid_output_with_cross_entropy", "error", id="sigmoid-output-with-ce"),
    pytest.param(["data.name=regression", "loss=mse", "model.output=sigmoid"], "bounded_output_for_targets", "warn",
                 id="sigmoid-output-for-unbounded-targets"),
    pytest.param(["data.target=input", "loss=mse", "data.normalize=standard", "model.output=sigmoid"],
                 "bounded_output_for_targets", "warn", id="sigmoid-autoencoder-on-standardised-inputs"),
    pytest.param(["model.init=zeros"], "symmetric_init", "error", id="zero-init"),
    pytest.param(["model.init=constant(0.1)"], "symmetric_init", "error", id="constant-init"),
    pytest.param(["model.activation=tanh", "data.normalize=none", "data.name=blobs"], "unscaled_inputs", "warn",
                 id="unscaled-inputs-into-tanh"),
    pytest.param(["model.batchnorm=before", "train.batch_size=1"], "batchnorm_batch_size_1", "error", id="bn-batch-1"),
    pytest.param(["model.batchnorm=before", "train.batch_size=539"], "batchnorm_last_batch_1", "error", id="bn-last-batch-1"),
    pytest.param(["optimizer.lr=0.5"], "learning_rate_range", "warn", id="adam-lr-too-high"),
    pytest.param(["optimizer.name=sgd", "optimizer.lr=1e-6"], "learning_rate_range", "warn", id="sgd-lr-too-low"),
    pytest.param(["model.init=normal(std=1.0)", "model.hidden=[500,500,500,500,500,500,500,500,500,500]"],
                 "exploding_activations", "error", id="relu-normal-init-explodes"),
    pytest.param(["model.init=normal(std=0.01)", "model.activation=tanh", "model.hidden=[500,500,500,500,500]"],
                 "collapsing_activations", "warn", id="tiny-init-collapses"),
    pytest.param(["model.init=normal(std=1.0)", "model.activation=tanh", "model.hidden=[500,500,500]"],
                 "saturated_at_init", "error", id="tanh-normal-init-saturates"),
])
def test_each_check_fires(overrides, expected, severity):
    found = findings(*overrides)
    assert expected in found, list(found)
    assert found[expected]["severity"] == severity
    assert found[expected]["where"] == {"stage": "before training"}


def test_bounded_output_reports_the_error_floor():
    finding = findings("data.name=regression", "loss=mse", "model.output=sigmoid")["bounded_output_for_targets"]
    assert 0 < finding["evidence"]["error_floor"] < finding["evidence"]["target_variance"]
    evidence = finding["evidence"]
    assert evidence["target_min"] < 0 < 1 < evidence["target_max"]   # the targets' span, quoted by docs/studies.md
    assert f"[{evidence['target_min']:.3g}, {evidence['target_max']:.3g}]" in finding["message"]
    assert "cannot fall below" in finding["message"]


def test_per_channel_batchnorm_takes_a_batch_of_one(cli, tmp_path):
    """BatchNorm2d normalises over N*H*W values: batch 1 is fine (PyTorch agrees); BatchNorm1d is not."""
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "i.npz", x_train=rng.random((20, 6, 6)), y_train=np.arange(20) % 2)
    config = write(tmp_path / "c.yaml", "data: {name: npz, path: i.npz}\ntrain: {batch_size: 1}\n"
                   "model: {layers: [{conv2d: 2, padding: same}, batchnorm, relu, flatten, {dense: 2}]}\n")
    code, out, err = cli("doctor", config)
    assert "batchnorm_batch_size_1" not in out, out
    code, out, err = cli("doctor", config, "model.layers=[{conv2d: 2}, flatten, {dense: 4}, batchnorm, {dense: 2}]")
    assert "batchnorm_batch_size_1" in out, out


def test_clean_configs_pass():
    assert findings() == {}
    assert findings("model.activation=tanh", "model.init=glorot_uniform") == {}


def test_doctor_command_exit_codes(cli):
    code, out, _ = cli("doctor", ROOT / "configs" / "xor.yaml")
    assert code == 0 and "no problems found" in out
    code, out, _ = cli("doctor", ROOT / "configs" / "xor.yaml", "model.init=zeros", "model.output=relu")
    assert code == 1 and "[error] symmetric_init" in out and "[warn] output_activation_with_cross_entropy" in out
    assert "2 problem(s) found" in out


def test_doctor_json(cli):
    import json

    code, out, _ = cli("doctor", ROOT / "configs" / "xor.yaml", "model.init=zeros", "--json")
    assert code == 1 and json.loads(out)[0]["type"] == "symmetric_init"


def test_run_prints_findings_then_trains_and_strict_refuses(cli, tmp_path):
    config = ROOT / "configs" / "xor.yaml"
    code, out, _ = cli("run", config, "model.init=zeros", "train.epochs=5", "-q")
    assert code == 0
    assert out.index("doctor: [error] symmetric_init") < out.index("complete:")
    assert "diagnosis:" in out and "duplicate_units" in out
    code, _, err = cli("run", config, "model.init=zeros", "train.epochs=5", "-q", "--strict", "-o", "strict")
    assert code == 2 and "--strict" in err
    assert not (tmp_path / "strict").exists()


def test_sweep_groups_findings_by_trial_and_strict_refuses(cli, tmp_path):
    config = ROOT / "configs" / "xor.yaml"
    code, out, _ = cli("sweep", config, "model.init=zeros,glorot_uniform", "train.epochs=3", "-e", "serial", "-q")
    assert code == 0
    assert "doctor: [error] symmetric_init in 1 trial(s), e.g. init=zeros-" in out
    code, _, err = cli("sweep", config, "model.init=zeros,glorot_uniform", "-q", "--strict", "-o", "strict")
    assert code == 2 and not (tmp_path / "strict").exists()


def test_sweep_and_run_print_the_same_findings_for_the_same_trial(cli, tmp_path):
    """The doctor inside a sweep sees the trial's own validation split, as `run` does."""
    config = write(tmp_path / "r.yaml", "name: r\ndata: {name: regression, n_samples: 200, validation: 0.3}\n"
                                        "model: {hidden: [8], activation: tanh, output: sigmoid}\nloss: mse\n"
                                        "train: {epochs: 0}\n")
    code, run_out, _ = cli("run", config, "seed=3", "-q")
    assert code == 0
    code, sweep_out, _ = cli("sweep", config, "seed=3,4", "-q", "-w", "1", "-o", "other")
    assert code == 0
    run_line = next(line for line in run_out.splitlines() if "bounded_output_for_targets" in line)
    sweep_line = next(line for line in sweep_out.splitlines() if "bounded_output_for_targets" in line)
    # the sweep names which trials; the finding (target range, floor, variance) is the same
    assert run_line.split("bounded_output_for_targets: ")[1] in sweep_line


def test_the_input_range_is_read_without_copying_the_training_set():
    """Review: max |x| was np.max(np.abs(x)), a copy of the whole training set (162 MB for
    MNIST, the peak of `nnlab run configs/mnist.yaml`); the same value comes from min and max."""
    import tracemalloc

    from nnlab.data.datasets import Dataset
    from nnlab.diagnose.doctor import DataFacts

    x = np.random.default_rng(0).standard_normal((2000, 500)).astype(np.float32)
    x[7, 3] = -9.5
    data = Dataset("t", "classification", x, np.zeros(2000, np.int64), x[:0], np.zeros(0, np.int64), x[:0],
                   np.zeros(0, np.int64), 2)
    tracemalloc.start()
    try:
        facts = DataFacts.of(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert facts.input_absmax == 9.5 == float(np.max(np.abs(x))) and facts.input_min == -9.5
    assert peak < x.nbytes / 10
    x[0, 0] = np.nan
    assert np.isnan(DataFacts.of(data).input_absmax)
