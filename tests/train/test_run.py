"""`nnlab run` end to end on built-in data: files, numbers, reproducibility, failure modes."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from nnlab.config import load_config
from nnlab.results.csvtext import TIMING_COLUMNS

from conftest import ROOT, needs_mnist, write

TINY = """
name: tiny
seed: 0
data: {name: blobs, n_samples: 200, n_test: 100}
model: {hidden: [8, 6], activation: tanh, init: glorot_uniform, batchnorm: after, dropout: 0.1}
optimizer: {name: adam, lr: 0.01}
train: {epochs: 4, batch_size: 32}
"""


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def trial_dirs(results):
    return [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]


def test_run_writes_the_trial_folder(cli, tmp_path):
    code, out, _ = cli("run", write(tmp_path / "c.yaml", TINY), "-q")
    assert code == 0, out
    (trial,) = trial_dirs(tmp_path / "results" / "tiny")
    assert trial.name.startswith("run-")
    assert sorted(p.name for p in trial.iterdir()) == [
        "config.yaml", "final.npz", "init.npz", "manifest.json", "metrics.csv", "steps.csv", "summary.json"]
    metrics = read_csv(trial / "metrics.csv")
    assert [int(r["epoch"]) for r in metrics] == [0, 1, 2, 3, 4]
    header = list(metrics[0])
    assert header[:8] == ["epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"]
    assert header[-3:] == ["train_time_s", "eval_time_s", "time_s"]   # cumulative seconds, timing columns last
    last = metrics[-1]
    assert float(last["train_time_s"]) > 0 and float(last["eval_time_s"]) > 0
    assert float(last["train_time_s"]) + float(last["eval_time_s"]) <= float(last["time_s"]) * 1.001 + 0.01
    assert metrics[0]["step"] == "0" and metrics[-1]["step"] == str(4 * math.ceil(180 / 32))
    # epoch 0 is before training: softmax CE near ln 3 on three balanced classes
    assert abs(float(metrics[0]["train_loss"]) - math.log(3)) < 0.5
    steps = read_csv(trial / "steps.csv")
    assert len(steps) == 4 * math.ceil(180 / 32) and list(steps[0])[:4] == ["step", "epoch", "loss", "lr"]
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["status"] == "complete" and len(summary["fingerprint"]) == 64
    assert summary["environment"]["blas_threads"] == 1
    assert summary["final"]["test_acc"] > 0.8
    weights = np.load(trial / "final.npz")
    # dense(2->8) bn tanh dropout dense(8->6) bn tanh dropout dense(6->3) softmax; BN after the activation
    assert weights["layers.0.W"].shape == (2, 8) and weights["layers.8.W"].shape == (6, 3)
    assert {"layers.2.gamma", "layers.2.beta", "layers.2.running_mean", "layers.2.running_var"} <= set(weights)
    assert weights["layers.0.W"].dtype == np.float32
    assert "complete: 4 epochs" in out and str(trial.relative_to(tmp_path)) in out


def test_resolved_config_reloads_to_the_same_trial(cli, tmp_path):
    cli("run", write(tmp_path / "c.yaml", TINY), "-q")
    (trial,) = trial_dirs(tmp_path / "results" / "tiny")
    original = load_config(tmp_path / "c.yaml")
    reloaded = load_config(trial / "config.yaml")
    assert reloaded.config_hash() == original.config_hash()
    assert reloaded.model.output == "softmax" and reloaded.optimizer.betas == (0.9, 0.999)


def test_same_config_same_bytes_other_seed_other_bytes(cli, tmp_path):
    config = write(tmp_path / "c.yaml", TINY)
    for out in ("a", "b"):
        assert cli("run", config, "-q", "-o", out)[0] == 0
    assert cli("run", config, "seed=1", "-q", "-o", "c")[0] == 0
    a, b, c = (trial_dirs(tmp_path / r / "tiny")[0] for r in ("a", "b", "c"))

    def without_time(path):
        return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in read_csv(path)]

    assert without_time(a / "metrics.csv") == without_time(b / "metrics.csv")
    assert (a / "steps.csv").read_bytes() == (b / "steps.csv").read_bytes()
    fingerprints = [json.loads((t / "summary.json").read_text())["fingerprint"] for t in (a, b, c)]
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]
    assert without_time(a / "metrics.csv") != without_time(c / "metrics.csv")
    assert c.name.startswith("seed=1-")


def test_batch_size_does_not_change_the_initial_weights(cli, tmp_path):
    config = write(tmp_path / "c.yaml", TINY)
    cli("run", config, "-q", "-o", "a")
    cli("run", config, "train.batch_size=16", "-q", "-o", "b")
    a, b = (trial_dirs(tmp_path / r / "tiny")[0] for r in ("a", "b"))
    init_a, init_b = np.load(a / "init.npz"), np.load(b / "init.npz")
    assert all(np.array_equal(init_a[k], init_b[k]) for k in init_a)


def test_second_run_reuses_a_complete_trial_unless_forced(cli, tmp_path):
    config = write(tmp_path / "c.yaml", TINY)
    cli("run", config, "-q")
    code, out, _ = cli("run", config, "-q")
    assert code == 0 and "already holds this exact config" in out
    code, out, _ = cli("run", config, "-q", "--force")
    assert code == 0 and "already" not in out
    assert len(trial_dirs(tmp_path / "results" / "tiny")) == 1


def test_divergence_is_recorded_not_a_crash(cli, tmp_path):
    # a linear output on regression targets with a huge SGD step grows geometrically to inf
    config = write(tmp_path / "c.yaml", "name: tiny\ndata: {name: regression, n_samples: 200}\n"
                   "model: {hidden: [8], activation: tanh}\nloss: mse\noptimizer: {name: sgd, lr: 5.0}\n"
                   "train: {epochs: 20, batch_size: 32}\n")
    code, out, err = cli("run", config, "-q")
    assert code == 0
    summary = json.loads((trial_dirs(tmp_path / "results" / "tiny")[0] / "summary.json").read_text())
    assert summary["status"] == "diverged"
    assert summary["diverged"]["epoch"] >= 1 and summary["diverged"]["step"] >= 1
    assert summary["epochs_run"] < 20
    assert "diverged: the" in err and f"step {summary['diverged']['step']}" in err
    assert "RuntimeWarning" not in err


def test_early_stopping_restores_the_best_weights(cli, tmp_path):
    text = TINY.replace("epochs: 4", "epochs: 200, early_stopping: {monitor: val_loss, patience: 3}")
    text = text.replace("n_samples: 200", "n_samples: 60, validation: 0.5, normalize: scale")
    code, out, _ = cli("run", write(tmp_path / "c.yaml", text), "-q")
    assert code == 0
    (trial,) = trial_dirs(tmp_path / "results" / "tiny")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["stopped_early"] and summary["epochs_run"] < 200
    assert summary["epochs_run"] - summary["best"]["epoch"] == 3
    best, final = np.load(trial / "best.npz"), np.load(trial / "final.npz")
    assert all(np.array_equal(best[k], final[k]) for k in best)
    # the summary's "final" describes the weights in final.npz: the best epoch's, not the last
    assert summary["final"]["epoch"] == summary["best"]["epoch"] == summary["restored_best_epoch"]
    assert summary["final"]["val_loss"] == summary["best"]["val_loss"]
    assert summary["last_epoch"]["epoch"] == summary["epochs_run"]
    assert f"best weights of epoch {summary['best']['epoch']} restored" in out


def test_float64_and_full_batch(cli, tmp_path):
    code, _, _ = cli("run", write(tmp_path / "c.yaml", TINY), "train.dtype=float64", "train.batch_size=full", "-q")
    assert code == 0
    (trial,) = trial_dirs(tmp_path / "results" / "tiny")
    assert np.load(trial / "final.npz")["layers.0.W"].dtype == np.float64
    assert len(read_csv(trial / "steps.csv")) == 4


EXPLICIT = """
name: explicit
data: {name: xor, n_samples: 200}
model:
  init: glorot_uniform
  layers:
    - {dense: 8, init: he_normal}
    - relu
    - {dense: 8}
    - sigmoid
    - batchnorm
    - {dropout: 0.1}
    - {dense: 2}
    - softmax
train: {epochs: 2}
"""


def test_explicit_layer_list_mixes_activations(cli, tmp_path):
    code, out, _ = cli("run", write(tmp_path / "c.yaml", EXPLICIT), "-q")
    assert code == 0, out
    (trial,) = trial_dirs(tmp_path / "results" / "explicit")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["model"]["layers"] == ("dense(2->8) -> relu -> dense(8->8) -> sigmoid -> batchnorm(8) -> "
                                          "dropout(0.1) -> dense(8->2) -> softmax")
    assert load_config(trial / "config.yaml").config_hash() == load_config(tmp_path / "c.yaml").config_hash()


def train(text, *overrides):
    import yaml

    from nnlab.config import apply_overrides, validate
    from nnlab.train.trial import run_trial

    exp = validate(apply_overrides(yaml.safe_load(text), list(overrides)))
    return run_trial(exp)


def test_relu_output_before_softmax_is_expressible_and_hurts():
    base = "data: {name: blobs, n_samples: 300, classes: 5, seed: 2}\nmodel: {hidden: [16]}\ntrain: {epochs: 30, batch_size: 32}\noptimizer: {name: adam, lr: 0.01}\n"
    good = train(base)
    bad = train(base, "model.output=relu")
    assert "cross_entropy on logits" in bad.summary["model"]["loss"]
    assert bad.summary["final"]["train_acc"] < good.summary["final"]["train_acc"]


def test_sigmoid_outputs_with_categorical_ce_drift_to_one():
    import yaml

    from nnlab.config import validate
    from nnlab.train.evaluate import predict
    from nnlab.train.trial import prepare, run_trial

    text = "data: {name: blobs, n_samples: 300, classes: 4, normalize: scale}\nmodel: {hidden: [16], output: sigmoid}\ntrain: {epochs: 30}\noptimizer: {name: adam, lr: 0.01}\n"
    exp = validate(yaml.safe_load(text))
    setup = prepare(exp)
    records = run_trial(exp, setup=setup)
    assert records.summary["status"] == "complete"
    assert "on probabilities" in records.summary["model"]["loss"]
    outputs = predict(setup, setup.splits["train"][0])
    assert outputs.sum(axis=1).mean() > 3.5  # sum_k p_k -> C = 4


def test_zero_init_is_expressible_and_stays_symmetric():
    records = train("data: {name: blobs, n_samples: 200}\nmodel: {hidden: [6], activation: sigmoid, init: zeros}\ntrain: {epochs: 5}\n")
    w = records.weights["final"]["layers.0.W"]
    assert np.allclose(w, w[:, :1])  # every hidden unit identical after training


@pytest.mark.parametrize("config", ["xor.yaml", "spirals.yaml"])
def test_example_configs_train_in_seconds(cli, config):
    code, out, _ = cli("run", ROOT / "configs" / config, "-q")
    assert code == 0, out
    assert "complete" in out
    summary_acc = float(out.split("final:")[1].split("test_acc")[1].split()[0])
    assert summary_acc > 0.9


def test_reproduce_confirms_the_fingerprint_and_catches_a_change(cli, tmp_path):
    cli("run", write(tmp_path / "c.yaml", TINY), "-q")
    (trial,) = trial_dirs(tmp_path / "results" / "tiny")
    code, out, _ = cli("reproduce", trial)
    assert code == 0 and "identical: fingerprint" in out
    # as if the trial had been trained elsewhere (another BLAS): consistent files, other numbers
    import hashlib

    lines = (trial / "metrics.csv").read_text().splitlines()
    cells = lines[2].split(",")
    cells[2] = "0.5"
    lines[2] = ",".join(cells)
    (trial / "metrics.csv").write_text("\n".join(lines) + "\n")
    manifest = json.loads((trial / "manifest.json").read_text())
    manifest["sha256"]["metrics.csv"] = hashlib.sha256((trial / "metrics.csv").read_bytes()).hexdigest()
    (trial / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = cli("reproduce", trial)
    assert code == 1 and "not reproduced" in err and "first differs at epoch row 1" in err
    code, _, err = cli("reproduce", tmp_path)
    assert code == 2 and "not a trial folder" in err


def _claim_as(study: Path, config_hash: str, **owner) -> None:
    """Put a claim into a study's index as another process would have left it."""
    import os
    import socket
    import time

    from nnlab.results.claims import boot_id, process_start
    from nnlab.results.index import StudyIndex

    row = {"pid": os.getpid(), "host": socket.gethostname(), "boot": boot_id(), "started": process_start(os.getpid()),
           "since": time.time() - 60, "heartbeat": time.time(), **owner}
    with StudyIndex(study) as index, index.locked() as conn:
        conn.execute("INSERT OR REPLACE INTO claims VALUES (?, 'other', ?, ?, ?, ?, ?, ?)",
                     (config_hash, row["pid"], row["host"], row["boot"], row["started"], row["since"], row["heartbeat"]))


def test_run_skips_a_config_another_process_is_training(cli, tmp_path):
    """`run` takes the same claim as `sweep`: a live claim on the config means it is being
    trained, and the line says whose it is."""
    import os

    from nnlab.config import load_config

    config = write(tmp_path / "c.yaml", TINY)
    study = tmp_path / "results" / "tiny"
    _claim_as(study, load_config(config).config_hash())     # this very process: provably alive
    code, out, err = cli("run", config, "-q")
    assert code == 1 and "another nnlab process (pid " in err and f"pid {os.getpid()} on host" in err, err
    assert len(err.strip().splitlines()) == 1 and trial_dirs(study) == []


@pytest.mark.parametrize("owner", [
    pytest.param({"started": "1"}, id="pid-reused"),        # a live pid that started at another time
    pytest.param({"pid": 2 ** 22 + 12345}, id="pid-gone"),
    pytest.param({"host": "lab-7", "heartbeat": 0.0}, id="other-host-silent"),
    pytest.param({"boot": "an-earlier-boot"}, id="before-a-reboot"),
])
def test_a_claim_whose_owner_is_provably_gone_is_taken_over(cli, tmp_path, owner):
    """Issue 21.9: a claim whose pid was reused by a live process blocked its trial for good;
    a claim is believed only while its owner provably runs."""
    from nnlab.config import load_config

    config = write(tmp_path / "c.yaml", TINY)
    study = tmp_path / "results" / "tiny"
    _claim_as(study, load_config(config).config_hash(), **owner)
    code, out, err = cli("run", config, "-q")
    assert code == 0, err
    assert len(trial_dirs(study)) == 1


def test_a_claim_from_another_host_with_a_heartbeat_is_believed_and_named(cli, tmp_path):
    from nnlab.config import load_config

    config = write(tmp_path / "c.yaml", TINY)
    study = tmp_path / "results" / "tiny"
    _claim_as(study, load_config(config).config_hash(), host="lab-7", pid=4120)
    code, out, err = cli("run", config, "-q")
    assert code == 1 and "pid 4120 on host lab-7" in err and "30 minutes without a heartbeat" in err, err


def test_the_classic_xor_net_stops_on_its_error_rule(cli, tmp_path):
    """2-2-1 sigmoid net, one output unit, squared error, trained while train MAE >= 0.3."""
    code, out, err = cli("run", ROOT / "configs" / "xor_221.yaml", "seed=1", "-q")
    assert code == 0, out + err
    (trial,) = trial_dirs(tmp_path / "results" / "xor_221")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["stop_reason"] == "stop_when" and summary["stop_when"]["metric"] == "train_mae"
    rows = read_csv(trial / "metrics.csv")
    assert float(rows[-1]["train_mae"]) < 0.3 <= float(rows[-2]["train_mae"])  # stopped at the first epoch below
    assert summary["epochs_run"] == summary["stop_when"]["epoch"] < 2000
    weights = np.load(trial / "final.npz")
    assert weights["layers.2.W"].shape == (2, 1)  # one output unit
    assert "stopped by train.stop_when: train_mae" in out


def test_dense_layers_without_bias_frozen_layers_and_plain_dropout(cli, tmp_path):
    config = write(tmp_path / "c.yaml", """
name: parts
data: {name: blobs, n_samples: 200, n_test: 100, test_subset: 50}
model:
  layers:
    - {dense: 8, bias: false}
    - relu
    - {dropout: 0.5, inverted: false}
    - {dense: 3, trainable: false}
    - softmax
train: {epochs: 3}
""")
    code, out, err = cli("run", config, "-q")
    assert code == 0, out + err
    (trial,) = trial_dirs(tmp_path / "results" / "parts")
    init, final = np.load(trial / "init.npz"), np.load(trial / "final.npz")
    assert "layers.0.b" not in final.files and "layers.3.b" in final.files
    assert not np.array_equal(init["layers.0.W"], final["layers.0.W"])      # trained
    assert np.array_equal(init["layers.3.W"], final["layers.3.W"])          # frozen
    assert np.array_equal(init["layers.3.b"], final["layers.3.b"])
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["data"]["n_test"] == 50
    assert "dense(2->8, no bias)" in summary["model"]["layers"] and "dropout(0.5, not inverted)" in summary["model"]["layers"]


def test_l2_regularization_is_part_of_the_reported_training_loss(cli, tmp_path):
    base = write(tmp_path / "c.yaml", TINY)
    assert cli("run", base, "train.epochs=0", "-q")[0] == 0
    assert cli("run", base, "train.epochs=0", "regularization.l2=1.0", "-q")[0] == 0
    plain, regular = sorted(trial_dirs(tmp_path / "results" / "tiny"), key=lambda p: len(p.name))
    weights = np.load(plain / "init.npz")
    penalty = 0.5 * sum(float(np.vdot(weights[k], weights[k])) for k in weights.files if k.endswith(".W"))
    loss_plain = float(read_csv(plain / "metrics.csv")[0]["train_loss"])
    loss_regular = float(read_csv(regular / "metrics.csv")[0]["train_loss"])
    assert math.isclose(loss_regular, loss_plain + penalty, rel_tol=1e-6)
    val_plain = float(read_csv(plain / "metrics.csv")[0]["val_loss"])
    assert float(read_csv(regular / "metrics.csv")[0]["val_loss"]) == val_plain  # held-out losses stay data losses


@needs_mnist
def test_an_autoencoder_reconstructs_its_input_and_the_report_shows_it(cli, tmp_path):
    config = ROOT / "configs" / "autoencoder_mnist.yaml"
    code, out, err = cli("run", config, "data.subset=1000", "data.test_subset=100", "train.epochs=2", "-q")
    assert code == 0, out + err
    (trial,) = trial_dirs(tmp_path / "results" / "autoencoder_mnist")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["target"] == "input" and summary["data"]["kind"] == "regression"
    assert np.load(trial / "final.npz")["layers.6.W"].shape == (128, 784)  # the decoder ends at 784 pixels
    rows = read_csv(trial / "metrics.csv")
    assert 0 < float(rows[-1]["train_mae"]) < float(rows[0]["train_mae"]) < 0.5  # pixel error falls, in [0, 1] units
    code, out, err = cli("report", trial)
    assert code == 0 and (trial / "report" / f"{trial.name}-reconstructions.png").stat().st_size > 5000
    # the classic mistake: unnormalised pixels (0-255) as targets of a sigmoid output
    code, out, err = cli("doctor", config, "data.normalize=none")
    assert code == 1 and "bounded_output_for_targets" in out


def test_a_stop_rule_keeps_the_weights_it_judged_even_with_restore_best(cli, tmp_path):
    code, out, err = cli("run", ROOT / "configs" / "xor_221.yaml", "seed=1",
                         "train.early_stopping={monitor: val_acc, patience: 1000}", "-q")
    assert code == 0, out + err
    (trial,) = trial_dirs(tmp_path / "results" / "xor_221")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["stop_reason"] == "stop_when" and "restored_best_epoch" not in summary
    assert summary["final"]["epoch"] == summary["stop_when"]["epoch"] and summary["final"]["train_mae"] < 0.3


def test_a_rule_on_an_empty_split_is_a_config_error(cli, tmp_path):
    code, out, err = cli("run", write(tmp_path / "c.yaml", TINY), "data.validation=0.0001",
                         "train.stop_when={metric: val_loss, below: 0.01}")
    assert code == 2 and "reads the val split, which is empty" in err, out + err
    assert trial_dirs(tmp_path / "results" / "tiny") == [] if (tmp_path / "results" / "tiny").exists() else True


@pytest.mark.parametrize("model", [{"hidden": [16, 8]}, {"layers": [{"conv2d": 2, "padding": "same"}, "relu", "maxpool2d",
                                                                      "flatten", {"dense": 3}]}], ids=["mlp", "cnn"])
def test_evaluation_on_threads_gives_the_serial_bytes(model, tmp_path):
    """`nnlab run` evaluates chunks on a thread pool: every number must equal the serial pass."""
    import numpy as np

    from nnlab.config import validate
    from nnlab.runtime.threads import Threads
    from nnlab.train.evaluate import evaluate_all
    from nnlab.train.setup import prepare

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x_train=rng.random((3000, 6, 6)), y_train=rng.integers(0, 3, 3000))
    setup = prepare(validate({"data": {"name": "npz", "path": str(tmp_path / "d.npz")}, "model": model}))
    setup.model.eval_chunk = 256   # many chunks
    serial = evaluate_all(setup)
    with Threads(3) as threads:
        threaded = evaluate_all(setup)
        assert threads._pool is not None   # the pool really ran chunks
    assert serial == threaded and len(serial) == 6


@needs_mnist
def test_a_single_run_lets_go_of_the_raw_images_once_converted(cli, tmp_path):
    """The raw IDX arrays are kept per process for a sweep's next trial; `nnlab run` has no next
    trial, and they were 55 MB of its peak memory."""
    from nnlab.data.idx import _read_verified, load_idx_dataset

    load_idx_dataset("mnist", None)
    assert _read_verified.cache_info().currsize == 1
    code, out, err = cli("run", ROOT / "configs" / "mnist.yaml", "data.subset=500", "data.test_subset=100",
                         "train.epochs=1", "-q")
    assert code == 0, out + err
    assert _read_verified.cache_info().currsize == 0
