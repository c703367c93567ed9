"""Where a trial stands: the one list of statuses every command uses."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """A trial's status; the value is what summary.json and summary.csv hold."""

    COMPLETE = "complete"     # trained to its end (or stopped by its own rule)
    DIVERGED = "diverged"     # the loss or a gradient became NaN/Inf, or exploded: a result, not a failure
    FAILED = "failed"         # it raised; the error is recorded
    CORRUPT = "corrupt"       # its files are not as written (or not the trial its name claims)
    RUNNING = "running"       # claimed by a live process
    PENDING = "pending"       # planned, not run yet

    def __str__(self) -> str:
        return self.value


COMPLETE_STATUSES = (Status.COMPLETE, Status.DIVERGED)        # results: counted, shown, never re-run by default
RERUN_ON_RETRY = (Status.FAILED, Status.CORRUPT)              # kept as they are unless --retry or --force
FINISHED_STATUSES = COMPLETE_STATUSES + RERUN_ON_RETRY        # a folder exists; nothing runs
