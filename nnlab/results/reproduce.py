"""Re-train a finished trial from its config.yaml and compare fingerprints; writes nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config import load_config
from ..errors import ConfigError, NnlabError
from ..train.trial import Observer, run_trial
from . import fsio
from .csvtext import to_csv
from .manifest import fingerprint_of_files, metrics_without_timing, trial_files
from .store import read_summary, verify_trial


@dataclass
class Reproduction:
    identical: bool
    stored: str                   # the fingerprint recomputed from the stored files
    fresh: str                    # the fingerprint of the new run
    first_diff_epoch: int | None  # first metrics.csv row (epoch) that differs, None if the metrics match
    environment_differs: list[str] = field(default_factory=list)  # 'BLAS kernel: X here, Y when recorded'


class CorruptTrial(NnlabError):
    """The stored files are not as written: there is nothing trustworthy to compare with (exit 1)."""


def stored_summary(trial: Path) -> dict:
    """The trial's summary, or an error when the folder is not a reproducible trial."""
    if not (trial / "config.yaml").is_file() and not (trial / "summary.json").is_file():
        raise ConfigError(f"{trial}: not a trial folder (needs config.yaml and summary.json)")
    problem = verify_trial(trial)
    if problem:
        raise CorruptTrial(f"{trial}: corrupt: {problem}; nothing trustworthy to compare with")
    summary = read_summary(trial) or {}
    if "fingerprint" not in summary:
        raise ConfigError(f"{trial}: the trial has no fingerprint (status {summary.get('status')}); nothing to compare")
    return summary


def reproduce(trial: Path) -> Reproduction:
    """Train again and compare with the fingerprint recomputed from the stored files (the
    one summary.json states is only a label: the files are the evidence)."""
    recorded = stored_summary(trial).get("environment") or {}
    try:
        stored = fingerprint_of_files(trial)
    except (OSError, ValueError, KeyError) as exc:
        raise CorruptTrial(f"{trial}: corrupt: cannot read its metrics, steps or final weights ({exc})") from None
    exp = load_config(trial / "config.yaml")
    # with an observer, a config or data error while preparing is raised (one line, exit 2), not
    # recorded as a failed run; the bytes do not depend on the threads
    records = run_trial(exp, threads=os.cpu_count() or 1, observer=Observer())
    if records.summary.get("status") == "failed":
        raise NnlabError(f"{trial}: not reproduced: training failed this time ({records.summary.get('error')})")
    trial_files(records)
    fresh = records.summary.get("fingerprint", "?")
    if fresh == stored:
        return Reproduction(True, stored, fresh, None)
    from ..runtime.pinning import differences

    changed = differences(recorded, records.summary.get("environment") or {})
    stored_rows = metrics_without_timing(fsio.read_text(trial / "metrics.csv")).splitlines()
    fresh_rows = metrics_without_timing(to_csv(records.metrics)).splitlines()
    first = next((i for i, (a, b) in enumerate(zip(stored_rows, fresh_rows, strict=False)) if a != b), None)
    if first is None and len(stored_rows) != len(fresh_rows):
        first = min(len(stored_rows), len(fresh_rows))  # one run has more epochs
    return Reproduction(False, stored, fresh, None if first is None else max(first - 1, 0), changed)
