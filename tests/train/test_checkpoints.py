"""Issue 23.4: a trial killed mid-way (SIGKILL, at a random epoch) goes on from its last
checkpoint, and its metrics.csv (without timing), steps.csv and final.npz are byte-identical to
an uninterrupted run's; the checkpoint lives outside the trial folder and goes when it is written."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from nnlab.results.manifest import metrics_without_timing
from nnlab.results.store import trial_dirs

from conftest import ROOT, write

pytestmark = pytest.mark.slow

CASES = {
    "mlp-dropout-batchnorm": "name: c\ndata: {name: spirals, n_samples: 600, n_test: 200}\n"
                             "model: {hidden: [32, 32], batchnorm: before, dropout: 0.2}\n"
                             "optimizer: {name: adam, lr: 0.01}\ntrain: {epochs: 10, batch_size: 32}\n",
    "cnn": None,   # configs/cnn_strokes.yaml
    "cosine-schedule": "name: c\ndata: {name: moons, n_samples: 600, n_test: 200}\nmodel: {hidden: [16]}\n"
                       "optimizer: {name: momentum, lr: 0.1}\nschedule: {name: cosine}\ntrain: {epochs: 10, batch_size: 16}\n",
    "early-stopping": "name: c\ndata: {name: spirals, n_samples: 300, n_test: 200}\nmodel: {hidden: [64, 64]}\n"
                      "optimizer: {name: adam, lr: 0.03}\ntrain: {epochs: 40, batch_size: 16, early_stopping: "
                      "{monitor: val_loss, patience: 4}}\n",
}


def files(trial):
    with np.load(trial / "final.npz") as final:
        weights = {k: final[k].tobytes() for k in final.files}
    return (metrics_without_timing((trial / "metrics.csv").read_text()), (trial / "steps.csv").read_text(), weights)


@pytest.mark.parametrize("case", list(CASES))
def test_a_trial_killed_at_a_random_epoch_resumes_to_the_same_bytes(tmp_path, case):
    config = write(tmp_path / "c.yaml", CASES[case]) if CASES[case] else ROOT / "configs" / "cnn_strokes.yaml"
    extra = ["train.epochs=10"] if case == "cnn" else []
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NNLAB_CHECKPOINT_SECONDS": "0"}
    reference = subprocess.run([sys.executable, "-m", "nnlab", "run", config, *extra, "-q", "-o", tmp_path / "ref"],
                               capture_output=True, text=True, env=env, cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    (ref,) = trial_dirs(next((tmp_path / "ref").iterdir()))
    epochs = json.loads((ref / "summary.json").read_text())["epochs_run"]
    kill_at = int(np.random.default_rng(sum(map(ord, case))).integers(2, max(3, epochs - 1)))
    proc = subprocess.Popen([sys.executable, "-m", "nnlab", "run", config, *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    for line in proc.stdout:
        if line.startswith(f"epoch {kill_at:>{len(str(epochs if case != 'early-stopping' else 40))}}/"):
            break
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    study = next((tmp_path / "results").iterdir())
    assert trial_dirs(study) == [], "killed mid-way: no trial folder"
    assert list((study / ".checkpoints").iterdir()), "a checkpoint outside the trial folder"
    resumed = subprocess.run([sys.executable, "-m", "nnlab", "run", config, *extra, "-q"], capture_output=True,
                             text=True, env=env, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    (trial,) = trial_dirs(study)
    summary = json.loads((trial / "summary.json").read_text())
    assert 1 <= summary["resumed_from_epoch"] <= kill_at
    assert files(trial) == files(ref)
    assert summary["fingerprint"] == json.loads((ref / "summary.json").read_text())["fingerprint"]
    assert not (study / ".checkpoints" / summary["config_hash"]).exists()
