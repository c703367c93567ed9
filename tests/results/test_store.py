"""Trust nothing on disk: every trial folder carries a manifest, every command that reads a
trial checks it, and a damaged trial is `corrupt` everywhere, never complete."""

import json
import shutil

import numpy as np
import pytest

from conftest import trials_in, write

CONFIG = "name: t\ndata: {name: xor, n_samples: 80, n_test: 40}\nmodel: {hidden: [4]}\ntrain: {epochs: 3}\n"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished trial, made once; each test corrupts its own copy."""
    from typer.testing import CliRunner

    from nnlab.cli.app import app

    root = tmp_path_factory.mktemp("finished")
    config = write(root / "c.yaml", CONFIG)
    result = CliRunner().invoke(app, ["run", str(config), "-q", "-o", str(root / "results")])
    assert result.exit_code == 0, result.output
    (trial,) = trials_in(root / "results" / "t")
    return root, trial


def _edit_metrics_value(trial):
    lines = (trial / "metrics.csv").read_text().splitlines()
    cells = lines[2].split(",")
    cells[2] = "0.001"  # train_loss at epoch 1
    lines[2] = ",".join(cells)
    (trial / "metrics.csv").write_text("\n".join(lines) + "\n")


def _forge_summary(trial):
    summary = json.loads((trial / "summary.json").read_text())
    summary["final"]["test_acc"] = 1.0
    (trial / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


def _swap_weights(trial):
    with np.load(trial / "final.npz") as final:
        arrays = {k: final[k] * 2 for k in final.files}
    np.savez(trial / "final.npz", **arrays)


FAULTS = [
    pytest.param(_edit_metrics_value, "metrics.csv changed", id="metrics-value-edited"),
    pytest.param(lambda t: (t / "metrics.csv").write_text(""), "metrics.csv changed", id="metrics-emptied"),
    pytest.param(lambda t: (t / "steps.csv").write_text((t / "steps.csv").read_text().replace("1", "2", 1)),
                 "steps.csv changed", id="steps-edited"),
    pytest.param(lambda t: (t / "final.npz").unlink(), "final.npz is missing", id="final-weights-deleted"),
    pytest.param(_swap_weights, "final.npz changed", id="final-weights-replaced"),
    pytest.param(lambda t: (t / "init.npz").write_bytes(b""), "init.npz changed", id="init-weights-emptied"),
    pytest.param(_forge_summary, "summary.json changed", id="summary-forged"),
    pytest.param(lambda t: (t / "summary.json").write_text("{not json"), "summary.json is not valid JSON",
                 id="summary-invalid-json"),
    pytest.param(lambda t: (t / "summary.json").unlink(), "summary.json is missing", id="summary-deleted"),
    pytest.param(lambda t: (t / "config.yaml").write_text((t / "config.yaml").read_text() + "# edited\n"),
                 "config.yaml changed", id="config-edited"),
    pytest.param(lambda t: (t / "manifest.json").write_text("[]"), "manifest.json is not valid", id="manifest-broken"),
    pytest.param(lambda t: (t / "manifest.json").unlink(), "manifest.json is missing", id="manifest-deleted"),
]


@pytest.mark.parametrize("fault, problem", FAULTS)
def test_a_damaged_trial_is_corrupt_everywhere(cli, tmp_path, finished, fault, problem):
    root, original = finished
    results = tmp_path / "results"
    shutil.copytree(original.parent, results / "t")
    trial = results / "t" / original.name
    fault(trial)
    config = write(tmp_path / "c.yaml", CONFIG)

    code, out, err = cli("run", config, "-q")  # the same config: found, and not trusted
    assert code == 1 and "corrupt" in err and problem in err, out + err
    code, out, _ = cli("sweep", config, "--dry-run")
    assert code == 0 and " corrupt" in out.splitlines()[1]
    code, out, err = cli("sweep", config, "-q", "--workers", "1")
    assert code == 1 and "1 trial(s) corrupt" in err and "0 trained" in out
    assert "corrupt" in (results / "t" / "summary.csv").read_text()
    code, out, err = cli("report", results / "t")
    assert code == 0, err
    page = (results / "t" / "report" / "index.html").read_text()
    assert "corrupt" in page and problem.split()[0] in page
    code, out, err = cli("reproduce", trial)
    assert code == 1 and "corrupt" in err and "identical" not in out
    code, out, err = cli("sweep", config, "-q", "--workers", "1", "--retry")  # --retry trains it again
    assert code == 0 and "1 trained" in out, out + err
    code, out, err = cli("reproduce", trial)
    assert code == 0 and "identical" in out


def test_a_trial_from_before_manifests_is_checked_by_its_fingerprint(cli, tmp_path, finished):
    root, original = finished
    shutil.copytree(original.parent, tmp_path / "results" / "t")
    trial = tmp_path / "results" / "t" / original.name
    (trial / "manifest.json").unlink()
    summary = json.loads((trial / "summary.json").read_text())
    del summary["stop_reason"]  # as written before manifests existed
    (trial / "summary.json").write_text(json.dumps(summary))
    config = write(tmp_path / "c.yaml", CONFIG)
    code, out, _ = cli("run", config, "-q")
    assert code == 0 and "already holds this exact config (complete)" in out
    forged = dict(summary, final={**summary["final"], "test_acc": 0.999})
    (trial / "summary.json").write_text(json.dumps(forged))
    code, out, err = cli("run", config, "-q")
    assert code == 1 and "summary.json final.test_acc is 0.999, but metrics.csv says" in err
    (trial / "summary.json").write_text(json.dumps(summary))
    _edit_metrics_value(trial)
    code, out, err = cli("run", config, "-q")
    assert code == 1 and "differ from the fingerprint" in err


def test_a_write_error_is_one_line_and_leaves_nothing(cli, tmp_path, monkeypatch):
    """A full disk while the trial is written: exit 1, one line, no half-written folder."""
    import errno

    from nnlab.results import fsio

    real_open = open

    def full_disk(path, mode="r", *args, **kwargs):
        if ("w" in mode or "x" in mode) and ".tmp-" in str(path) and str(path).endswith("steps.csv"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(fsio, "open", full_disk, raising=False)
    code, out, err = cli("run", write(tmp_path / "c.yaml", CONFIG), "-q")
    assert code == 1 and err.count("\n") == 1 and "No space left on device" in err, out + err
    assert not (tmp_path / "results").exists()   # the folders this run created went with the failed write


def test_a_results_folder_that_cannot_be_written_is_refused_before_training(cli, tmp_path, monkeypatch):
    config = write(tmp_path / "c.yaml", CONFIG)
    blocker = write(tmp_path / "results-file", "not a folder")
    code, out, err = cli("run", config, "-o", blocker / "sub")
    assert code == 2 and "is a file" in err and "nnlab run" not in out
    # a read-only folder (simulated: the tests may run as root, who can write anywhere)
    import tempfile

    read_only = tmp_path / "ro"
    read_only.mkdir()
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if str(dir) == str(read_only):
            raise PermissionError(13, "Permission denied", str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    code, out, err = cli("run", config, "-o", read_only)
    assert code == 2 and "not writable" in err and "nnlab run" not in out
    assert list(read_only.iterdir()) == []
