"""Your own arrays (data.name: npz) and the CNNs that read them as images."""

import json

import numpy as np
import pytest

from conftest import assert_one_error_line, trials_in, write


def _images(n=240, side=8, seed=0):
    """Bright vs dark 8x8 images as uint8: an easy two-class task for a small CNN."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = (rng.random((n, side, side)) * 120 + 100 * y[:, None, None]).astype(np.uint8)
    return x, y


def _trials(folder):
    return trials_in(folder)


CNN = ("model:\n  layers: [{conv2d: 4, kernel: 3, padding: same}, relu, batchnorm, maxpool2d, flatten, {dense: 2}, softmax]\n"
       "optimizer: {name: adam, lr: 0.01}\ntrain: {epochs: 5, batch_size: 32}\n")


def test_an_image_npz_trains_a_cnn_and_a_changed_file_is_a_new_trial(cli, tmp_path):
    x, y = _images()
    np.savez(tmp_path / "imgs.npz", x_train=x[:200], y_train=y[:200], x_test=x[200:], y_test=y[200:])
    config = write(tmp_path / "c.yaml", "name: imgs\ndata: {name: npz, path: imgs.npz}\n" + CNN)
    code, out, err = cli("run", config, "-q")
    assert code == 0, out + err
    assert "conv2d(1->4, 3x3) -> relu -> batchnorm2d(4) -> maxpool2d(2x2) -> flatten -> dense(64->2)" in out
    (trial,) = _trials(tmp_path / "results" / "imgs")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["data"]["n_test"] == 40 and summary["data"]["kind"] == "classification"
    assert summary["final"]["test_acc"] >= 0.9
    weights = np.load(trial / "final.npz")
    assert weights["layers.0.W"].shape == (4, 1, 3, 3)            # PyTorch's (filters, channels, kh, kw)
    assert weights["layers.2.running_var"].shape == (4,)          # one statistic per channel
    # the same config on other bytes is another trial
    np.savez(tmp_path / "imgs.npz", x_train=x[:200], y_train=y[:200], x_test=x[200:210], y_test=y[200:210])
    code, out, err = cli("run", config, "-q")
    assert code == 0 and len(_trials(tmp_path / "results" / "imgs")) == 2


def test_npz_without_a_test_split_holds_out_a_fixed_share_and_infers_regression(cli, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((100, 3))
    np.savez(tmp_path / "r.npz", x_train=x, y_train=x @ [1.0, -2.0, 0.5])
    config = write(tmp_path / "c.yaml", "name: r\ndata: {name: npz, path: r.npz, test_fraction: 0.25}\nloss: mse\n"
                                        "model: {hidden: [8]}\ntrain: {epochs: 2}\n")
    code, out, err = cli("run", config, "-q")
    assert code == 0, out + err
    (trial,) = _trials(tmp_path / "results" / "r")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["data"]["kind"] == "regression" and summary["data"]["n_test"] == 25


def test_a_cnn_autoencoder_reconstructs_npz_images(cli, tmp_path):
    x, y = _images(n=60)
    np.savez(tmp_path / "a.npz", x_train=x, y_train=y)
    config = write(tmp_path / "c.yaml", "name: ae\ndata: {name: npz, path: a.npz, target: input}\nloss: mse\n"
                   "model:\n  layers: [{conv2d: 2, padding: same}, relu, flatten, {dense: 64}, sigmoid]\n"
                   "train: {epochs: 1, batch_size: 16}\n")
    code, out, err = cli("run", config, "-q")
    assert code == 0, out + err
    assert "dense(128->64)" in out


def _npz(tmp_path, **arrays):
    np.savez(tmp_path / "x.npz", **arrays)
    return "data: {name: npz, path: x.npz}\n"


X, Y = _images(n=20)
BAD = [
    pytest.param({"x_train": X}, ["x.npz: no array 'y_train' (it holds x_train)"], id="no-labels"),
    pytest.param({"x_train": X, "y_train": Y[:10]}, ["x_train has 20 rows but y_train has 10"], id="length-mismatch"),
    pytest.param({"x_train": np.where(np.arange(20)[:, None, None] == 7, np.inf, X.astype(float)), "y_train": Y},
                 ["x_train holds NaN or inf (first in row 7)"], id="inf-row"),
    pytest.param({"x_train": X, "y_train": Y, "x_test": X}, ["give both x_test and y_test, or neither"], id="test-half"),
    pytest.param({"x_train": np.zeros((20, 8, 8, 3)), "y_train": Y}, ["looks channels-last", "np.moveaxis(x, -1, 1)"],
                 id="channels-last"),
    pytest.param({"x_train": X.astype("U3"), "y_train": Y}, ["x_train has dtype <U3", "nnlab reads numbers"], id="text-array"),
    pytest.param({"x_train": X, "y_train": Y, "x_test": X[:, :4], "y_test": Y},
                 ["x_test rows have shape (4, 8), x_train rows (8, 8)"], id="test-shape"),
    pytest.param({"x_train": X[:3], "y_train": Y[:3]}, ["x_train has 3 rows; a data set needs at least 4"], id="too-few-rows"),
    pytest.param({"x_train": np.zeros((20, 2, 2, 2, 2)), "y_train": Y}, ["x_train has shape (20, 2, 2, 2, 2)"], id="five-dims"),
    pytest.param({"x_train": np.zeros((20, 0)), "y_train": Y}, ["a row needs at least one value"], id="zero-width"),
    pytest.param({"x_train": X, "y_train": Y, "x_test": X[:5], "y_test": Y[:5, None]},
                 ["y_test rows have shape (1,), y_train rows ()"], id="y-test-shape"),
    pytest.param({"x_train": X, "y_train": Y, "x_test": X[:4], "y_test": np.array([0.5, 1.0, 0.0, 1.0])},
                 ["classification needs y_test as (N,) whole-number labels"], id="y-test-fractional"),
    pytest.param({"x_train": X, "y_train": Y, "x_test": X[:3], "y_test": np.array([0, 1, 7])},
                 ["y_test has labels never seen in y_train (7)"], id="unseen-test-label"),
    pytest.param({"x_train": X, "y_train": np.zeros(20, dtype=int)}, ["y_train holds one class (0)"], id="one-class"),
]


@pytest.mark.parametrize("arrays, fragments", BAD)
def test_bad_npz_files_get_one_clear_line(cli, tmp_path, arrays, fragments):
    config = write(tmp_path / "c.yaml", _npz(tmp_path, **arrays))
    assert_one_error_line(*cli("run", config), fragments, tmp_path / "results")


@pytest.mark.parametrize("arrays, extra", [
    pytest.param({"x_test": X[:0], "y_test": Y[:0]}, "", id="empty-x-test"),
    pytest.param({}, "test_fraction: 0, ", id="test-fraction-0"),
])
def test_an_empty_test_split_trains_without_test_metrics(cli, tmp_path, arrays, extra):
    np.savez(tmp_path / "e.npz", x_train=X, y_train=Y, **arrays)
    config = write(tmp_path / "c.yaml", "name: e\ndata: {name: npz, path: e.npz, " + extra + "validation: 4}\n"
                   "model: {hidden: [4]}\ntrain: {epochs: 1}\n")
    code, out, err = cli("run", config, "-q")
    assert code == 0, out + err
    summary = json.loads((_trials(tmp_path / "results" / "e")[0] / "summary.json").read_text())
    assert "n_test" not in summary["data"] and "test_acc" not in summary["final"]   # no empty split is listed


def test_a_conv_on_flat_rows_is_a_config_error_before_anything_runs(cli, tmp_path):
    np.savez(tmp_path / "f.npz", x_train=np.random.default_rng(0).random((20, 5)), y_train=Y)
    config = write(tmp_path / "c.yaml", "data: {name: npz, path: f.npz}\n"
                   "model: {layers: [{conv2d: 4, kernel: 1}, flatten, {dense: 2}]}\n")
    for command in (("run", config), ("sweep", config, "--dry-run"), ("doctor", config)):
        code, out, err = cli(*command)
        assert code == 2 and "need images, but" in err and "holds flat rows" in err, (command, out, err)


def test_a_cnn_autoencoder_report_shows_its_reconstructions_as_images(cli, tmp_path):
    x, y = _images(n=40)
    np.savez(tmp_path / "a.npz", x_train=x, y_train=y)
    config = write(tmp_path / "c.yaml", "name: ae\ndata: {name: npz, path: a.npz, target: input}\nloss: mse\n"
                   "model:\n  layers: [{conv2d: 2, padding: same}, relu, flatten, {dense: 64}, sigmoid]\n"
                   "train: {epochs: 1, batch_size: 16}\n")
    assert cli("run", config, "-q")[0] == 0
    code, out, err = cli("report", tmp_path / "results" / "ae")
    assert code == 0, out + err
    (png,) = (tmp_path / "results" / "ae" / "report" / "trials").glob("*-reconstructions.png")
    assert png.stat().st_size > 1000


def test_pickled_objects_are_refused_not_loaded(cli, tmp_path):
    np.savez(tmp_path / "x.npz", x_train=np.array([object()] * 5, dtype=object), y_train=np.arange(5))
    code, out, err = cli("run", write(tmp_path / "c.yaml", "data: {name: npz, path: x.npz}\n"))
    assert code == 2 and "holds pickled objects, which nnlab does not load" in err


def test_an_npy_file_is_named_as_such(cli, tmp_path):
    np.save(tmp_path / "x.npz", np.zeros(3))  # np.save keeps the given name when it ends in .npy only
    path = next(tmp_path.glob("x.npz*"))
    code, out, err = cli("run", write(tmp_path / "c.yaml", f"data: {{name: npz, path: {path.name}}}\n"))
    assert code == 2 and "an .npy file holds one array" in err
