"""What the studies share: :class:`Study`, the entry each study module defines as its
``STUDY`` (the config ``configs/studies/<name>.yaml``, the original setup in one line,
where the study departs from it, the table's :class:`Column` s, the figure, the answer, the
checks and the overrides of the shortened run), and the helpers their answers and figures
use. :mod:`.catalogue` lists the sixteen entries."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .measure import StudyData


def J(value) -> str:
    """The key a label table uses for a list, mapping or null value."""
    return json.dumps(value, sort_keys=True)


@dataclass
class Column:
    header: str
    metric: str
    scale: float = 1.0
    digits: int = 1


@dataclass
class Study:
    number: int
    name: str
    question: str
    original: str
    here: str
    columns: list[Column]
    figure: Callable      # (StudyData, pyplot) -> Figure
    answer: Callable      # StudyData -> str (three sentences)
    checks: Callable      # StudyData -> list[(claim, holds)]
    short: list[str]      # overrides of the shortened run in tests/studies/test_studies.py
    labels: dict = field(default_factory=dict)    # {axis: {value: label}} (see StudyData)
    derived: dict = field(default_factory=dict)   # {column: fn(swept values) -> label}, replacing the axes


ACC = Column("test accuracy %", "final_test_acc", 100)


def pct(sd: StudyData, metric: str = "final_test_acc", **where) -> str:
    return sd.fmt(metric, 100, **where) + "%"


def share(hits: tuple[int, int]) -> str:
    return f"{hits[0]}/{hits[1]}"


def span(values, digits: int = 1, scale: float = 1.0) -> str:
    v = [x * scale for x in values if x is not None and np.isfinite(x)]
    if not v:
        return "–"
    lo, hi = min(v), max(v)
    return f"{lo:.{digits}f}" if round(lo, digits) == round(hi, digits) else f"{lo:.{digits}f}–{hi:.{digits}f}"


def two_panels(plt, width: float = 11.5, height: float = 4.0):
    fig, axes = plt.subplots(1, 2, figsize=(width, height))
    return fig, axes


def _stopping(values: dict, form: str) -> str:
    rule = values.get("train.early_stopping")
    return "none" if not rule else form.format(**{"monitor": "val_loss", "patience": 5, **rule})
