"""Rows of plain dicts to CSV text, one way for every CSV nnlab writes (metrics.csv,
steps.csv, summary.csv): deterministic cells, so the same numbers give the same bytes."""

from __future__ import annotations

import json
import math
import sys

# The only columns allowed to differ between two runs of a config: cumulative seconds in
# optimizer steps, in evaluation rows (loss passes and unit statistics), and in all.
TIMING_COLUMNS = ("train_time_s", "eval_time_s", "time_s")


def format_value(value) -> str:
    """Deterministic text for a value: shortest round-trip float repr, '' for None.
    NumPy scalars are written as the Python value they hold (numpy is not imported here:
    a value can only be a NumPy scalar once numpy is loaded)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        return format_value(value.item())
    return str(value)


def plain_cell(value) -> str:
    """A table cell: lists and mappings as compact JSON, anything else as ``format_value``."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return format_value(value)


def csv_cell(value) -> str:
    """``plain_cell``, quoted when it holds , " or a newline."""
    text = plain_cell(value)
    if any(ch in text for ch in ',"\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def to_csv(rows: list[dict], exclude: tuple = ()) -> str:
    """Rows to CSV text with the union of keys as columns, in first-seen order; timing last."""
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns and k not in exclude)
    columns = [c for c in columns if c not in TIMING_COLUMNS] + [c for c in columns if c in TIMING_COLUMNS]
    lines = [",".join(columns)]
    lines.extend(",".join(csv_cell(row.get(c)) for c in columns) for row in rows)
    return "\n".join(lines) + "\n"
