"""Re-train a finished trial from its config.yaml and compare fingerprints; writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import load_config
from .errors import ConfigError
from .runner import prepare, run_trial
from .store import finish_summary, read_summary
from .tabular import TIMING_COLUMNS, to_csv


@dataclass
class Reproduction:
    identical: bool
    stored: str                   # the fingerprint in summary.json
    fresh: str                    # the fingerprint of the new run
    first_diff_epoch: int | None  # first metrics.csv row (epoch) that differs, None if the metrics match


def stored_summary(trial: Path) -> dict:
    """The trial's summary, or ConfigError when the folder is not a reproducible trial."""
    summary = read_summary(trial)
    if summary is None or not (trial / "config.yaml").is_file():
        raise ConfigError(f"{trial}: not a trial folder (needs config.yaml and summary.json)")
    if "fingerprint" not in summary:
        raise ConfigError(f"{trial}: the trial has no fingerprint (status {summary.get('status')}); nothing to compare")
    return summary


def reproduce(trial: Path) -> Reproduction:
    summary = stored_summary(trial)
    exp = load_config(trial / "config.yaml")
    records = run_trial(exp, prepare(exp))
    finish_summary(records)
    fresh = records.summary.get("fingerprint", "?")
    if fresh == summary["fingerprint"]:
        return Reproduction(True, summary["fingerprint"], fresh, None)
    stored_rows = (trial / "metrics.csv").read_text().splitlines()
    fresh_rows = to_csv(records.metrics).splitlines()
    header = stored_rows[0].split(",")
    keep = [i for i, c in enumerate(header) if c not in TIMING_COLUMNS]
    first = next((i for i, (a, b) in enumerate(zip(stored_rows, fresh_rows, strict=False))
                  if [a.split(",")[k] for k in keep] != [b.split(",")[k] for k in keep]), None)
    return Reproduction(False, summary["fingerprint"], fresh, first - 1 if first else None)
