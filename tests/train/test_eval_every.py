"""train.eval_every: a metrics row every N epochs and at the last; the diagnosis speaks in epochs."""

import csv
import json

from nnlab.diagnose import Context, diagnose

from conftest import trials_in, write

XOR = "name: t\ndata: {name: xor, n_samples: 200, n_test: 50}\nmodel: {hidden: [8]}\n"


def _metrics(trial):
    with open(trial / "metrics.csv") as f:
        return list(csv.DictReader(f))


def _trial(tmp_path):
    (trial,) = trials_in(tmp_path / "results" / "t")
    return trial


def test_rows_at_every_nth_epoch_and_the_last_with_the_gradient_mean_since_the_row_before(cli, tmp_path):
    config = write(tmp_path / "c.yaml", XOR + "train: {epochs: 10, eval_every: 4}\n")
    code, out, err = cli("run", config, "-q")
    assert code == 0, out + err
    trial = _trial(tmp_path)
    metrics = _metrics(trial)
    assert [int(r["epoch"]) for r in metrics] == [0, 4, 8, 10]
    with open(trial / "steps.csv") as f:
        steps = list(csv.DictReader(f))
    assert len(steps) == 10 * 2 and int(metrics[-1]["step"]) == 20          # every step is still recorded
    since = [float(s["grad_norm"]) for s in steps if 8 < int(s["epoch"]) <= 10]
    assert float(metrics[-1]["grad_norm"]) == sum(since) / len(since)
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["epochs_run"] == 10 and summary["stop_reason"] == "epochs"


def test_every_epoch_is_the_default_and_keeps_the_trial_id(cli, tmp_path):
    config = write(tmp_path / "c.yaml", XOR + "train: {epochs: 3}\n")
    cli("run", config, "-q")
    code, out, err = cli("run", config, "train.eval_every=1", "-q")
    assert code == 0 and "already holds" in out, out + err   # the same trial: eval_every 1 is the old behaviour
    assert [int(r["epoch"]) for r in _metrics(_trial(tmp_path))] == [0, 1, 2, 3]


def test_stop_rules_act_on_evaluated_epochs(cli, tmp_path):
    config = write(tmp_path / "c.yaml", XOR + "optimizer: {name: adam, lr: 0.05}\n"
                   "train: {epochs: 50, eval_every: 5, stop_when: {metric: train_acc, above: 0.9}}\n")
    code, out, err = cli("run", config, "-q")
    assert code == 0, out + err
    summary = json.loads((_trial(tmp_path) / "summary.json").read_text())
    assert summary["stop_reason"] == "stop_when" and summary["epochs_run"] % 5 == 0 and 0 < summary["epochs_run"] < 50


def test_the_diagnosis_names_epochs_not_row_numbers():
    """Overfitting from row 3 of rows taken every 5 epochs is overfitting from epoch 15."""
    val = [2.3, 1.0, 0.6, 0.4, 0.45, 0.55, 0.7, 0.9, 1.1, 1.3, 1.5]
    train = [2.3, 0.9, 0.5, 0.3, 0.2, 0.12, 0.08, 0.05, 0.04, 0.03, 0.02]
    metrics = [{"epoch": 5 * i, "train_loss": t, "val_loss": v, "train_acc": 0.9, "val_acc": 0.9}
               for i, (t, v) in enumerate(zip(train, val, strict=True))]
    ctx = Context(n_classes=10, h_prior=2.3, majority_share=0.11, epochs=50, eval_every=5)
    (event,) = [e for e in diagnose(metrics, [], ctx) if e["type"] == "overfitting"]
    assert event["where"] == {"epoch": 15} and "from epoch 15:" in event["message"]
