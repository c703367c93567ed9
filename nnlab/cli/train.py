"""``nnlab run`` and ``nnlab sweep``: train one trial, or every trial of a study."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from .app import (
    ExecutorOption,
    Interrupted,
    QuietOption,
    ResultsOption,
    SchedulerOption,
    WorkersOption,
    app,
    handles_errors,
    interrupt_on_sigterm,
    refuse_if_strict,
)
from .console import say


@app.command()
@handles_errors
def run(
    config: Path = typer.Argument(..., help="Experiment YAML file."),
    overrides: Optional[list[str]] = typer.Argument(None, help="key.path=value overrides, e.g. optimizer.lr=0.01"),
    results_dir: Path = ResultsOption,
    force: bool = typer.Option(False, "--force", help="Re-run even if this exact config already completed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or per-epoch lines."),
    strict: bool = typer.Option(False, "--strict", help="Refuse to train (exit 2) if the doctor finds a warning or error."),
):
    """Train one trial, show progress, write results/<name>/<trial>/ and print a summary
    with any diagnosis (the doctor's checks come first, before training).

    Example: nnlab run configs/mnist.yaml optimizer.lr=0.01 train.epochs=5
    """
    from ..sweep.executors import SerialExecutor
    from ..sweep.plan import load_plan
    from ..sweep.preflight import preflight
    from ..sweep.runner import run_single
    from .console import print_summary
    from .progress import RunConsole

    plan = load_plan(config, overrides or [], single=True)
    study_dir = results_dir / plan.study
    preflight(plan.trials, study_dir)
    with RunConsole(quiet, strict) as observer:   # one trial: every core, with the bytes of one
        result = run_single(plan, study_dir, SerialExecutor(os.cpu_count() or 1, observer), force)
    if result.what == "done":
        say(f"{result.folder} already holds this exact config ({result.status}); showing it (use --force to train again)")
    elif result.what == "meanwhile":
        say(f"{result.folder} was finished by another nnlab process meanwhile ({result.status}); showing it")
    print_summary(result.summary, result.folder)
    if result.status == "failed":
        raise typer.Exit(1)


@app.command()
@handles_errors
def sweep(
    config: Path = typer.Argument(..., help="Experiment YAML file, usually with a sweep: section."),
    overrides: Optional[list[str]] = typer.Argument(
        None, help="key=value overrides; key=a,b,c or key=range(0,5) adds a sweep axis (seed=0,1,2 adds replicates)"),
    workers: Optional[int] = WorkersOption,
    executor: str = ExecutorOption,
    scheduler: Optional[str] = SchedulerOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the trials and their status; run nothing."),
    force: bool = typer.Option(False, "--force", help="Re-run every trial, even complete ones."),
    retry: bool = typer.Option(False, "--retry", help="Re-run failed trials too."),
    results_dir: Path = ResultsOption,
    quiet: bool = QuietOption,
    strict: bool = typer.Option(False, "--strict", help="Refuse to run (exit 2) if the doctor flags any trial."),
):
    """Expand a grid of trials and run every one not already complete, in parallel.

    Resumes after a crash or Ctrl-C (finished trials are kept), never runs a trial twice
    (even with two sweeps on one study), and writes results/<name>/summary.csv.

    Example: nnlab sweep configs/bn_placement.yaml --workers 2
    Example: nnlab sweep configs/xor.yaml model.activation=relu,tanh 'seed=range(0,3)' --dry-run
    """
    from ..diagnose.doctor import study_checks
    from ..sweep.executors import executor_workers, make_executor
    from ..sweep.plan import load_plan
    from ..sweep.preflight import preflight
    from .console import plan_statuses, print_plan, print_study_findings, print_sweep_outcome

    plan = load_plan(config, overrides or [])
    study_dir = results_dir / plan.study
    preflight(plan.trials, study_dir, concurrent=executor_workers(executor, workers, scheduler))
    if dry_run:  # after the checks: a dry run says whether the real command would start
        print_plan(plan.trials, plan.axes, plan_statuses(study_dir, plan))
        return
    found = study_checks(plan)
    print_study_findings(found, len(plan.trials))
    refuse_if_strict([finding for finding, _ in found], strict, "nothing was run")
    outcome = run_with_progress(plan, study_dir, make_executor(executor, workers, scheduler), quiet,
                                force=force, retry=retry, command="sweep")
    if print_sweep_outcome(outcome, study_dir):
        raise typer.Exit(1)


def run_with_progress(plan, study_dir: Path, executor, quiet: bool, force: bool = False, retry: bool = False,
                      command: str = "sweep", what: str = ""):
    """Run a planned study with the study bar and the line before it; Ctrl-C or SIGTERM
    keeps what finished and says how to resume."""
    from ..sweep.runner import finished_count, rerun_statuses, run_study, to_run
    from .progress import StudyProgress

    rerun = rerun_statuses(force, retry)
    todo, skip = to_run(study_dir, plan.trials, rerun)
    say(f"nnlab {command} {plan.study}: {what + ': ' if what else ''}{len(plan.trials)} trials "
        f"({len(skip)} done, {len(todo)} to run) {executor.where} -> {study_dir}")
    interrupt_on_sigterm()
    with StudyProgress(len(todo), enabled=not quiet) as bar:
        try:
            return run_study(plan, study_dir, executor, rerun, on_done=bar.on_done)
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted: {finished_count(study_dir, plan)} of {len(plan.trials)} trials are "
                              "finished and kept; the ones in flight were discarded. Run the same command to "
                              "resume.") from None
