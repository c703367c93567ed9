"""Datasets: IDX parsing, verified download from a loopback server, offline errors, splits."""

import gzip
import hashlib
import http.server
import struct
import threading

import numpy as np
import pytest

from nnlab.config import DataConfig
from nnlab.data import datasets as data
from nnlab.data import idx
from nnlab.errors import DataError

from conftest import needs_mnist


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A tiny MNIST-shaped set served as .gz files; the checksum table is swapped for its own."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (30, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(30) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (10, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(10) % 10,
    }
    served = tmp_path / "mirror"
    served.mkdir()
    sums = {}
    for stem, array in arrays.items():
        raw = idx_bytes(array)
        sums[stem] = hashlib.sha256(raw).hexdigest()
        (served / f"{stem}.gz").write_bytes(gzip.compress(raw))
    monkeypatch.setattr(idx, "MNIST_SHA256", sums)
    return served, arrays


@pytest.fixture
def http_mirror(fake_mnist):
    served, _ = fake_mnist

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_parse_idx_reads_shape_and_values(tmp_path):
    array = np.arange(24).reshape(2, 3, 4)
    assert np.array_equal(idx.parse_idx(idx_bytes(array), tmp_path), array)


@pytest.mark.parametrize("raw, message", [
    pytest.param(b"\x00\x00\x0d\x01" + b"\x00" * 8, "bad magic", id="wrong-type-byte"),
    pytest.param(idx_bytes(np.zeros((4, 2)))[:-3], "truncated", id="truncated"),
])
def test_parse_idx_rejects_bad_files(tmp_path, raw, message):
    with pytest.raises(DataError, match=message):
        idx.parse_idx(raw, tmp_path / "f")


def test_fetch_downloads_verifies_and_loads(tmp_path, http_mirror, fake_mnist, monkeypatch):
    _, arrays = fake_mnist
    target = tmp_path / "cache" / "mnist"
    folder = idx.fetch("mnist", mirrors=[http_mirror], target=target, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}.gz" for s in idx.IDX_FILES)
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "cache"))
    x_train, y_train, x_test, y_test = idx.load_idx_dataset("mnist", None, download=False)
    assert x_train.shape == (30, 784) and np.array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_fetch_rejects_a_corrupt_download(tmp_path, http_mirror, monkeypatch):
    monkeypatch.setitem(idx.MNIST_SHA256, "t10k-labels-idx1-ubyte", "0" * 64)
    with pytest.raises(DataError, match="SHA-256"):
        idx.fetch("mnist", mirrors=[http_mirror], target=tmp_path / "m", progress=False)
    assert not list((tmp_path / "m").glob("*.gz")), "a failed verification leaves no files behind"


def test_offline_fetch_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "d"))
    # port 9 on loopback: nothing listens, the connection is refused at once
    with pytest.raises(DataError) as info:
        idx.fetch("mnist", mirrors=["http://127.0.0.1:9/"], target=tmp_path / "m", progress=False)
    message = str(info.value)
    assert "Offline?" in message and "train-images-idx3-ubyte.gz" in message and str(tmp_path / "d" / "mnist") in message
    assert not list((tmp_path / "m").iterdir()), "no partial download is left"


def test_raw_and_gz_files_are_both_found(tmp_path, fake_mnist, monkeypatch):
    served, arrays = fake_mnist
    folder = tmp_path / "raw" / "mnist"
    folder.mkdir(parents=True)
    for stem in idx.IDX_FILES:
        (folder / stem).write_bytes(gzip.decompress((served / f"{stem}.gz").read_bytes()))
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "raw"))
    assert idx.find_idx("mnist", None) == folder
    assert idx.verify_idx("mnist", folder)["train-images-idx3-ubyte"] == 30


@pytest.mark.parametrize("name, classes", [("xor", 2), ("spirals", 3), ("moons", 2), ("blobs", 3)])
def test_generated_sets_are_seeded_and_balanced(name, classes):
    cfg = DataConfig(name=name, n_samples=600, n_test=300, validation=0.2)
    a = data.load_dataset(cfg, np.random.default_rng(0))
    b = data.load_dataset(cfg, np.random.default_rng(0))
    assert np.array_equal(a.x_train, b.x_train) and a.n_classes == classes
    assert (len(a.x_train), len(a.x_val), len(a.x_test)) == (480, 120, 300)
    shares = np.bincount(a.y_train) / len(a.y_train)
    assert shares.min() > 0.8 / classes
    other = data.load_dataset(DataConfig(name=name, n_samples=600, seed=1), np.random.default_rng(0))
    assert not np.array_equal(a.x_train[:10], other.x_train[:10])


def test_regression_targets_leave_the_unit_interval():
    ds = data.load_dataset(DataConfig(name="regression"), np.random.default_rng(0))
    assert ds.kind == "regression" and ds.y_train.min() < -1 and ds.y_train.max() > 2


def test_stratified_split_keeps_class_shares():
    y = np.repeat([0, 1, 2], [500, 300, 200])
    train, val = data.stratified_split(y, 100, np.random.default_rng(0), stratify=True)
    assert np.bincount(y[val]).tolist() == [50, 30, 20]
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 1000


def test_subset_takes_the_first_training_examples_after_the_split():
    full = data.load_dataset(DataConfig(name="blobs", n_samples=500, validation=100, normalize="none"), np.random.default_rng(3))
    small = data.load_dataset(DataConfig(name="blobs", n_samples=500, validation=100, subset=50, normalize="none"), np.random.default_rng(3))
    assert np.array_equal(small.x_val, full.x_val)
    assert len(small.x_train) == 50


def test_standardisation_uses_training_statistics_only():
    ds = data.load_dataset(DataConfig(name="moons", normalize="standard", validation=0.3), np.random.default_rng(0))
    assert np.allclose(ds.x_train.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(ds.x_train.std(axis=0), 1)
    assert not np.allclose(ds.x_val.mean(axis=0), 0, atol=1e-6)


def test_area_resize_averages_what_each_output_pixel_covers():
    from nnlab.data.resize import area_weights, resize_images

    images = np.arange(2 * 28 * 28, dtype=np.float64).reshape(2, 28 * 28)
    halved = resize_images(images, (28, 28), (14, 14)).reshape(2, 14, 14)
    blocks = images.reshape(2, 14, 2, 14, 2).mean(axis=(2, 4))  # a whole factor: plain 2x2 means
    assert np.allclose(halved, blocks)
    weights = area_weights(28, 20)  # 1.4 input pixels per output pixel
    assert np.allclose(weights.sum(axis=1), 1.0) and np.allclose(weights.sum(axis=0), 20 / 28)
    assert np.allclose(weights[0, :2], [1 / 1.4, 0.4 / 1.4])
    flat = np.full((1, 28 * 28), 7.0)
    assert np.allclose(resize_images(flat, (28, 28), (20, 20)), 7.0)  # a flat image stays flat


@needs_mnist
def test_mnist_downscaled_to_20x20_for_a_400_input_net(tmp_path):
    from nnlab.config import validate
    from nnlab.train.setup import prepare

    exp = validate({"data": {"name": "mnist", "resize": [20, 20], "subset": 100, "test_subset": 50},
                    "model": {"hidden": [25]}, "train": {"epochs": 0}})
    setup = prepare(exp)
    assert setup.splits["train"][0].shape == (100, 400) and setup.splits["test"][0].shape == (50, 400)
    assert setup.splits["train"][0].min() >= 0.0 and setup.splits["train"][0].max() <= 1.0
    assert "dense(400->25)" in setup.model.describe()


@needs_mnist
@pytest.mark.parametrize("normalize", ["scale", "none"])
def test_images_come_back_in_the_trial_dtype_with_the_float64_values(normalize):
    """Loading straight into float32 (no float64 copy of the set: half the peak memory of
    `nnlab run configs/mnist.yaml`) gives exactly the float64 pipeline's values, cast."""
    cfg = DataConfig(name="mnist", normalize=normalize, validation=0.1)
    wide = data.load_dataset(cfg, np.random.default_rng(0))
    narrow = data.load_dataset(cfg, np.random.default_rng(0), dtype=np.float32)
    for split in ("x_train", "x_val", "x_test"):
        assert getattr(wide, split).dtype == np.float64 and getattr(narrow, split).dtype == np.float32
        assert np.array_equal(getattr(wide, split).astype(np.float32), getattr(narrow, split))
    assert np.array_equal(wide.y_train, narrow.y_train)
