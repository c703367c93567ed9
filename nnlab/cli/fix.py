"""``nnlab fix``: run the repairs for what the diagnosis found and keep only verified ones."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import ExecutorOption, QuietOption, ResultsOption, SchedulerOption, WorkersOption, app, handles_errors
from .console import say, warn


@app.command()
@handles_errors
def fix(
    target: Path = typer.Argument(..., help="Experiment YAML file, or a trial folder (its config.yaml is used)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value overrides of the baseline"),
    seeds: int = typer.Option(3, "--seeds", min=2, max=100, help="Seeds every candidate runs on, paired with the baseline's (at least 2: an interval needs them)."),
    budget: int = typer.Option(6, "--budget", min=1, max=50, help="At most this many candidate fixes."),
    workers: Optional[int] = WorkersOption,
    executor: str = ExecutorOption,
    scheduler: Optional[str] = SchedulerOption,
    results_dir: Path = ResultsOption,
    quiet: bool = QuietOption,
):
    """Find what the diagnosis flags, try the repairs for it and keep only verified ones.

    Runs the baseline on --seeds seeds; each warning or error becomes a symptom, and the
    repair table proposes up to --budget fixes. Baseline and fixes run as one study,
    results/<name>-fix-<baseline hash> (resumable: finished trials are kept). A fix is verified when its
    symptoms are gone on every seed, the monitored metric is never worse than the baseline
    by more than 1 point on any seed, and its gain paired by seed has a 95% interval above
    zero. Prints the ranked table and the best fix as a config diff, writes fixed.yaml,
    fix.csv and a report (baseline and fix curves overlaid). Exit 0 with a verified fix or
    nothing to fix, 1 otherwise.

    Example: nnlab fix configs/spirals.yaml model.init=zeros --seeds 3 --budget 6
    """
    from ..diagnose.fix import fix_request, run_fix
    from ..sweep.executors import executor_workers, make_executor
    from ..sweep.preflight import check_memory, check_writable
    from .console import print_fix_report
    from .train import run_with_progress

    request = fix_request(target, overrides or [], seeds, budget)
    local = executor_workers(executor, workers, scheduler)
    check_writable(results_dir / request.study)
    if local:
        check_memory(request.base, concurrent=min(local, seeds))

    def run_plan(plan, what: str) -> None:
        run_with_progress(plan, results_dir / request.study, make_executor(executor, workers, scheduler), quiet,
                          command="fix", what=what)
    report = run_fix(request, results_dir, run_plan,
                     on_symptoms=lambda found: say(f"symptoms (most serious first): {', '.join(found)}"))
    if not report.symptoms:
        say(f"nothing to fix: no warning or error on any of the {seeds} seed(s)")
        return
    if not report.candidates:
        warn(f"error: no repair in the table applies to {', '.join(report.symptoms)} for this config; nothing was tried")
        raise typer.Exit(1)
    if not print_fix_report(report, request):
        raise typer.Exit(1)
