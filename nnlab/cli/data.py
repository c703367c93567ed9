"""``nnlab data list|verify|fetch``: datasets and where their files are."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError
from .app import data_app, handles_errors
from .console import say


def _root(root: Optional[Path]) -> str | None:
    return str(root) if root else None


@data_app.command("list")
@handles_errors
def data_list(root: Optional[Path] = typer.Option(None, "--root", help="Extra folder to search (like data.root).")):
    """List datasets and, for file-based ones, where they were found.

    Example: NNLAB_DATA=/data nnlab data list
    """
    from ..data.datasets import DATASET_KINDS
    from ..data.generated import GENERATORS
    from ..data.idx import data_dirs, find_idx

    for name, kind in DATASET_KINDS.items():
        if name in GENERATORS:
            where = "generated from data.seed, no files"
        elif name == "csv":
            where = "your own table: data: {name: csv, path: FILE, target: COLUMN}"
        elif name == "npz":
            where = "your own arrays: data: {name: npz, path: FILE} with x_train, y_train[, x_test, y_test]"
        else:
            folder = find_idx(name, _root(root))
            searched = ", ".join(str(d / name) for d in data_dirs(_root(root)))
            where = str(folder) if folder else f"missing (searched {searched})"
        say(f"{name:<14} {kind:<15} {where}")


def _file_dataset(dataset: str, why_not: str) -> None:
    if dataset not in ("mnist", "fashion_mnist"):
        raise ConfigError(f"'{dataset}' {why_not}; choose mnist or fashion_mnist")


@data_app.command("verify")
@handles_errors
def data_verify(dataset: str = typer.Argument("mnist", help="mnist or fashion_mnist"),
                root: Optional[Path] = typer.Option(None, "--root", help="Extra folder to search.")):
    """Check the IDX files of a dataset (SHA-256 of the decompressed bytes for MNIST).

    Example: NNLAB_DATA=/data nnlab data verify mnist
    """
    from ..data.idx import IDX_FILES, require_idx, verify_idx

    _file_dataset(dataset, "has no files to verify")
    folder = require_idx(dataset, _root(root))
    verify_idx(dataset, folder)
    say(f"{dataset}: {len(IDX_FILES)} files ok in {folder}")


@data_app.command("fetch")
@handles_errors
def data_fetch(dataset: str = typer.Argument(..., help="mnist or fashion_mnist"),
               root: Optional[Path] = typer.Option(None, "--root", help="Download here instead of ~/.cache/nnlab.")):
    """Download a dataset from its public mirrors (with a progress bar) and verify it.

    Example: nnlab data fetch fashion_mnist
    """
    from ..data.idx import fetch, find_idx

    _file_dataset(dataset, "is generated, not downloaded")
    folder = find_idx(dataset, _root(root)) or fetch(dataset, _root(root))
    say(f"{dataset}: ready in {folder}")
