"""``nnlab diagnose PATH``: run today's detectors again over stored trials, without training.

A trial folder keeps everything the detectors read: metrics.csv (losses, accuracies and the
per-layer unit statistics), steps.csv (step losses and gradient norms), summary.json (the
statistics after the first step, where training diverged) and final.npz (for the classes
the final model predicts). The data and the initial model come back from config.yaml (the
init is seeded), so the doctor's checks at initialisation run again too. Nothing is
retrained and the numbers are not touched; ``--write`` replaces the stored events (and
updates the trial's manifest, so it still verifies, and the study's summary.csv).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, NnlabError
from ..results import fsio
from ..results.index import StudyIndex
from ..results.naming import hash_of
from ..results.store import COMPLETE_STATUSES, read_summary, replace_summary, trial_dirs, verify_trial

INT_COLUMNS = ("epoch", "step")


@dataclass
class Rediagnosis:
    trial: Path
    before: list[dict]
    after: list[dict] = field(default_factory=list)
    learned: str | None = None
    skipped: str | None = None      # why the trial was not diagnosed again
    written: bool = False           # its summary.json was replaced (--write, and it had changed)

    def changed(self) -> bool:
        """The warnings, errors or information differ from the stored ones."""
        return self.skipped is None and _labels(self.before) != _labels(self.after)

    def stale(self, stored: dict) -> bool:
        """The stored summary would change: other events (messages and numbers included) or
        other evidence that training worked."""
        return self.skipped is None and (stored.get("events") != self.after or stored.get("learned") != self.learned)


def _labels(events: list[dict]) -> list[str]:
    return sorted(f"{e['severity']}:{e['type']}" for e in events)


def labels(events: list[dict]) -> str:
    """'error:dead_units; warn:spiky_run' (warnings and errors only; '-' when none)."""
    shown = [f"{e['severity']}:{e['type']}" for e in events if e["severity"] != "info"]
    return "; ".join(shown) or "-"


def trial_folders(path: Path) -> list[Path]:
    """The trial itself, or every trial of a study folder (never a link: a trial linked in
    from elsewhere is not this study's to rewrite)."""
    from ..results.store import is_trial

    path = Path(path)
    if path.is_symlink():
        raise ConfigError(f"{path}: a link; give the folder itself (nothing is written through a link)")
    if not path.is_dir():
        raise ConfigError(f"{path}: no such folder (give a trial folder or a study folder under results/)")
    if is_trial(path):
        return [path]
    found = trial_dirs(path)
    if not found:
        raise ConfigError(f"{path}: neither a trial folder nor a study folder with trials in it")
    return found


def read_rows(text: str) -> list[dict]:
    """A metrics.csv or steps.csv as the dict rows the trainer recorded (floats; '' is None)."""
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        row: dict = {}
        for key, value in raw.items():
            if value in ("", None):
                row[key] = None
            elif key in INT_COLUMNS:
                row[key] = int(float(value))
            else:
                row[key] = float(value)
        rows.append(row)
    return rows


def rediagnose(trial: Path) -> Rediagnosis:
    """Run the doctor (static and at init) and every detector again over one stored trial;
    a trial that cannot be (its config no longer validates, its data is missing) is skipped
    with the reason, and the others go on."""
    try:
        return _rediagnose(trial)
    except (NnlabError, OSError, ValueError, KeyError) as exc:
        return Rediagnosis(trial, (read_summary(trial) or {}).get("events") or [],
                           skipped=f"{type(exc).__name__}: {exc}".splitlines()[0])


def _rediagnose(trial: Path) -> Rediagnosis:
    from threadpoolctl import threadpool_limits

    from ..config import load_config
    from ..train.setup import prepare
    from .doctor import check
    from .trial import diagnose_trial

    summary = read_summary(trial) or {}
    before = summary.get("events") or []
    status = summary.get("status")
    if status not in COMPLETE_STATUSES:
        return Rediagnosis(trial, before, skipped=f"status {status or 'unknown'}: nothing to diagnose")
    problem = verify_trial(trial)
    if problem:
        return Rediagnosis(trial, before, skipped=f"corrupt: {problem}")
    with threadpool_limits(1), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        exp = load_config(trial / "config.yaml")
        setup = prepare(exp)
        doctor_events = check(setup)            # the initial weights: seeded, as when it trained
        metrics = read_rows(fsio.read_text(trial / "metrics.csv"))
        steps = read_rows(fsio.read_text(trial / "steps.csv"))
        if not summary.get("diverged"):
            with fsio.open_regular(trial / "final.npz") as handle, np.load(handle) as final:
                setup.model.load_state_dict({k: final[k] for k in final.files})
        found = diagnose_trial(setup, metrics, steps, summary.get("after_first_step") or {}, summary.get("diverged"),
                               summary.get("restored_best_epoch"), doctor_events)
    return Rediagnosis(trial, before, found.events, found.learned)


def rediagnose_all(folders: list[Path], write: bool = False, progress=lambda: None) -> list[Rediagnosis]:
    """``nnlab diagnose PATH``: every trial of a study (or the one trial: ``trial_folders``)
    diagnosed again; with ``write``, each summary.json whose diagnosis changed is replaced
    (whole, with its manifest: ``store.replace_summary``) and the study's summary.csv
    rewritten. ``progress()`` is called after each trial."""
    results = []
    for folder in folders:
        results.append(rediagnose(folder))
        progress()
    if write:
        study = folders[0].parent
        with StudyIndex(study) as index:
            for result in results:
                if not result.stale(read_summary(result.trial) or {}):
                    continue
                # a trial being trained again right now (--force) is not rewritten under it
                owner = index.claim(hash_of(result.trial.name))
                if owner is not None:
                    result.skipped = f"being trained right now by {owner.describe()}; not rewritten"
                    continue
                try:
                    store(result)
                    result.written = True
                finally:
                    index.release(hash_of(result.trial.name))
            if os.path.lexists(study / "study.yaml") or len(folders) > 1:
                from ..sweep.runner import write_summary

                write_summary(index)
    return results


def store(result: Rediagnosis) -> None:
    """Replace the trial's stored events (and the `learned` evidence) with the new ones."""
    summary = read_summary(result.trial) or {}
    summary["events"] = result.after
    if result.learned:
        summary["learned"] = result.learned
    else:
        summary.pop("learned", None)
    replace_summary(result.trial, summary)
