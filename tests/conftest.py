import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nnlab  # noqa: F401  (importing nnlab pins the kernels; pytest and typer do not load NumPy)
from nnlab.cli.app import app
from nnlab.data.idx import find_idx

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("NNLAB_DATA") and not Path(os.environ["NNLAB_DATA"]).is_absolute():
    # given relative to the project root (../shared/data), and tests change directory
    os.environ["NNLAB_DATA"] = str((ROOT / os.environ["NNLAB_DATA"]).resolve())


def mnist_available() -> bool:
    return find_idx("mnist", None) is not None


needs_mnist = pytest.mark.skipif(
    not mnist_available(),
    reason="MNIST IDX files not found: set NNLAB_DATA to a folder holding mnist/ (CI uses ../shared/data)")


def arithmetic_differs() -> str | None:
    """Why fingerprints recorded in tests/fingerprints.json cannot match here, or None.
    They are bytes of float arithmetic: the NumPy version and OpenBLAS kernel family count."""
    import json

    import numpy as np
    from threadpoolctl import threadpool_info

    recorded = json.loads((ROOT / "tests" / "fingerprints.json").read_text())["recorded_with"]
    kernels = {info.get("architecture") for info in threadpool_info() if info.get("user_api") == "blas"}
    if np.__version__ != recorded["numpy"] or recorded["blas_architecture"] not in kernels:
        return (f"fingerprints were recorded with numpy {recorded['numpy']} and OpenBLAS "
                f"{recorded['blas_architecture']} kernels; this machine has numpy {np.__version__} and "
                f"{sorted(map(str, kernels))}")
    return None


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Invoke `nnlab` in a temporary working directory; returns (exit_code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(app, [str(a) for a in args])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return invoke


def trials_in(study: Path) -> list[Path]:
    """The trial folders of a study folder, by name (not study.yaml, summary.csv or reports)."""
    from nnlab.results.store import trial_dirs

    return trial_dirs(study)


def claims_left(study: Path) -> list:
    """Every claim row in a study's index (dead owners' included): what a process left behind."""
    import sqlite3

    from nnlab.results.index import DB

    if not (study / DB).exists():
        return []
    conn = sqlite3.connect(f"file:{study / DB}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT config_hash, pid FROM claims").fetchall()
    finally:
        conn.close()


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def assert_one_error_line(code: int, out: str, err: str, fragments, results: Path | None = None) -> None:
    """A refused input: exit 2, exactly one 'error: ...' line holding every fragment, and
    (given the results folder) nothing written."""
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in out + err
    if results is not None:
        assert not results.exists()


def l2_gradient_errors(setup, x, t) -> dict:
    """Relative error, per weight layer, between the gradient train_step hands the optimizer
    and finite differences of data loss + L2 penalty (float64 setups)."""
    from nnlab.nn.gradcheck import numerical_gradient, rel_error
    from nnlab.train.loop import l2_penalty, train_step

    captured = {}
    setup.optimizer.step = lambda params, grads: captured.update({k: g.copy() for k, g in grads.items()})

    def cost():
        out, _ = setup.objective.outputs(setup.model, x)
        return setup.objective.loss.forward(out, t)[0] + l2_penalty(setup)

    train_step(setup, x, t, 1, [])
    return {i: rel_error(captured[f"layers.{i}.W"], numerical_gradient(cost, setup.model.layers[i].params["W"]))
            for i in setup.weight_indices}
