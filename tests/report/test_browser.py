"""The study report as a reader sees it: rendered by headless Chromium (Debian's `chromium`),
the screenshot is not blank and every image on the page loaded.

Skipped when Chromium is not installed, unless NNLAB_REQUIRE_BROWSER=1 (CI installs it
and sets that, so there the test cannot quietly not run)."""

import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import trials_in, write

pytestmark = pytest.mark.slow

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("NNLAB_REQUIRE_BROWSER") == "1":
            pytest.fail("NNLAB_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    return found


def browse(page, profile, *args):
    return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def test_study_report_renders_with_every_image(cli, tmp_path):
    config = write(tmp_path / "s.yaml", "name: s\ndata: {name: spirals, n_samples: 300, n_test: 100}\n"
                   "model: {hidden: [16]}\ntrain: {epochs: 4}\n"
                   "sweep: {grid: {model.activation: [relu, tanh]}, seeds: 2}\n")
    assert cli("sweep", config, "-q")[0] == 0
    code, out, err = cli("report", tmp_path / "results" / "s")
    assert code == 0, out + err
    page = tmp_path / "results" / "s" / "report" / "index.html"
    html = page.read_text()
    n_images = html.count("<img ")
    assert n_images >= 6    # compare, curves and one per trial
    dom = browse(page, tmp_path / "profile1", "--virtual-time-budget=10000", "--dump-dom")
    assert f'data-images="{n_images}/{n_images}"' in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "shot.png"
    browse(page, tmp_path / "profile2", "--window-size=1300,1800", f"--screenshot={shot}")
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (1800, 1300)
    assert pixels.std() > 20 and (pixels < 128).mean() > 0.01   # text and plots, not a blank page


def test_a_damaged_image_is_named_on_the_page(cli, tmp_path):
    config = write(tmp_path / "t.yaml", "name: t\ndata: {name: xor, n_samples: 100, n_test: 20}\nmodel: {hidden: [4]}\n"
                   "train: {epochs: 2}\n")
    assert cli("run", config, "-q")[0] == 0
    (trial,) = trials_in(tmp_path / "results" / "t")
    assert cli("report", trial, "--out", tmp_path / "r")[0] == 0
    page = tmp_path / "r" / "index.html"
    page.write_text(page.read_text().replace("data:image/png;base64,iVBOR", "data:image/png;base64,XXXX", 1))
    dom = browse(page, tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom").stdout
    assert 'data-images="0/1"' in dom and "1 of 1 images failed to load" in dom
