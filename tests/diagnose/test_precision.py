"""Issue 13: a warning stands only with evidence that it hurt training, and each misnamed or
missed cause the seed questions exposed is named right. Every scenario is a small real run."""

import json

import numpy as np
import pytest

from nnlab.config import validate
from nnlab.results.store import trial_dirs, verify_trial
from nnlab.train.trial import run_trial

from conftest import write

SPIRALS = {"name": "spirals", "n_samples": 600, "noise": 0.2}
FIT = {"optimizer": {"name": "adam", "lr": 0.01}, "train": {"epochs": 60, "batch_size": 64}}


def summary(config: dict) -> dict:
    return run_trial(validate(config)).summary


def found(s: dict, *severities) -> dict:
    return {e["type"]: e for e in s["events"] if not severities or e["severity"] in severities}


def test_generated_sets_default_to_standard_inputs_images_keep_scale():
    assert validate({"data": {"name": "spirals"}}).data.normalize == "standard"
    assert validate({"data": {"name": "xor"}}).data.normalize == "standard"
    assert validate({"data": {"name": "mnist"}}).data.normalize == "scale"
    assert validate({"data": {"name": "spirals", "normalize": "scale"}}).data.normalize == "scale"


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_healthy_spirals_raise_no_warning(activation):
    """ReLU spirals got dead_at_init + dead_units, tanh spirals saturated_units, at 94-99%."""
    s = summary({"data": SPIRALS, "model": {"hidden": [64, 64], "activation": activation}, **FIT})
    assert s["final"]["test_acc"] > 0.95
    assert [e["type"] for e in s["events"] if e["severity"] in ("warn", "error") and e["type"] != "overfitting"] == []


def test_dead_relus_from_min_max_inputs_are_info_when_the_run_learns():
    s = summary({"data": {**SPIRALS, "normalize": "scale"}, "model": {"hidden": [64, 64], "activation": "relu"}, **FIT})
    dead = found(s)["dead_units"]
    assert s["final"]["test_acc"] > 0.9 and dead["severity"] == "info"
    assert dead["evidence"]["severity_without_outcome"] in ("warn", "error") and "No sign it hurt" in dead["message"]
    assert s["learned"].startswith("training still brought the loss to")


def test_a_multi_output_sigmoid_net_stuck_at_the_prior_is_at_chance():
    """BCE is a mean over C binary problems: its prior level is the mean binary entropy, not ln C."""
    s = summary({"data": {"name": "blobs", "classes": 4, "n_samples": 400},
                 "model": {"hidden": [16], "activation": "relu", "init": "zeros", "output": "sigmoid"},
                 "loss": "binary_cross_entropy", "optimizer": {"name": "adam", "lr": 0.01}, "train": {"epochs": 12}})
    plateau = found(s, "error")["plateau"]
    assert plateau["evidence"]["classification"] == "at_chance"
    assert plateau["evidence"]["h_prior"] == pytest.approx(-(0.25 * np.log(0.25) + 0.75 * np.log(0.75)), abs=0.05)


def test_reduction_sum_is_named_as_the_cause():
    s = summary({"data": {"name": "blobs", "n_samples": 1000}, "model": {"hidden": [32]},
                 "loss": {"name": "cross_entropy", "reduction": "sum"}, "optimizer": {"name": "sgd", "lr": 0.1},
                 "train": {"epochs": 10, "batch_size": 128}})
    named = [e for e in s["events"] if e["severity"] == "error" and "loss.reduction: sum" in e["message"]]
    assert named and "batch size (128)" in named[0]["message"]


def test_a_weight_decay_that_flips_the_weights_is_an_error_before_training():
    s = summary({"data": {"name": "blobs", "n_samples": 1000}, "model": {"hidden": [32]},
                 "optimizer": {"name": "sgd", "lr": 0.2, "weight_decay": 10}, "train": {"epochs": 10}})
    events = found(s, "error")
    assert events["weight_decay_too_large"]["evidence"]["lr_times_decay"] == pytest.approx(2.0)
    assert "weight decay: lr x decay = 2" in events["divergence"]["message"]


def test_zero_init_of_the_first_layer_alone_breaks_symmetry_with_sigmoid():
    layers = [{"dense": 64, "init": "zeros"}, "sigmoid", {"dense": 64}, "sigmoid", {"dense": 3}, "softmax"]
    s = summary({"data": SPIRALS, "model": {"layers": layers}, **FIT})
    assert found(s)["symmetric_init"]["severity"] == "info" and s["final"]["test_acc"] > 0.85
    both = [{"dense": 16, "init": "zeros"}, "sigmoid", {"dense": 16, "init": "zeros"}, "sigmoid", {"dense": 3}, "softmax"]
    relu = [{"dense": 16, "init": "zeros"}, "relu", {"dense": 3}, "softmax"]
    for model in (both, relu):
        s = summary({"data": SPIRALS, "model": {"layers": model}, "train": {"epochs": 1}})
        assert [e["evidence"]["layer"] for e in s["events"] if e["type"] == "symmetric_init" and e["severity"] == "error"] == [0]


def test_batch_size_1_at_lr_1e8_is_not_called_spiky():
    s = summary({"data": {"name": "xor", "n_samples": 200}, "model": {"hidden": [8]},
                 "optimizer": {"name": "sgd", "lr": 1e-8}, "train": {"epochs": 5, "batch_size": 1}})
    assert "spiky_run" not in found(s, "warn", "error")
    assert found(s, "error")["plateau"]["evidence"]["classification"] == "at_chance"


def test_classes_the_final_model_never_predicts_are_named():
    """A stuck ReLU output layer: three of four classes never win."""
    s = summary({"data": {"name": "blobs", "classes": 4, "n_samples": 400},
                 "model": {"hidden": [16], "activation": "relu", "init": "zeros", "output": "sigmoid"},
                 "loss": "binary_cross_entropy", "optimizer": {"name": "adam", "lr": 0.01}, "train": {"epochs": 3}})
    event = found(s)["classes_never_predicted"]
    assert event["severity"] == "error" and len(event["evidence"]["classes"]) == 3
    assert "cannot exceed" in event["message"] and event["where"] == {"split": "test"}


def test_squared_error_on_softmax_gets_a_hint():
    s = summary({"data": SPIRALS, "model": {"hidden": [16], "output": "softmax"}, "loss": "mse", "train": {"epochs": 1}})
    assert found(s, "warn")["squared_error_for_classification"]["message"].endswith("Use loss: cross_entropy.")


def test_clip_grad_norm_rescales_like_torch():
    """torch.nn.utils.clip_grad_norm_: g *= max_norm / (norm + 1e-6) when the norm exceeds it; the
    recorded grad_norm is the norm before clipping."""
    from nnlab.train.loop import train_step
    from nnlab.train.setup import prepare

    config = {"data": {"name": "blobs", "n_samples": 200}, "model": {"hidden": [8]}, "train": {"dtype": "float64"},
              "optimizer": {"name": "sgd", "lr": 1.0}}
    plain, clipped = prepare(validate(config)), prepare(validate({**config, "train": {"dtype": "float64", "clip_grad_norm": 0.01}}))
    x, t = plain.splits["train"]
    w0 = plain.model.layers[0].params["W"].copy()
    _, norm = train_step(plain, x[:32], t[:32], 1, [])
    _, norm_clipped = train_step(clipped, x[:32], t[:32], 1, [])
    assert norm == norm_clipped > 0.01
    step_plain = plain.model.layers[0].params["W"] - w0
    step_clipped = clipped.model.layers[0].params["W"] - w0
    np.testing.assert_allclose(step_clipped, step_plain * 0.01 / (norm + 1e-6), rtol=1e-12)


def test_diagnose_applies_todays_detectors_to_a_stored_trial(cli, tmp_path):
    """A trial stored with an older diagnosis (a forged warn:dead_units) gets today's, and the
    folder still verifies after --write."""
    config = write(tmp_path / "s.yaml", "name: s\ndata: {name: spirals, n_samples: 300}\nmodel: {hidden: [16]}\n"
                                        "optimizer: {name: adam, lr: 0.01}\ntrain: {epochs: 20}\n")
    assert cli("sweep", config, "seed=0,1", "-q")[0] == 0
    study = tmp_path / "results" / "s"
    trial = trial_dirs(study)[0]
    stored = json.loads((trial / "summary.json").read_text())
    today = [(e["severity"], e["type"]) for e in stored["events"]]
    old = {"type": "dead_units", "severity": "warn", "where": {}, "evidence": {}, "message": "an older verdict"}
    stored["events"] = [old]
    (trial / "summary.json").write_text(json.dumps(stored))
    code, out, err = cli("diagnose", trial)
    assert code == 0 and "corrupt" in err and "1 with a different" not in out   # a hand-edited file is refused
    manifest = json.loads((trial / "manifest.json").read_text())             # ... so forge it as nnlab would
    import hashlib
    manifest["sha256"]["summary.json"] = hashlib.sha256((trial / "summary.json").read_bytes()).hexdigest()
    (trial / "manifest.json").write_text(json.dumps(manifest))
    assert verify_trial(trial) is None
    code, out, err = cli("diagnose", study)
    assert code == 0, err
    assert "warn:dead_units" in out and "2 trial(s) diagnosed, 1 with a different diagnosis than stored" in out
    untouched = trial_dirs(study)[1] / "summary.json"
    before = untouched.stat().st_ino, untouched.read_bytes()
    code, out, err = cli("diagnose", study, "--write")
    assert code == 0 and "stored in 1 summary.json file(s) (the others had not changed)" in out
    assert (untouched.stat().st_ino, untouched.read_bytes()) == before   # a trial whose diagnosis held is not rewritten
    rewritten = json.loads((trial / "summary.json").read_text())
    assert [(e["severity"], e["type"]) for e in rewritten["events"]] == today
    assert verify_trial(trial) is None and "warn:dead_units" not in (study / "summary.csv").read_text()
    assert cli("diagnose", tmp_path / "nowhere")[0] == 2
