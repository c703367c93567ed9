"""Diagnosis: what went wrong in a trial, why, and what to try.

- ``events.py``: the event every finding is, its severities and their order.
- ``context.py``: what the detectors know about a trial besides its curves.
- ``curves.py``, ``units.py``, ``coverage.py``: the detectors (loss curves; unit and
  gradient statistics; the classes the final model predicts), thresholds in ``thresholds.py``
  with their reasons.
- ``outcome.py``: every detector over one trial, the plateau's likely cause, and findings
  settled as information when training worked anyway.
- ``trial.py``: :func:`~.trial.diagnose_trial`, the one function that diagnoses a trial,
  right after training and again later (``nnlab diagnose``, ``rediagnose.py``).
- ``doctor.py``: checks before training; ``repairs.py`` and ``fix.py``: ``nnlab fix``.

To add a detector: write ``detector(metrics, ...) -> list[event]`` in ``curves.py`` (loss
curves) or ``units.py`` (unit and gradient statistics), add it to
:func:`~.outcome.diagnose`, and a row to the synthetic table in ``tests/diagnose/test_diagnose.py``.
"""

from .context import Context
from .events import Event, Severity, event
from .outcome import diagnose, learned_well, settle

__all__ = ["Context", "Event", "Severity", "diagnose", "event", "learned_well", "settle"]
