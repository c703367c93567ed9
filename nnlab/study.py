"""Running a planned study: skip what is done, claim what is not, write as trials finish.

Safety properties:

* a trial folder appears whole or not at all (``store.write_trial``);
* before training a trial, this process takes a claim file (created atomically); a second
  ``nnlab sweep`` on the same study skips claimed trials, so no trial runs twice;
* a claim whose process is gone (SIGKILL, crash) is stale and is taken over, atomically;
* ``summary.csv`` is rebuilt from the trial folders after every finished trial, so a kill
  at any moment loses only the trials in flight.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

from . import __version__
from .config import dump_yaml
from .store import (COMPLETE_STATUSES, clean_temporaries, find_trial, format_value, read_summary,
                    write_trial)
from .sweep import Plan, Trial

CLAIMS = ".claims"


# ---------------------------------------------------------------- claims

def _claim_path(study_dir: Path, trial: Trial) -> Path:
    return study_dir / CLAIMS / f"{trial.config_hash}.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_owner(study_dir: Path, trial: Trial) -> dict | None:
    """The live owner of a trial's claim, or None (no claim, or a stale one)."""
    path = _claim_path(study_dir, trial)
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if owner.get("host") == socket.gethostname() and not _alive(int(owner.get("pid", 0))):
        return None
    return owner


@contextlib.contextmanager
def _claims_lock(folder: Path):
    """Serialise claim-taking on this host. Judging a claim stale and replacing it are two
    steps; without the lock two resuming sweeps could both judge the same dead claim
    stale, and the second would move aside the fresh claim the first had just made."""
    if fcntl is None:  # not POSIX: claims still exclude each other, only stale takeover races
        yield
        return
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def claim(study_dir: Path, trial: Trial) -> bool:
    """Take the trial's claim; False if a live process holds it."""
    path = _claim_path(study_dir, trial)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _claims_lock(path.parent):
        return _claim_locked(study_dir, trial, path)


def _claim_locked(study_dir: Path, trial: Trial, path: Path) -> bool:
    payload = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
    for _ in range(2):
        # The claim appears with its content or not at all: write a private file, then
        # link it to the claim's name, which fails if the name exists (atomic, like O_EXCL).
        tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(payload)
        try:
            os.link(tmp, path)
        except FileExistsError:
            if claim_owner(study_dir, trial) is not None:
                return False
            # stale: move it aside under a unique name; only one contender's rename succeeds
            try:
                os.replace(path, path.with_name(f".stale-{uuid.uuid4().hex}"))
            except FileNotFoundError:
                pass
            for stale in path.parent.glob(".stale-*"):
                stale.unlink(missing_ok=True)
            continue
        finally:
            tmp.unlink(missing_ok=True)
        return True
    return False


def release(study_dir: Path, trial: Trial) -> None:
    path = _claim_path(study_dir, trial)
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


# ---------------------------------------------------------------- status

def trial_status(study_dir: Path, trial: Trial) -> tuple[str, Path | None, dict | None]:
    """('complete' | 'diverged' | 'failed' | 'running' | 'pending', folder, summary)."""
    folder = find_trial(study_dir, trial.config_hash)
    summary = read_summary(folder) if folder else None
    if summary:
        return summary.get("status", "failed"), folder, summary
    if claim_owner(study_dir, trial) is not None:
        return "running", None, None
    return "pending", None, None


def summary_rows(study_dir: Path, plan: Plan) -> list[dict]:
    rows = []
    for trial in plan.trials:
        status, folder, summary = trial_status(study_dir, trial)
        row = {"trial": folder.name if folder else trial.id, **trial.values, "status": status}
        summary = summary or {}
        best, final = summary.get("best") or {}, summary.get("final") or {}
        row["epochs"] = summary.get("epochs_run")
        row["best_epoch"] = best.get("epoch")
        monitor = best.get("monitor")
        row["best_monitor"] = monitor
        row["best_value"] = best.get(monitor) if monitor else None
        for key in ("train_loss", "train_acc", "train_mae", "val_loss", "val_acc", "val_mae",
                    "test_loss", "test_acc", "test_mae"):
            if key in best:
                row[f"best_{key}"] = best[key]
        for key, value in final.items():
            if key not in ("epoch", "step", "lr", "grad_norm") and "/" not in key:
                row[f"final_{key}"] = value
        diverged = summary.get("diverged")
        row["diverged_at"] = f"epoch {diverged['epoch']} step {diverged['step']}" if diverged else None
        events = summary.get("events") or []
        row["events"] = "; ".join(f"{e['severity']}:{e['type']}" for e in events) or None
        row["error"] = summary.get("error")
        row["time_s"] = summary.get("time_s")
        rows.append(row)
    return rows


def write_study_files(study_dir: Path, plan: Plan) -> None:
    """study.yaml (what was planned) and summary.csv (where each trial stands), atomically."""
    study_dir.mkdir(parents=True, exist_ok=True)
    planned = {"study": plan.study, "nnlab": __version__, "axes": plan.axes,
               "trials": [{"id": t.id, **({"values": t.values} if t.values else {})} for t in plan.trials],
               "base": plan.base}
    _atomic_write(study_dir / "study.yaml", dump_yaml(planned))
    write_summary_csv(study_dir, plan)


def write_summary_csv(study_dir: Path, plan: Plan) -> None:
    rows = summary_rows(study_dir, plan)
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join(_csv_cell(row.get(c)) for c in columns))
    _atomic_write(study_dir / "summary.csv", "\n".join(lines) + "\n")


def _csv_cell(value) -> str:
    if isinstance(value, (list, dict)):
        value = json.dumps(value, separators=(",", ":"))
    text = format_value(value)
    if any(ch in text for ch in ',"\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------- running

@dataclass
class StudyOutcome:
    ran: list[str] = field(default_factory=list)        # trials trained by this process
    skipped: list[str] = field(default_factory=list)    # already complete (or failed, without --retry)
    elsewhere: list[str] = field(default_factory=list)  # claimed by another live process
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [t for t, s in self.statuses.items() if s == "failed"]


def to_run(study_dir: Path, plan: Plan, force: bool = False, retry: bool = False) -> tuple[list[Trial], list[Trial]]:
    """(trials to run, trials to skip) given what is on disk."""
    run, skip = [], []
    for trial in plan.trials:
        status, _, _ = trial_status(study_dir, trial)
        if force or status in ("pending", "running") or (retry and status == "failed"):
            run.append(trial)
        else:
            skip.append(trial)
    return run, skip


def run_study(plan: Plan, study_dir: Path, executor, force: bool = False, retry: bool = False,
              on_start=None, on_done=None) -> StudyOutcome:
    """Run every trial of ``plan`` that is not done, through ``executor``.

    ``on_start(n_to_run)`` and ``on_done(trial, status, summary, folder)`` report progress.
    On KeyboardInterrupt the executor is terminated, claims are released, summary.csv is
    brought up to date and the interrupt propagates."""
    study_dir.mkdir(parents=True, exist_ok=True)
    clean_temporaries(study_dir)
    write_study_files(study_dir, plan)
    todo, skip = to_run(study_dir, plan, force, retry)
    outcome = StudyOutcome(skipped=[t.id for t in skip])
    for trial in skip:
        outcome.statuses[trial.id] = trial_status(study_dir, trial)[0]
    if on_start:
        on_start(len(todo))
    pending = list(todo)
    inflight: dict[str, Trial] = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < executor.capacity:
                trial = pending.pop(0)
                inflight[trial.id] = trial  # before the claim: an interrupt in between still releases it
                if not claim(study_dir, trial):
                    del inflight[trial.id]
                    outcome.elsewhere.append(trial.id)
                    outcome.statuses[trial.id] = "running"
                    continue
                # Check only once the claim is ours: another sweep may have finished the trial
                # since `todo` was computed, and it writes the folder before it releases.
                status, _, _ = trial_status(study_dir, trial)
                if not force and status in COMPLETE_STATUSES + (() if retry else ("failed",)):
                    release(study_dir, trial)
                    del inflight[trial.id]
                    outcome.skipped.append(trial.id)   # finished meanwhile by another process
                    outcome.statuses[trial.id] = status
                    continue
                executor.submit(trial.id, trial.experiment.resolved())
            if not inflight:
                break
            trial_id, records = executor.next_done()
            trial = inflight[trial_id]
            target = find_trial(study_dir, trial.config_hash) or study_dir / trial.id
            folder = write_trial(target, records)
            release(study_dir, trial)
            del inflight[trial_id]  # only now: an interrupt before this still releases the claim
            write_summary_csv(study_dir, plan)
            status = records.summary["status"]
            outcome.ran.append(trial.id)
            outcome.statuses[trial.id] = status
            if on_done:
                on_done(trial, status, records.summary, folder)
        executor.close()
    except BaseException:
        executor.terminate()
        for trial in inflight.values():
            release(study_dir, trial)
        write_summary_csv(study_dir, plan)
        raise
    return outcome
