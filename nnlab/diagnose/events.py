"""What the doctor and the detectors report: events, their severities, and the order they
are listed in.

An event is a plain mapping, stored as is in summary.json (and shown by every command):

    {type, severity (info | warn | error), where (epoch/step range, layer, stage),
     evidence (the numbers), message (what happened, likely cause, what to try)}

Every event is made by :func:`event`; :class:`Severity` names the three levels.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypedDict


class Severity(str, Enum):
    """How serious an event is; the value is what summary.json stores."""

    ERROR = "error"
    WARN = "warn"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


SERIOUS = (Severity.WARN, Severity.ERROR)          # what `fix` treats as a symptom, `--strict` refuses
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARN: 1, Severity.INFO: 2}
BEFORE_TRAINING = {"stage": "before training"}     # the doctor's events' `where`


class Event(TypedDict):
    type: str
    severity: str
    where: dict[str, Any]
    evidence: dict[str, Any]
    message: str


def event(type_: str, severity: str, message: str, where: dict | None = None, **evidence) -> Event:
    """One event; ``evidence`` holds the numbers the message quotes."""
    return {"type": type_, "severity": Severity(severity).value, "where": dict(where or {}), "evidence": evidence,
            "message": message}


def severity_rank(e: dict) -> int:
    """0 for an error, 1 for a warning, 2 for information."""
    return SEVERITY_ORDER[Severity(e["severity"])]


def ordered(events: list) -> list:
    """Errors first, then warnings, then information (stable within a level)."""
    return sorted(events, key=severity_rank)


def serious(events: list) -> list:
    """The warnings and errors."""
    return [e for e in events if e["severity"] in SERIOUS]
