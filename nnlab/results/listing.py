"""``nnlab ls``: what a results folder holds, in the terminal.

``results/`` (or any folder of studies): one line per study with its trial count by
status (pending ones included: planned in study.yaml, no folder yet). A study folder: one
line per trial with its status, epochs, primary metric and events. A trial folder: its line.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError


def _counts(statuses: list[str]) -> str:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "empty"


def _study_rows(study: Path) -> list[dict]:
    from .rows import study_table

    return study_table(study).rows


def _metric(row: dict) -> str:
    from ..report.groups import PRIMARY

    for column, _ in PRIMARY:
        value = row.get(column)
        if isinstance(value, (int, float)):
            return f"{column.replace('final_', '')} {value:.4g}"
    return ""


def list_results(path: Path) -> list[str]:
    from .store import is_trial, trial_dirs

    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such folder")
    if is_trial(path):
        from .rows import trial_row
        from .store import folder_status

        status, summary = folder_status(path)
        return [_trial_line(trial_row(path.name, {}, status, summary))]
    if trial_dirs(path) or (path / "study.yaml").is_file():
        rows = _study_rows(path)
        width = max((len(r["trial"]) for r in rows), default=5)
        lines = [f"{path.name}: {len(rows)} trials ({_counts([r['status'] for r in rows])})"]
        from ..report.groups import natural_key

        return lines + [_trial_line(r, width) for r in sorted(rows, key=lambda r: natural_key(r["trial"]))]
    studies = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")
                     and (trial_dirs(p) or (p / "study.yaml").is_file()))
    if not studies:
        return [f"{path}: no studies (run `nnlab run CONFIG` or `nnlab sweep CONFIG` first)"]
    width = max(len(p.name) for p in studies)
    lines = []
    for study in studies:
        rows = _study_rows(study)
        lines.append(f"{study.name:<{width}}  {len(rows):>4} trials  {_counts([r['status'] for r in rows])}")
    return lines


def _trial_line(row: dict, width: int = 0) -> str:
    epochs = f"{row['epochs']} epochs" if row.get("epochs") is not None else ""
    events = row.get("events") or ""
    serious = "; ".join(e for e in events.split("; ") if e.startswith(("warn:", "error:")))
    extra = f"  error: {row['error']}" if row.get("error") else ""
    return f"{row['trial']:<{width}}  {row['status']:<9} {epochs:>10}  {_metric(row):<18} {serious}{extra}".rstrip()
