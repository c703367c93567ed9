"""Results as pandas DataFrames, for notebooks: ``nnlab.load_study`` and ``nnlab.load_trial``.

    import nnlab
    study = nnlab.load_study("results/bn_placement")
    study.epochs.groupby(["model.batchnorm", "epoch"])["val_loss"].mean().unstack(0).plot()

``trials`` has one row per trial folder (the swept values as columns, then status, epochs,
final and best metrics, events: summary.csv's row); ``epochs`` is every trial's metrics.csv
and ``steps`` every steps.csv, each row tagged with its trial and swept values. A corrupt
trial keeps its row in ``trials`` (status ``corrupt``) and contributes no curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError


@dataclass
class Frames:
    trials: object    # pandas.DataFrame
    epochs: object
    steps: object
    groups: object    # one row per configuration over seeds (groups.csv), for a study


def load_trial(path: str | Path) -> Frames:
    """One trial folder as Frames (``trials`` has its one row)."""
    from ..report.html import is_trial

    path = Path(path)
    if not path.is_dir() or not is_trial(path):
        raise ConfigError(f"{path}: not a trial folder (it needs summary.json, config.yaml, metrics.csv)")
    return _frames(path.parent, [path], axes=[], planned=[])


def load_study(path: str | Path) -> Frames:
    """Every trial of a study folder (results/<name>) as Frames."""
    from .rows import read_plan
    from .store import trial_dirs

    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such study folder")
    axes, planned = read_plan(path)
    return _frames(path, trial_dirs(path), axes, planned)


def _frames(study: Path, folders: list[Path], axes: list[str], planned: list[dict]) -> Frames:
    import pandas as pd

    from ..report.groups import group_rows
    from ..report.html import study_table
    from .rows import study_rows, trial_row
    from .store import FINISHED_STATUSES, folder_status

    if planned or axes:
        rows = [r for r in study_rows(study, axes, planned) if r["status"] in FINISHED_STATUSES]
    else:
        rows = []
        for folder in folders:
            status, summary = folder_status(folder)
            rows.append(trial_row(folder.name, {}, status, summary))
    trials = study_table(rows, axes)
    epochs, steps = [], []
    for row in rows:
        if row["status"] == "corrupt":
            continue
        tags = {"trial": row["trial"], **{a: row.get(a) for a in axes}}
        for name, into in (("metrics.csv", epochs), ("steps.csv", steps)):
            file = study / row["trial"] / name
            if file.is_file() and file.stat().st_size:
                frame = pd.read_csv(file)
                for key, value in reversed(tags.items()):
                    frame.insert(0, key, [value] * len(frame))
                into.append(frame)
    groups = pd.DataFrame.from_records(group_rows(trials, axes)) if len(trials) else pd.DataFrame()
    return Frames(trials=trials,
                  epochs=pd.concat(epochs, ignore_index=True) if epochs else pd.DataFrame(),
                  steps=pd.concat(steps, ignore_index=True) if steps else pd.DataFrame(),
                  groups=groups)
