"""The `nnlab` command: a thin Typer shell over the library.

Every command parses its arguments, calls the library and prints (``console.py``).
Errors a user can fix print one line and exit 2 (usage, config, data) or 1 (a failed
trial). Imports are local to each command so that ``--help`` stays fast.
"""

from __future__ import annotations

import functools
import json
import math
import os
import signal
from pathlib import Path
from typing import Optional

import typer

from .. import __version__
from ..errors import ConfigError, NnlabError
from .console import console, err_console, say, warn

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="nnlab: reproducible neural-network training studies in seeded NumPy.")
data_app = typer.Typer(no_args_is_help=True, help="List, check and download datasets.")
app.add_typer(data_app, name="data")


class Interrupted(Exception):
    """Ctrl-C or SIGTERM during a sweep, with what was kept."""


def handles_errors(func):
    """Turn NnlabError into one line on stderr and its exit code; Ctrl-C into exit 130."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except NnlabError as exc:
            err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            warn("interrupted: no trial in progress was written")
            raise typer.Exit(130) from None
        except Interrupted as exc:
            warn(str(exc))
            raise typer.Exit(130) from None
        except MemoryError:
            warn("error: out of memory: the machine could not hold this trial (the estimate before training "
                 "passed it); make the data, the model or the batch smaller, or run fewer workers")
            raise typer.Exit(1) from None

    return wrapper


def version_callback(value: bool):
    if value:
        say(f"nnlab {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                               help="Show the version and exit.")):
    pass


ResultsOption = typer.Option(Path("results"), "--results-dir", "-o", help="Where studies are written.")


_BUSY = ("another nnlab process is training this exact config in {study_dir} right now; "
         "wait for it and run the command again to see its result")


def _refuse_if_strict(findings: list[dict], strict: bool, what: str) -> None:
    from ..diagnose.events import serious

    if strict and serious(findings):
        raise ConfigError(f"--strict: the doctor found {len(serious(findings))} problem(s) (listed above); {what}")


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
    from ..config import read_yaml
    from ..results.store import COMPLETE_STATUSES, trial_status
    from ..sweep.executors import SerialExecutor
    from ..sweep.plan import plan_run
    from ..sweep.preflight import check_memory, check_writable
    from ..sweep.runner import run_trials
    from .console import print_summary
    from .progress import RunConsole

    data, lines = read_yaml(config)
    data.setdefault("name", config.stem)
    trial = plan_run(data, overrides or [], str(config), lines).trials[0]
    exp = trial.experiment
    study_dir = results_dir / exp.name
    check_memory(exp)
    check_writable(study_dir)
    status, folder, summary = trial_status(study_dir, trial.config_hash)
    if status in COMPLETE_STATUSES and not force:
        say(f"{folder} already holds this exact config ({status}); showing it (use --force to train again)")
        print_summary(summary or {}, folder or study_dir)
        return
    if status == "corrupt" and not force:
        raise NnlabError(f"{folder} holds this config but is corrupt: {(summary or {}).get('error')}; "
                         "--force trains it again")
    if status == "running":
        raise NnlabError(_BUSY.format(study_dir=study_dir))
    finished: list = []
    # one trial: its products and evaluation use every core (the bytes are those of one)
    with RunConsole(quiet, strict) as observer:
        executor = SerialExecutor(threads=os.cpu_count() or 1, observer=observer)
        outcome = run_trials([trial], study_dir, executor, force=force, retry=True,
                             on_done=lambda t, status, summary, folder: finished.append((summary, folder)))
    if outcome.elsewhere:
        raise NnlabError(_BUSY.format(study_dir=study_dir))
    if not finished:  # another process finished it while this one prepared: show that result
        status, folder, summary = trial_status(study_dir, trial.config_hash)
        say(f"{folder} was finished by another nnlab process meanwhile ({status}); showing it")
        finished.append((summary or {}, folder or study_dir))
    summary, folder = finished[0]
    print_summary(summary, folder)
    if summary["status"] == "failed":
        raise typer.Exit(1)


@app.command()
@handles_errors
def sweep(
    config: Path = typer.Argument(..., help="Experiment YAML file, usually with a sweep: section."),
    overrides: Optional[list[str]] = typer.Argument(
        None, help="key=value overrides; key=a,b,c or key=range(0,5) adds a sweep axis (seed=0,1,2 adds replicates)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w",
                                          help="Worker processes for --executor local (default: number of cores)."),
    executor: str = typer.Option("local", "--executor", "-e", help="serial | local | dask"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address or scheduler file."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the trials and their status; run nothing."),
    force: bool = typer.Option(False, "--force", help="Re-run every trial, even complete ones."),
    retry: bool = typer.Option(False, "--retry", help="Re-run failed trials too."),
    results_dir: Path = ResultsOption,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar; one line per finished trial."),
    strict: bool = typer.Option(False, "--strict", help="Refuse to run (exit 2) if the doctor flags any trial."),
):
    """Expand a grid of trials and run every one not already complete, in parallel.

    Resumes after a crash or Ctrl-C (finished trials are kept), never runs a trial twice
    (even with two sweeps on one study), and writes results/<name>/summary.csv.

    Example: nnlab sweep configs/bn_placement.yaml --workers 2
    Example: nnlab sweep configs/xor.yaml model.activation=relu,tanh 'seed=range(0,3)' --dry-run
    """
    from ..config import read_yaml
    from ..diagnose.doctor import study_checks
    from ..results.store import FINISHED_STATUSES, trial_status
    from ..sweep.executors import executor_workers, make_executor
    from ..sweep.plan import plan
    from ..sweep.preflight import check_memory, check_writable
    from ..sweep.runner import run_study, to_run
    from .console import print_plan, print_study_findings
    from .progress import StudyProgress

    data, lines = read_yaml(config)
    data.setdefault("name", config.stem)
    study = plan(data, overrides or [], str(config), lines)
    study_dir = results_dir / study.study
    local = executor_workers(executor, workers, scheduler)
    check_writable(study_dir)
    for trial in study.trials if local else []:  # a Dask cluster's memory is its own
        check_memory(trial.experiment, concurrent=min(local, len(study.trials)))
    if dry_run:  # after the checks: a dry run says whether the real command would start
        print_plan(study.trials, study.axes, [trial_status(study_dir, t.config_hash)[0] for t in study.trials])
        return
    found = study_checks(study)
    print_study_findings(found, len(study.trials))
    _refuse_if_strict([finding for finding, _ in found], strict, "nothing was run")
    runner = make_executor(executor, workers, scheduler)
    todo, skip = to_run(study_dir, study.trials, force, retry)
    where = {"serial": "in this process", "local": f"on {runner.capacity} worker processes",
             "dask": f"on the Dask cluster at {scheduler}"}[runner.name]
    say(f"nnlab sweep {study.study}: {len(study.trials)} trials ({len(skip)} done, {len(todo)} to run) "
        f"{where} -> {study_dir}")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with StudyProgress(len(todo), enabled=not quiet) as bar:
        try:
            outcome = run_study(study, study_dir, runner, force, retry, on_done=bar.on_done)
        except KeyboardInterrupt:
            done = sum(1 for t in study.trials
                       if trial_status(study_dir, t.config_hash)[0] in FINISHED_STATUSES)
            raise Interrupted(f"interrupted: {done} of {len(study.trials)} trials are finished and kept; "
                              f"the ones in flight were discarded. Run the same command to resume.") from None
    counts: dict[str, int] = {}
    for status in outcome.statuses.values():
        counts[status] = counts.get(status, 0) + 1
    say(f"{len(outcome.ran)} trained, {len(outcome.skipped)} already done"
        + (f", {len(outcome.elsewhere)} running in another process" if outcome.elsewhere else "")
        + " | " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + f" | summary: {study_dir / 'summary.csv'}")
    corrupt = [t for t, s in outcome.statuses.items() if s == "corrupt"]
    for trials, what in ((outcome.failed, "failed"), (corrupt, "corrupt (files changed since written)")):
        if trials:
            warn(f"error: {len(trials)} trial(s) {what}: {', '.join(trials[:3])}"
                 f"{' ...' if len(trials) > 3 else ''} (see summary.csv; --retry runs them again)")
    if outcome.failed or corrupt:
        raise typer.Exit(1)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


@app.command()
@handles_errors
def fix(
    target: Path = typer.Argument(..., help="Experiment YAML file, or a trial folder (its config.yaml is used)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value overrides of the baseline"),
    seeds: int = typer.Option(3, "--seeds", min=2, max=100, help="Seeds every candidate runs on, paired with the baseline's (at least 2: an interval needs them)."),
    budget: int = typer.Option(6, "--budget", min=1, max=50, help="At most this many candidate fixes."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w",
                                          help="Worker processes for --executor local (default: number of cores)."),
    executor: str = typer.Option("local", "--executor", "-e", help="serial | local | dask"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address or scheduler file."),
    results_dir: Path = ResultsOption,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar; one line per finished trial."),
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
    from ..config import apply_overrides, dump_yaml, read_yaml, validate
    from ..diagnose.fix import (
        BASELINE,
        config_diff,
        fix_plan,
        fixed_config,
        judge,
        seeds_of,
        summaries,
        symptoms,
    )
    from ..diagnose.repairs import candidates
    from ..report.html import is_trial, write_report
    from ..results.csvtext import to_csv
    from ..results.store import write_text_atomic
    from ..sweep.executors import executor_workers, make_executor
    from ..sweep.preflight import check_memory, check_writable
    from ..sweep.runner import run_study, to_run
    from .console import print_table
    from .progress import StudyProgress

    config = target / "config.yaml" if target.is_dir() and is_trial(target) else target
    if target.is_dir() and config == target:
        raise ConfigError(f"{target}: a folder but not a trial folder; give a config file or a trial folder")
    data, lines = read_yaml(config)
    data.setdefault("name", config.stem if config.name != "config.yaml" else target.parent.name)
    data = apply_overrides(data, overrides or [])
    data.pop("sweep", None)
    base = validate(data, str(config), lines)
    name = f"{base.name}-fix-{base.config_hash()[:8]}"   # one study per baseline config
    study_dir = results_dir / name
    seed_list = seeds_of(base, seeds)
    local = executor_workers(executor, workers, scheduler)
    check_writable(study_dir)
    if local:
        check_memory(base, concurrent=min(local, seeds))

    def run(plan, what: str):
        runner = make_executor(executor, workers, scheduler)
        todo, skip = to_run(study_dir, plan.trials)
        say(f"nnlab fix {base.name}: {what}: {len(plan.trials)} trials ({len(skip)} done, {len(todo)} to run) -> {study_dir}")
        signal.signal(signal.SIGTERM, _raise_interrupt)
        with StudyProgress(len(todo), enabled=not quiet) as bar:
            try:
                run_study(plan, study_dir, runner, on_done=bar.on_done)
            except KeyboardInterrupt:
                raise Interrupted("interrupted: finished trials are kept; run the same command to resume") from None

    baseline_plan = fix_plan(name, data, str(config), [], seed_list)
    run(baseline_plan, f"the baseline on seeds {', '.join(map(str, seed_list))}")
    base_summaries = summaries(study_dir, baseline_plan.trials)
    broken = [t.id for t, summary in zip(baseline_plan.trials, base_summaries, strict=True)
              if summary.get("status") not in ("complete", "diverged")]
    if broken:
        raise NnlabError(f"the baseline did not train on {len(broken)} seed(s) ({', '.join(broken)}: see their "
                         f"summary.json); fix that first, nothing else was tried")
    found = symptoms(base_summaries)
    if not found:
        say(f"nothing to fix: no warning or error on any of the {seeds} seed(s)")
        return
    say(f"symptoms (most serious first): {', '.join(found)}")
    cands = candidates(base, found, budget)
    if not cands:
        warn(f"error: no repair in the table applies to {', '.join(found)} for this config (explicit model.layers "
             "cannot take the compact fixes); nothing was tried")
        raise typer.Exit(1)
    plan = fix_plan(name, data, str(config), cands, seed_list)
    run(plan, f"{len(cands)} candidate fix(es) x {seeds} seed(s)")
    by_fix = {c.name: [t for t in plan.trials if t.values["fix"] == c.name] for c in cands}
    outcomes = [judge(c, base_summaries, summaries(study_dir, by_fix[c.name])) for c in cands]
    outcomes.sort(key=lambda o: (not o.verified, -o.mean_gain if math.isfinite(o.mean_gain) else math.inf))
    metric = outcomes[0].metric
    unit = 100 if metric.endswith("acc") else 1
    rows = []
    for rank, o in enumerate(outcomes, 1):
        interval = f"[{o.interval[0] * unit:+.2f}, {o.interval[1] * unit:+.2f}]" if o.interval else "-"
        rows.append([str(rank), o.candidate.name, " ".join(o.candidate.overrides), f"{o.mean_gain * unit:+.2f}",
                     interval, "yes" if o.verified else "no", o.why])
    print_table(["#", "fix", "overrides", f"gain in {metric}" + (" (points)" if unit == 100 else ""), "95% interval",
                 "verified", "why"], rows)
    table = [{"rank": r[0], "fix": o.candidate.name, "overrides": " ".join(o.candidate.overrides),
              "answers": " ".join(o.candidate.targets), "metric": metric, "mean_gain": o.mean_gain,
              "ci_low": o.interval[0] if o.interval else None, "ci_high": o.interval[1] if o.interval else None,
              "worst_seed_gain": o.worst, "seeds_with_symptoms": sum(1 for s in o.symptoms_left if s),
              "verified": o.verified, "why": o.why} for r, o in zip(rows, outcomes, strict=True)]
    write_text_atomic(study_dir / "fix.csv", to_csv(table))
    report = write_report(study_dir)[0]
    best = next((o for o in outcomes if o.verified), None)
    if best is None:
        say(f"no verified fix among {len(outcomes)} candidate(s): each either left a symptom, cost accuracy on a "
            f"seed or gained no more than seed noise (table above; {study_dir / 'fix.csv'}; report {report})")
        raise typer.Exit(1)
    fixed = fixed_config(data, best.candidate)
    write_text_atomic(study_dir / "fixed.yaml", dump_yaml(fixed))
    say(f"best verified fix: {best.candidate.name} ({best.candidate.reason}); answers {', '.join(best.candidate.targets)}")
    say(config_diff(data, fixed, config.name))
    say(f"fixed config: {study_dir / 'fixed.yaml'} | table: {study_dir / 'fix.csv'} | report (baseline vs fixes): "
        f"{report} | baseline label in the report: fix={BASELINE}")


@app.command()
@handles_errors
def report(
    results: Path = typer.Argument(..., help="A trial folder or a study folder under results/."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write (default: RESULTS/report)."),
):
    """Write plots (PNG), summary.csv and a self-contained index.html for a trial or a study.

    Trial: loss and accuracy per epoch, step loss with spikes marked, plateau and
    overfitting marked, per-layer dead/saturated fractions and gradient norms.
    Study: the table of trials, a comparison across configurations and seeds, mean curves.

    Example: nnlab report results/bn_placement
    """
    from ..report.html import write_report

    written = write_report(results, out)
    say(f"report: {written[0]} ({len(written) - 1} more file(s) beside it)")


@app.command("ls")
@handles_errors
def ls(path: Path = typer.Argument(Path("results"), help="results/, a study folder or a trial folder.")):
    """List studies with their trials counted by status, or a study's trials with status,
    epochs, final metric and warnings.

    Example: nnlab ls results/bn_placement
    """
    from ..results.listing import list_results

    for line in list_results(path):
        say(line)


@app.command()
@handles_errors
def reproduce(trial: Path = typer.Argument(..., help="A trial folder (holding config.yaml and summary.json).")):
    """Train a finished trial again from its config.yaml and check that the fingerprint matches.

    Nothing is written. Exit 0 when the bytes match, 1 when they differ (the numbers that
    differ first are shown).

    Example: nnlab reproduce results/mnist/run-a6af38f7
    """
    from ..results.reproduce import reproduce as reproduce_trial
    from ..results.reproduce import stored_summary

    summary = stored_summary(trial)
    say(f"reproducing {trial} ({summary.get('epochs_run')} epochs) ...")
    result = reproduce_trial(trial)
    if result.identical:
        say(f"identical: fingerprint {result.stored[:16]}... matches (metrics.csv without timing, steps.csv, "
            "final weights)")
        return
    where = (f"; metrics.csv first differs at epoch row {result.first_diff_epoch}"
             if result.first_diff_epoch is not None else "; metrics.csv matches, steps or weights differ")
    differs = "; ".join(result.environment_differs) or "nnlab, NumPy, BLAS kernel, CPU features and threads all match"
    warn(f"error: not reproduced: fingerprint {result.fresh[:16]}... != {result.stored[:16]}...{where}. "
         f"What differs from the recorded environment: {differs}")
    raise typer.Exit(1)


@app.command()
@handles_errors
def doctor(
    config: Path = typer.Argument(..., help="Experiment YAML file."),
    overrides: Optional[list[str]] = typer.Argument(None, help="key.path=value overrides"),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
):
    """Check a config for known mistakes before training, each with its reason.

    Loads the data and runs one forward pass of the initialised model on a probe set;
    trains nothing. Exit 0 when clean, 1 when it found warnings or errors.

    Example: nnlab doctor configs/mnist.yaml model.output=relu
    """
    from ..config import load_config
    from ..diagnose.doctor import check
    from ..diagnose.events import serious
    from ..sweep.preflight import check_memory
    from ..train.trial import prepare

    exp = load_config(config, overrides or [])
    check_memory(exp)
    findings = check(prepare(exp))
    if as_json:
        console.print_json(json.dumps(findings))
    else:
        for finding in findings:
            say(f"[{finding['severity']}] {finding['type']}: {finding['message']}")
        say(f"{len(serious(findings))} problem(s) found" if serious(findings) else "no problems found")
    if serious(findings):
        raise typer.Exit(1)


@app.command()
@handles_errors
def diagnose(
    path: Path = typer.Argument(..., help="A trial folder or a study folder (results/<name>)."),
    write: bool = typer.Option(False, "--write", help="Store the new diagnosis in each summary.json (reports show it)."),
):
    """Run today's detectors again over stored trials, without retraining.

    Prints each trial's warnings and errors and what changed from the stored diagnosis.
    --write replaces the stored events (the numbers stay untouched; the manifest and the
    study's summary.csv are updated). Exit 0.

    Example: nnlab diagnose results/bn_placement --write
    """
    from ..diagnose.rediagnose import labels, rediagnose, store, trial_folders
    from .console import print_table
    from .progress import StudyProgress

    folders = trial_folders(path)
    results = []
    with StudyProgress(len(folders), enabled=len(folders) > 1) as bar:
        for folder in folders:
            results.append(rediagnose(folder))
            bar.progress.advance(bar.task)
    if len(results) == 1 and results[0].skipped is None:
        result = results[0]
        for finding in result.after:
            say(f"[{finding['severity']}] {finding['type']}: {finding['message']}")
        if not result.after:
            say("no findings")
    else:
        print_table(["trial", "stored", "now"],
                    [[r.trial.name, labels(r.before), r.skipped or labels(r.after)] for r in results])
    changed = [r for r in results if r.changed()]
    skipped = [r for r in results if r.skipped]
    for r in skipped:
        warn(f"{r.trial.name}: not diagnosed again: {r.skipped}")
    say(f"{len(results) - len(skipped)} trial(s) diagnosed, {len(changed)} with a different diagnosis than stored")
    if write:
        for r in results:
            if r.skipped is None:
                store(r)
        study = folders[0].parent
        if (study / "study.yaml").exists() or (study / "summary.csv").exists():
            from ..results.rows import write_summary_csv
            from ..sweep.runner import plan_rows

            write_summary_csv(study, plan_rows(study))
        say(f"stored in {len(results) - len(skipped)} summary.json file(s)")
    elif changed:
        say("(--write stores the new diagnosis, so reports show it)")


@app.command()
@handles_errors
def schema():
    """Print the config's JSON Schema (every key, type, default and allowed value).

    Example: nnlab schema > nnlab.schema.json
    """
    from ..config import Experiment
    from ..config.base import json_schema

    console.print_json(json.dumps(json_schema(Experiment)))


def _root(root: Optional[Path]) -> str | None:
    return str(root) if root else None


@data_app.command("list")
@handles_errors
def data_list(root: Optional[Path] = typer.Option(None, "--root", help="Extra folder to search (like data.root).")):
    """List datasets and, for file-based ones, where they were found.

    Example: NNLAB_DATA=/data nnlab data list
    """
    from ..data.datasets import DATASET_KINDS, data_dirs, find_idx
    from ..data.generated import GENERATORS

    for name, kind in DATASET_KINDS.items():
        if name in GENERATORS:
            where = "generated from data.seed, no files"
        elif name == "csv":
            where = "your own table: data: {name: csv, path: FILE, target: COLUMN}"
        elif name == "npz":
            where = "your own arrays: data: {name: npz, path: FILE} with x_train, y_train[, x_test, y_test]"
        else:
            folder = find_idx(name, _root(root))
            searched = ", ".join(str(d / name) for d in data_dirs(_root(root)))
            where = str(folder) if folder else f"missing (searched {searched})"
        say(f"{name:<14} {kind:<15} {where}")


def _file_dataset(dataset: str, why_not: str) -> None:
    if dataset not in ("mnist", "fashion_mnist"):
        raise ConfigError(f"'{dataset}' {why_not}; choose mnist or fashion_mnist")


@data_app.command("verify")
@handles_errors
def data_verify(dataset: str = typer.Argument("mnist", help="mnist or fashion_mnist"),
                root: Optional[Path] = typer.Option(None, "--root", help="Extra folder to search.")):
    """Check the IDX files of a dataset (SHA-256 of the decompressed bytes for MNIST).

    Example: NNLAB_DATA=/data nnlab data verify mnist
    """
    from ..data.datasets import IDX_FILES, require_idx, verify_idx

    _file_dataset(dataset, "has no files to verify")
    folder = require_idx(dataset, _root(root))
    verify_idx(dataset, folder)
    say(f"{dataset}: {len(IDX_FILES)} files ok in {folder}")


@data_app.command("fetch")
@handles_errors
def data_fetch(dataset: str = typer.Argument(..., help="mnist or fashion_mnist"),
               root: Optional[Path] = typer.Option(None, "--root", help="Download here instead of ~/.cache/nnlab.")):
    """Download a dataset from its public mirrors (with a progress bar) and verify it.

    Example: nnlab data fetch fashion_mnist
    """
    from ..data.datasets import fetch, find_idx

    _file_dataset(dataset, "is generated, not downloaded")
    folder = find_idx(dataset, _root(root)) or fetch(dataset, _root(root))
    say(f"{dataset}: ready in {folder}")


def main():
    app()   # importing nnlab pinned the kernels before anything loaded NumPy (nnlab/__init__.py)


if __name__ == "__main__":
    main()
