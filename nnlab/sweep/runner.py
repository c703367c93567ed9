"""Running planned trials: skip what is done, claim what is not, write as trials finish.

``run_trials`` is the one trial path of both commands (``nnlab run`` is a one-trial plan);
``run_study`` adds the study's own files around it. Safety properties:

* a trial folder appears whole or not at all (``store.write_trial``);
* before training a trial, this process takes its claim (``claims.py``), so no trial runs
  twice, even with two processes on one study;
* ``summary.csv`` is rebuilt from the trial folders after every finished trial, so a kill
  at any moment loses only the trials in flight.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import __version__
from ..config import dump_yaml
from ..results.rows import read_plan, study_rows, write_summary_csv
from ..results.store import (
    COMPLETE_STATUSES,
    RERUN_ON_RETRY,
    clean_temporaries,
    find_trial,
    make_dir,
    trial_status,
    write_text_atomic,
    write_trial,
)
from .claims import claim, release
from .executors import Executor
from .naming import hash_of
from .plan import Plan, Trial


def plan_rows(study_dir: Path) -> list[dict]:
    """summary.csv's rows: every trial any plan of the study asked for (study.yaml)."""
    axes, planned = read_plan(study_dir)
    return study_rows(study_dir, axes, planned, unplanned=False)


def merged_plan(study_dir: Path, plan: Plan) -> dict:
    """study.yaml's content after this plan: a study keeps every plan it was run with.

    Running the same study again with other axes (fewer seeds, one configuration) adds
    a plan instead of replacing the record: the trials of earlier plans stay in study.yaml
    and in summary.csv, and ``plans`` lists each distinct plan, oldest first."""
    path = study_dir / "study.yaml"
    try:
        earlier = yaml.safe_load(path.read_text()) if path.is_file() else None
    except (OSError, yaml.YAMLError):
        earlier = None
    earlier = earlier if isinstance(earlier, dict) else {}
    trials = [t for t in earlier.get("trials") or [] if isinstance(t, dict) and "id" in t]
    known = {hash_of(t["id"]) for t in trials}
    trials += [{"id": t.id, **({"values": t.values} if t.values else {})}
               for t in plan.trials if t.config_hash not in known]
    base = {k: v for k, v in plan.base.items() if k not in ("sweep", "name", "description")}
    this_plan = {"axes": plan.axes, "trials": [t.id for t in plan.trials], "base": base}
    plans = [p for p in earlier.get("plans") or [] if isinstance(p, dict)]
    if not plans and earlier.get("trials"):  # written before plans were recorded: one plan
        old_base = {k: v for k, v in (earlier.get("base") or {}).items() if k not in ("sweep", "name", "description")}
        plans = [{"axes": earlier.get("axes") or [], "base": old_base,
                  "trials": [t["id"] for t in trials if hash_of(t["id"]) in known]}]
    if this_plan not in plans:
        plans.append(this_plan)
    # A key the plans' base configs set differently (train.epochs=2, then 3) tells their
    # trials apart as much as an axis does: it becomes a column of summary.csv too.
    differing = _differing_keys([p.get("base") or {} for p in plans])
    axes = list(dict.fromkeys([a for p in plans for a in p["axes"] if a != "seed"] + differing
                              + (["seed"] if any("seed" in p["axes"] for p in plans) else [])))
    return {"study": plan.study, "nnlab": __version__, "axes": axes, "trials": trials, "plans": plans,
            "base": plan.base}


def _differing_keys(bases: list[dict]) -> list[str]:
    """Dotted key paths whose values differ between the given configs (leaves only)."""
    def leaves(node, prefix=""):
        if isinstance(node, dict) and node:
            for key, value in node.items():
                yield from leaves(value, f"{prefix}{key}.")
        else:
            yield prefix[:-1], node

    flat = [dict(leaves(base)) for base in bases if base]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return [k for k in keys if len({repr(f.get(k)) for f in flat}) > 1]


def write_study_files(study_dir: Path, plan: Plan) -> None:
    """study.yaml (what was planned) and summary.csv (where each trial stands), atomically."""
    make_dir(study_dir)
    write_text_atomic(study_dir / "study.yaml", dump_yaml(merged_plan(study_dir, plan)))
    write_summary_csv(study_dir, plan_rows(study_dir))


@dataclass
class StudyOutcome:
    ran: list[str] = field(default_factory=list)        # trials trained by this process
    skipped: list[str] = field(default_factory=list)    # already complete (or failed, without --retry)
    elsewhere: list[str] = field(default_factory=list)  # claimed by another live process
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [t for t, s in self.statuses.items() if s == "failed"]


def to_run(study_dir: Path, trials: list[Trial], force: bool = False,
           retry: bool = False) -> tuple[list[Trial], list[Trial]]:
    """(trials to run, trials to skip) given what is on disk."""
    run, skip = [], []
    for trial in trials:
        status, _, _ = trial_status(study_dir, trial.config_hash)
        if force or status in ("pending", "running") or (retry and status in RERUN_ON_RETRY):
            run.append(trial)
        else:
            skip.append(trial)
    return run, skip


def run_trials(trials: list[Trial], study_dir: Path, executor: Executor, force: bool = False,
               retry: bool = False, on_done: Callable | None = None,
               after_each: Callable[[], None] | None = None) -> StudyOutcome:
    """Run every trial that is not done through ``executor``; ``on_done(trial, status,
    summary, folder)`` reports each finished one, ``after_each()`` runs after each write.

    On KeyboardInterrupt (or an error raised before a trial could be recorded, such as a
    missing dataset in ``nnlab run``) the executor is terminated, claims are released,
    ``after_each`` runs once more and the exception propagates; a folder this call created
    is removed again when no trial was written into it."""
    created = _first_missing(study_dir)
    make_dir(study_dir)
    clean_temporaries(study_dir)
    todo, skip = to_run(study_dir, trials, force, retry)
    outcome = StudyOutcome(skipped=[t.id for t in skip])
    for trial in skip:
        outcome.statuses[trial.id] = trial_status(study_dir, trial.config_hash)[0]
    pending = list(todo)
    inflight: dict[str, Trial] = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < executor.capacity:
                trial = pending.pop(0)
                inflight[trial.id] = trial  # before the claim: an interrupt in between still releases it
                if not claim(study_dir, trial.config_hash):
                    del inflight[trial.id]
                    outcome.elsewhere.append(trial.id)
                    outcome.statuses[trial.id] = "running"
                    continue
                # Check only once the claim is ours: another process may have finished the trial
                # since `todo` was computed, and it writes the folder before it releases.
                status, _, _ = trial_status(study_dir, trial.config_hash)
                if not force and status in COMPLETE_STATUSES + (() if retry else RERUN_ON_RETRY):
                    release(study_dir, trial.config_hash)
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
            release(study_dir, trial.config_hash)
            del inflight[trial_id]  # only now: an interrupt before this still releases the claim
            if after_each:
                after_each()
            status = records.summary["status"]
            outcome.ran.append(trial.id)
            outcome.statuses[trial.id] = status
            if on_done:
                on_done(trial, status, records.summary, folder)
        executor.close()
    except BaseException:
        executor.terminate()
        for trial in inflight.values():
            release(study_dir, trial.config_hash)
        if created is not None and not outcome.ran:
            shutil.rmtree(created, ignore_errors=True)
        elif after_each:
            after_each()
        raise
    return outcome


def _first_missing(folder: Path) -> Path | None:
    """The outermost folder of ``folder``'s path that does not exist yet (None: it exists)."""
    missing = None
    for path in [Path(folder), *Path(folder).parents]:
        if path.exists():
            break
        missing = path
    return missing


def run_study(plan: Plan, study_dir: Path, executor: Executor, force: bool = False, retry: bool = False,
              on_done: Callable | None = None) -> StudyOutcome:
    """``run_trials`` for a sweep: study.yaml first, summary.csv after every finished trial."""
    write_study_files(study_dir, plan)
    return run_trials(plan.trials, study_dir, executor, force, retry, on_done,
                      after_each=lambda: write_summary_csv(study_dir, plan_rows(study_dir)))
