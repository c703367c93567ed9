"""What a trial produced, as plain data: the runner fills it, the store writes it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TrialRecords:
    """Everything a trial produced; it crosses process and network boundaries (pickled)."""

    config: dict
    metrics: list[dict] = field(default_factory=list)   # one row per epoch, epoch 0 first
    steps: list[dict] = field(default_factory=list)     # one row per optimizer step
    summary: dict = field(default_factory=dict)
    weights: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # init / final / best
    after_first_step: dict = field(default_factory=dict)  # probe statistics after optimizer step 1


def failed_records(config: dict, error: BaseException, traceback_text: str | None = None) -> TrialRecords:
    """Records of a trial that raised, or whose worker died: status ``failed`` with the error."""
    records = TrialRecords(config=config)
    records.summary = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
    if traceback_text:  # raised inside run_trial, which adds config_hash, environment, events
        records.summary["traceback"] = traceback_text
    else:
        records.summary["events"] = []
    return records
