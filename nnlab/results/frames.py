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

import io
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from . import fsio
from .rows import study_table, trial_row
from .status import FINISHED_STATUSES, Status
from .store import folder_status


@dataclass
class Frames:
    trials: object    # pandas.DataFrame
    epochs: object
    steps: object
    groups: object    # one row per configuration over seeds (groups.csv), for a study


def load_trial(path: str | Path) -> Frames:
    """One trial folder as Frames (``trials`` has its one row)."""
    from .store import is_trial

    path = Path(path)
    if not path.is_dir() or not is_trial(path):
        raise ConfigError(f"{path}: not a trial folder (it needs summary.json, config.yaml, metrics.csv)")
    status, summary = folder_status(path)
    return _frames(path.parent, [trial_row(path.name, {}, status, summary)], [])


def load_study(path: str | Path) -> Frames:
    """Every finished trial of a study folder (results/<name>) as Frames; trials are seeds
    of one configuration only when their configs are equal except for the seed (the
    ``group`` column, config/identity.py)."""
    from .store import is_trial

    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such study folder")
    if is_trial(path):
        raise ConfigError(f"{path}: a trial folder, not a study; nnlab.load_trial reads one trial")
    study = study_table(path)
    return _frames(path, [r for r in study.rows if r["status"] in FINISHED_STATUSES], study.axes)


def _frames(study: Path, rows: list[dict], axes: list[str]) -> Frames:
    import pandas as pd

    from ..report.groups import group_rows
    from ..report.html import rows_frame

    trials = rows_frame(rows, axes)
    epochs, steps = [], []
    for row in rows:
        if row["status"] == Status.CORRUPT:
            continue
        tags = {"trial": row["trial"], **{a: row.get(a) for a in axes}}
        for name, into in (("metrics.csv", epochs), ("steps.csv", steps)):
            frame = read_frame(study / row["trial"] / name)
            if frame is not None:
                for key, value in reversed(tags.items()):
                    frame.insert(0, key, [value] * len(frame))
                into.append(frame)
    groups = pd.DataFrame.from_records(group_rows(trials, axes)) if len(trials) else pd.DataFrame()
    return Frames(trials=trials,
                  epochs=pd.concat(epochs, ignore_index=True) if epochs else pd.DataFrame(),
                  steps=pd.concat(steps, ignore_index=True) if steps else pd.DataFrame(),
                  groups=groups)


def read_frame(path: Path, **options):
    """A trial's CSV as a DataFrame, or None when it has no rows (a failed trial's empty
    metrics.csv) or is not a regular file that can be read (a link to /dev/zero, a FIFO)."""
    import pandas as pd

    try:
        text = fsio.read_text(path)
    except (OSError, UnicodeDecodeError):
        return None
    if not text.strip():
        return None
    try:
        return pd.read_csv(io.StringIO(text), **options)
    except (ValueError, pd.errors.EmptyDataError):
        return None
