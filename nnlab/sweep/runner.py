"""Running a planned study: skip what is done, claim what is not, write as trials finish.

:func:`run_study` is the one path of ``nnlab run`` (a one-trial plan), ``nnlab sweep`` and
``nnlab fix``. Safety properties:

* the plan is recorded in the study's index (``results/index.py``) before anything runs, and
  a study keeps every plan it was run with, even with several processes at once;
* before training a trial, this process takes its claim in the index, so no trial runs
  twice, even with two processes on one study, and a claim is believed only while its owner
  provably runs;
* a trial folder appears whole or not at all (``results/store.py``);
* ``study.yaml`` and ``summary.csv`` are rewritten from the index and the folders under the
  study's lock after every finished trial, so a kill at any moment loses only the trials in
  flight; writers replace them in the order of their commits (a writer killed between
  writing study.yaml and its commit leaves a plan there that the next writer drops, as the
  index never recorded it);
* a command that fails before any trial ran (``nnlab run --strict``, missing data) takes
  its plan back, and a study folder it created goes with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..config import dump_yaml
from ..config.identity import differing_keys, group_hash
from ..errors import NnlabError
from ..results.claims import STALE_SECONDS
from ..results.index import StudyIndex
from ..results.rows import study_table, write_summary_csv
from ..results.status import COMPLETE_STATUSES, FINISHED_STATUSES, RERUN_ON_RETRY, Status
from ..results.store import find_trial, recover, remove_created, trial_status, write_text_atomic, write_trial
from ..train.checkpoint import CheckpointStore
from .executors import Executor
from .plan import Plan, Trial


@dataclass
class StudyOutcome:
    ran: list[str] = field(default_factory=list)        # trials trained by this process
    skipped: list[str] = field(default_factory=list)    # already complete (or failed, without --retry)
    elsewhere: dict[str, str] = field(default_factory=dict)  # claimed by another live process: id -> who
    statuses: dict[str, str] = field(default_factory=dict)
    folders: dict[str, Path] = field(default_factory=dict)
    summaries: dict[str, dict] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [t for t, s in self.statuses.items() if s == Status.FAILED]

    @property
    def corrupt(self) -> list[str]:
        return [t for t, s in self.statuses.items() if s == Status.CORRUPT]


def rerun_statuses(force: bool = False, retry: bool = False) -> tuple:
    """The statuses of trials a command runs again: every one with --force, failed and
    corrupt ones with --retry, none otherwise (pending and running trials always run)."""
    if force:
        return tuple(Status)
    return RERUN_ON_RETRY if retry else ()


def to_run(study_dir: Path, trials: list[Trial], rerun: tuple = ()) -> tuple[list[Trial], list[Trial]]:
    """(trials to run, trials to skip) given what is on disk."""
    run, skip = [], []
    for trial in trials:
        status, _, _ = trial_status(study_dir, trial.config_hash, owners={})
        (run if status == Status.PENDING or status in rerun else skip).append(trial)
    return run, skip


def record_plan(index: StudyIndex, plan: Plan) -> tuple:
    """Add the plan and its trials (each with its configuration's group) to the study's index
    and rewrite study.yaml from it, under the lock. Returns what was new (the plan's digest,
    the trials' hashes), for :func:`forget_plan`."""
    base = {k: v for k, v in plan.base.items() if k not in ("sweep", "name", "description")}
    record = {"axes": plan.axes, "trials": [t.id for t in plan.trials], "base": base}
    with index.locked():
        previous = index.meta("base")
        digest = index.add_plan(record)
        new = index.add_trials([(t.config_hash, t.id, t.values, group_hash(t.experiment.resolved()))
                                for t in plan.trials])
        index.set_meta("study", plan.study)
        index.set_meta("base", plan.base)
        write_text_atomic(index.folder / "study.yaml", dump_yaml(study_yaml(index)))
    return digest, new, previous


def forget_plan(index: StudyIndex, recorded: tuple) -> None:
    """Take back what :func:`record_plan` added (the command failed before any trial ran),
    and rewrite study.yaml and summary.csv."""
    digest, new, previous = recorded
    if digest is None and not new:
        return
    with index.locked():
        index.forget(digest, new)
        if previous is not None:
            index.set_meta("base", previous)
        write_text_atomic(index.folder / "study.yaml", dump_yaml(study_yaml(index)))
        write_summary_csv(index.folder, study_table(index.folder, owners=index.owners()).rows)


def study_yaml(index: StudyIndex) -> dict:
    """study.yaml's content: every plan the study was run with (oldest first), every trial
    they planned with its swept values, the axes of all of them (with keys that the plans'
    base configs set differently, e.g. train.epochs=2 in one and 3 in another), and the
    latest plan's base config."""
    plans = index.plans()
    differing = differing_keys([p.get("base") or {} for p in plans])
    axes = list(dict.fromkeys([a for p in plans for a in p["axes"] if a != "seed"] + differing
                              + (["seed"] if any("seed" in p["axes"] for p in plans) else [])))
    return {"study": index.meta("study"), "nnlab": __version__, "axes": axes, "trials": index.trials(),
            "plans": plans, "base": index.meta("base")}


def write_summary(index: StudyIndex) -> None:
    """summary.csv from the index and the folders, under the study's lock."""
    with index.locked():
        write_summary_csv(index.folder, study_table(index.folder, owners=index.owners()).rows)


def run_study(plan: Plan, study_dir: Path, executor: Executor, rerun: tuple = (),
              on_done: Callable | None = None) -> StudyOutcome:
    """Run every trial of ``plan`` that is not done (``rerun``: statuses to run again) through
    ``executor``; ``on_done(trial, status, summary, folder)`` reports each finished one.

    On KeyboardInterrupt (or an error raised before a trial could be recorded, such as a
    missing dataset in ``nnlab run``) the executor is terminated, claims are released,
    summary.csv is brought up to date and the exception propagates; a folder this call
    created is removed again when no trial was written into it."""
    study_dir = Path(study_dir)
    created = _first_missing(study_dir)
    index = StudyIndex(study_dir)
    outcome = StudyOutcome()
    inflight: dict[str, Trial] = {}
    recorded: tuple = (None, [], None)
    try:
        index.open()
        recover(study_dir)
        recorded = record_plan(index, plan)
        write_summary(index)   # where every trial stands before any runs (some may be corrupt, or done)
        todo, skip = to_run(study_dir, plan.trials, rerun)
        if todo:
            executor.check(todo)
        for trial in skip:
            _note(outcome, trial, study_dir, skipped=True)
            CheckpointStore.of(study_dir, trial.config_hash).remove()   # left by a run killed after its write
        pending = list(todo)
        while pending or inflight:
            while pending and len(inflight) < executor.capacity:
                trial = pending.pop(0)
                inflight[trial.id] = trial  # before the claim: an interrupt in between still releases it
                owner = index.claim(trial.config_hash)
                if owner is not None:
                    del inflight[trial.id]
                    outcome.elsewhere[trial.id] = owner.describe()
                    outcome.statuses[trial.id] = Status.RUNNING.value
                    continue
                # Check only once the claim is ours: another process may have finished the trial
                # since `todo` was computed, and it writes the folder before it releases.
                status, _, _ = trial_status(study_dir, trial.config_hash, owners={})
                if status != Status.PENDING and status not in rerun:
                    index.release(trial.config_hash)
                    del inflight[trial.id]
                    _note(outcome, trial, study_dir, skipped=True)   # finished meanwhile by another process
                    continue
                executor.submit(trial.id, trial.experiment.resolved(), checkpoint_folder(executor, study_dir, trial))
            if not inflight:
                break
            trial_id, records = executor.next_done()
            trial = inflight[trial_id]
            folder = write_trial(find_trial(study_dir, trial.config_hash) or study_dir / trial.id, records)
            CheckpointStore.of(study_dir, trial.config_hash).remove()   # the trial is whole: its snapshot goes
            index.release(trial.config_hash)
            del inflight[trial_id]  # only now: an interrupt before this still releases the claim
            outcome.ran.append(trial.id)
            _note(outcome, trial, study_dir)
            write_summary(index)
            if on_done:
                on_done(trial, outcome.statuses[trial.id], outcome.summaries[trial.id], folder)
        executor.close()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):   # trials that finished before the interrupt are kept
            with contextlib.suppress(Exception):
                for trial_id, records in executor.finished():
                    trial = inflight.pop(trial_id)
                    write_trial(find_trial(study_dir, trial.config_hash) or study_dir / trial.id, records)
                    CheckpointStore.of(study_dir, trial.config_hash).remove()
                    index.release(trial.config_hash)
                    outcome.ran.append(trial.id)
        executor.terminate()
        index.release(*(trial.config_hash for trial in inflight.values()))
        with contextlib.suppress(Exception):   # the first error is the one to report
            if not outcome.ran:   # nothing ran: nothing stays planned, a folder this command made goes
                forget_plan(index, recorded)
                if created is not None and index.empty():
                    index.close()
                    remove_created(created)
            if index.conn is not None:
                write_summary(index)
        raise
    finally:
        index.close()
    return outcome


@dataclass
class Single:
    """What ``nnlab run`` did with its trial: ``trained`` it, found it already ``done`` (a
    complete or diverged trial of this exact config), or saw another process finish it
    ``meanwhile``."""

    what: str
    status: str
    folder: Path
    summary: dict


def run_single(plan: Plan, study_dir: Path, executor: Executor, force: bool = False) -> Single:
    """``nnlab run``: the plan's one trial as a one-trial study. A finished trial of this
    config is shown instead of trained again (unless ``force``), a failed one is trained
    again; a corrupt one, or one another process is training now, is an error (exit 1)."""
    trial = plan.trials[0]
    status, folder, summary = trial_status(study_dir, trial.config_hash)
    if folder is not None and status in COMPLETE_STATUSES and not force:
        return Single("done", status, folder, summary or {})
    if status == Status.CORRUPT and not force:
        raise NnlabError(f"{folder} holds this config but is corrupt: {(summary or {}).get('error')}; "
                         "--force trains it again")
    if status == Status.RUNNING:
        raise NnlabError(busy(study_dir, (summary or {}).get("claimed_by")))
    outcome = run_study(plan, study_dir, executor, rerun=rerun_statuses(force) or (Status.FAILED,))
    if trial.id in outcome.elsewhere:
        raise NnlabError(busy(study_dir, outcome.elsewhere[trial.id]))
    what = "trained" if trial.id in outcome.ran else "meanwhile"
    return Single(what, outcome.statuses[trial.id], outcome.folders[trial.id], outcome.summaries[trial.id])


def busy(study_dir: Path, owner: str | None) -> str:
    """The one line for a trial another process is training now."""
    return (f"another nnlab process ({owner or 'unknown'}) is training this exact config in {study_dir} right now; "
            f"wait for it and run the command again to see its result (a claim is dropped as soon as its process "
            f"is gone; one from another host after {STALE_SECONDS // 60} minutes without a heartbeat)")


def finished_count(study_dir: Path, plan: Plan) -> int:
    """How many of the plan's trials have a folder (complete, diverged, failed or corrupt)."""
    return sum(1 for t in plan.trials if trial_status(study_dir, t.config_hash, owners={})[0] in FINISHED_STATUSES)


def checkpoint_folder(executor: Executor, study_dir: Path, trial: Trial) -> str | None:
    """Where the trial's snapshots live, when the executor's workers share this disk."""
    if not getattr(executor, "shares_disk", False):
        return None
    return str(CheckpointStore.of(study_dir, trial.config_hash).folder)


def _note(outcome: StudyOutcome, trial: Trial, study_dir: Path, skipped: bool = False) -> None:
    status, folder, summary = trial_status(study_dir, trial.config_hash, owners={})
    outcome.statuses[trial.id] = status
    outcome.summaries[trial.id] = summary or {}
    if folder is not None:
        outcome.folders[trial.id] = folder
    if skipped:
        outcome.skipped.append(trial.id)


def _first_missing(folder: Path) -> Path | None:
    """The outermost folder of ``folder``'s path that does not exist yet (None: it exists)."""
    missing = None
    for path in [Path(folder), *Path(folder).parents]:
        if path.exists():
            break
        missing = path
    return missing


