"""The `nnlab` command: a thin Typer shell over the library.

Every command parses its arguments, calls one library function and prints. Errors a
user can fix print one line and exit 2 (usage, config, data) or 1 (a failed trial).
"""

from __future__ import annotations

import functools
import json
import os
import signal
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .config import Experiment, get_path, load_config, split_override
from .console import StudyProgress, TrainingProgress, console, err_console, fmt
from .errors import NnlabError
from .store import COMPLETE_STATUSES, find_trial, read_summary, trial_name, write_trial

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="nnlab: reproducible neural-network training studies in seeded NumPy.")
data_app = typer.Typer(no_args_is_help=True, help="List, check and download datasets.")
app.add_typer(data_app, name="data")


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
            err_console.print("interrupted: no trial in progress was written", markup=False)
            raise typer.Exit(130) from None
        except NnlabInterrupted as exc:
            err_console.print(str(exc), markup=False)
            raise typer.Exit(130) from None

    return wrapper


def version_callback(value: bool):
    if value:
        console.print(f"nnlab {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                               help="Show the version and exit.")):
    pass


ResultsOption = typer.Option(Path("results"), "--results-dir", "-o", help="Where studies are written.")


@app.command()
@handles_errors
def run(
    config: Path = typer.Argument(..., help="Experiment YAML file."),
    overrides: Optional[List[str]] = typer.Argument(None, help="key.path=value overrides, e.g. optimizer.lr=0.01"),
    results_dir: Path = ResultsOption,
    force: bool = typer.Option(False, "--force", help="Re-run even if this exact config already completed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or per-epoch lines."),
    strict: bool = typer.Option(False, "--strict", help="Refuse to train (exit 2) if the doctor finds a warning or error."),
):
    """Train one trial, show progress, write results/<name>/<trial>/ and print a summary
    with any diagnosis (the doctor's checks come first, before training).

    Example: nnlab run configs/mnist.yaml optimizer.lr=0.01 train.epochs=5
    """
    from .doctor import check
    from .runner import prepare, run_trial

    overrides = overrides or []
    exp = load_config(config, overrides)
    values = {}
    for text in overrides:
        key, _ = split_override(text)
        values[key] = get_path(exp.resolved(), key)
    study_dir = results_dir / exp.name
    name = trial_name(values, exp.config_hash())
    existing = find_trial(study_dir, exp.config_hash())
    if existing and not force:
        summary = read_summary(existing)
        if summary and summary.get("status") in COMPLETE_STATUSES:
            console.print(f"{existing} already holds this exact config ({summary['status']}); "
                          "showing it (use --force to train again)")
            _print_summary(summary, existing)
            return
    trainer = prepare(exp)
    findings = check(trainer)
    _print_findings(findings, strict)
    x_train = trainer.splits["train"][0]
    batch = len(x_train) if exp.train.batch_size == "full" else min(exp.train.batch_size, len(x_train))
    steps_per_epoch = -(-len(x_train) // batch)
    sizes = ", ".join(f"{len(x)} {split}" for split, (x, _) in trainer.splits.items())
    console.print(f"nnlab run {exp.name}: {trainer.data.name} ({sizes}); {trainer.model.describe()}; "
                  f"{exp.optimizer.name} lr={exp.optimizer.lr}, batch {exp.train.batch_size}, "
                  f"{exp.train.epochs} epochs, seed {exp.seed}", markup=False)
    with TrainingProgress(exp.train.epochs, steps_per_epoch, enabled=not quiet) as bar:
        records = run_trial(exp, trainer, on_step=bar.on_step, on_epoch=bar.on_epoch, doctor_events=findings)
    trial_dir = write_trial(existing if existing else study_dir / name, records)
    _print_summary(records.summary, trial_dir)
    if records.summary["status"] == "failed":
        raise typer.Exit(1)


def _print_findings(findings: list[dict], strict: bool, label: str = "doctor") -> None:
    """Print the doctor's warnings and errors; with --strict refuse to go on."""
    serious = [f for f in findings if f["severity"] in ("warn", "error")]
    for finding in serious:
        console.print(f"{label}: [{finding['severity']}] {finding['type']}: {finding['message']}", markup=False)
    if strict and serious:
        from .errors import ConfigError
        raise ConfigError(f"--strict: the doctor found {len(serious)} problem(s) (listed above); nothing was trained")


def _print_summary(summary: dict, trial_dir: Path) -> None:
    status = summary.get("status")
    if status == "failed":
        err_console.print(f"error: trial failed: {summary.get('error')}", markup=False)
        console.print(f"recorded in {trial_dir}", markup=False)
        return
    if status == "diverged":
        d = summary["diverged"]
        err_console.print(f"diverged: the {d['what']} became NaN/Inf at epoch {d['epoch']}, step {d['step']} "
                          "(recorded; try a smaller learning rate)", markup=False)
    final, best = summary.get("final", {}), summary.get("best", {})
    metric = summary.get("metric", "acc")
    parts = [f"{status}: {summary.get('epochs_run')} epochs, {summary.get('steps')} steps"]
    if summary.get("epoch_time_s"):
        seconds = summary["epoch_time_s"]
        parts.append(f"{seconds:.2f} s/epoch" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms/epoch")
    console.print(", ".join(parts), markup=False)
    for label, row in (("final", final), (f"best ({best.get('monitor')}, epoch {best.get('epoch')})", best)):
        cells = [f"{k} {fmt(row[k])}" for k in ("train_loss", f"train_{metric}", "val_loss", f"val_{metric}",
                                                 "test_loss", f"test_{metric}") if k in row]
        console.print(f"  {label}: " + "  ".join(cells), markup=False)
    if summary.get("test_after_restore"):
        cells = "  ".join(f"{k} {fmt(v)}" for k, v in summary["test_after_restore"].items())
        console.print(f"  restored best weights: {cells}", markup=False)
    events = [e for e in summary.get("events", []) if e.get("where", {}).get("stage") != "before training"]
    if events:
        console.print("diagnosis:", markup=False)
    for event in events:
        console.print(f"  [{event['severity']}] {event['type']}: {event['message']}", markup=False)
    console.print(f"results: {trial_dir}", markup=False)


@app.command()
@handles_errors
def sweep(
    config: Path = typer.Argument(..., help="Experiment YAML file, usually with a sweep: section."),
    overrides: Optional[List[str]] = typer.Argument(
        None, help="key=value overrides; key=a,b,c or key=range(0,5) adds a sweep axis (seed=0,1,2 adds replicates)"),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", "-w", min=1,
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
    Example: nnlab sweep configs/xor.yaml model.activation=relu,tanh seed=range(0,3) --dry-run
    """
    from .config import read_yaml
    from .executors import make_executor
    from .study import run_study, to_run, trial_status
    from .sweep import plan as make_plan

    data, lines = read_yaml(config)
    data.setdefault("name", config.stem)
    study = make_plan(data, overrides or [], str(config), lines)
    study_dir = results_dir / study.study
    if dry_run:
        _print_plan(study, study_dir)
        return
    _print_study_findings(study, strict)
    runner = make_executor(executor, workers, scheduler)
    todo, skip = to_run(study_dir, study, force, retry)
    where = {"serial": "in this process", "local": f"on {workers} worker processes",
             "dask": f"on the Dask cluster at {scheduler}"}[runner.name]
    console.print(f"nnlab sweep {study.study}: {len(study.trials)} trials ({len(skip)} done, {len(todo)} to run) "
                  f"{where} -> {study_dir}", markup=False)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with StudyProgress(len(todo), enabled=not quiet) as bar:
        try:
            outcome = run_study(study, study_dir, runner, force, retry, on_done=bar.on_done)
        except KeyboardInterrupt:
            done = sum(1 for t in study.trials if trial_status(study_dir, t)[0] in ("complete", "diverged", "failed"))
            raise NnlabInterrupted(f"interrupted: {done} of {len(study.trials)} trials are finished and kept; "
                                   f"the ones in flight were discarded. Run the same command to resume.") from None
    counts = {}
    for status in outcome.statuses.values():
        counts[status] = counts.get(status, 0) + 1
    console.print(f"{len(outcome.ran)} trained, {len(outcome.skipped)} already done"
                  + (f", {len(outcome.elsewhere)} running in another process" if outcome.elsewhere else "")
                  + " | " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
                  + f" | summary: {study_dir / 'summary.csv'}", markup=False)
    if outcome.failed:
        err_console.print(f"error: {len(outcome.failed)} trial(s) failed: {', '.join(outcome.failed[:3])}"
                          f"{' ...' if len(outcome.failed) > 3 else ''} (errors in summary.csv; --retry runs them again)",
                          markup=False)
        raise typer.Exit(1)


def _print_study_findings(study, strict: bool) -> None:
    """The doctor's static checks on every trial, one line per distinct finding."""
    from .doctor import study_checks

    found = study_checks(study)
    serious = [(f, trials) for f, trials in found if f["severity"] in ("warn", "error")]
    for finding, trials in serious:
        which = "all trials" if len(trials) == len(study.trials) else f"{len(trials)} trial(s), e.g. {trials[0]}"
        console.print(f"doctor: [{finding['severity']}] {finding['type']} in {which}: {finding['message']}", markup=False)
    if strict and serious:
        from .errors import ConfigError
        raise ConfigError(f"--strict: the doctor flagged {len(serious)} problem(s) (listed above); nothing was run")


class NnlabInterrupted(Exception):
    pass


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _print_plan(study, study_dir: Path) -> None:
    from .study import trial_status

    rows = []
    for i, trial in enumerate(study.trials, 1):
        status = trial_status(study_dir, trial)[0]
        rows.append([str(i), trial.id, *[format_cell(trial.values.get(a)) for a in study.axes], status])
    header = ["#", "trial", *study.axes, "status"]
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        console.print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip(), markup=False)
    statuses = [r[-1] for r in rows]
    todo = sum(s in ("pending", "running") for s in statuses)
    console.print(f"{len(rows)} trials, {todo} to run, {len(rows) - todo} done (dry run: nothing was run)", markup=False)


def format_cell(value) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


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
    from .report import write_report

    written = write_report(results, out)
    console.print(f"report: {written[0]} ({len(written) - 1} more file(s) beside it)", markup=False)


@app.command()
@handles_errors
def reproduce(trial: Path = typer.Argument(..., help="A trial folder (holding config.yaml and summary.json).")):
    """Train a finished trial again from its config.yaml and check that the fingerprint matches.

    Nothing is written. Exit 0 when the bytes match, 1 when they differ (the numbers that
    differ first are shown).

    Example: nnlab reproduce results/mnist/run-a6af38f7
    """
    from .errors import ConfigError
    from .runner import prepare, run_trial
    from .store import TIMING_COLUMNS, finish_summary, to_csv

    summary = read_summary(trial)
    if summary is None or not (trial / "config.yaml").is_file():
        raise ConfigError(f"{trial}: not a trial folder (needs config.yaml and summary.json)")
    if "fingerprint" not in summary:
        raise ConfigError(f"{trial}: the trial has no fingerprint (status {summary.get('status')}); nothing to compare")
    exp = load_config(trial / "config.yaml")
    console.print(f"reproducing {trial} ({summary.get('epochs_run')} epochs) ...", markup=False)
    records = run_trial(exp, prepare(exp))
    finish_summary(records)
    if records.summary.get("fingerprint") == summary["fingerprint"]:
        console.print(f"identical: fingerprint {summary['fingerprint'][:16]}... matches "
                      f"(metrics.csv without timing, steps.csv, final weights)", markup=False)
        return
    stored = (trial / "metrics.csv").read_text().splitlines()
    fresh = to_csv(records.metrics).splitlines()
    header = stored[0].split(",")
    keep = [i for i, c in enumerate(header) if c not in TIMING_COLUMNS]
    first = next((i for i, (a, b) in enumerate(zip(stored, fresh))
                  if [a.split(",")[k] for k in keep] != [b.split(",")[k] for k in keep]), None)
    where = f"; metrics.csv first differs at epoch row {first - 1}" if first else "; metrics.csv matches, steps or weights differ"
    err_console.print(f"error: not reproduced: fingerprint {records.summary.get('fingerprint', '?')[:16]}... != "
                      f"{summary['fingerprint'][:16]}...{where} (different nnlab/numpy/BLAS? "
                      f"see summary.json environment)", markup=False)
    raise typer.Exit(1)


@app.command()
@handles_errors
def doctor(
    config: Path = typer.Argument(..., help="Experiment YAML file."),
    overrides: Optional[List[str]] = typer.Argument(None, help="key.path=value overrides"),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
):
    """Check a config for known mistakes before training, each with its reason.

    Loads the data and runs one forward pass of the initialised model on a probe set;
    trains nothing. Exit 0 when clean, 1 when it found warnings or errors.

    Example: nnlab doctor configs/mnist.yaml model.output=relu
    """
    from .doctor import check
    from .runner import prepare

    exp = load_config(config, overrides or [])
    findings = check(prepare(exp))
    if as_json:
        console.print_json(json.dumps(findings))
    else:
        for finding in findings:
            console.print(f"[{finding['severity']}] {finding['type']}: {finding['message']}", markup=False)
        serious = sum(f["severity"] in ("warn", "error") for f in findings)
        console.print(f"{serious} problem(s) found" if serious else "no problems found", markup=False)
    if any(f["severity"] in ("warn", "error") for f in findings):
        raise typer.Exit(1)


@app.command()
@handles_errors
def schema():
    """Print the config's JSON Schema (every key, type, default and allowed value).

    Example: nnlab schema > nnlab.schema.json
    """
    console.print_json(json.dumps(Experiment.model_json_schema()))


@data_app.command("list")
@handles_errors
def data_list(root: Optional[Path] = typer.Option(None, "--root", help="Extra folder to search (like data.root).")):
    """List datasets and, for file-based ones, where they were found.

    Example: NNLAB_DATA=../shared/data nnlab data list
    """
    from .data import DATASET_KINDS, GENERATORS, data_dirs, find_idx

    for name, kind in DATASET_KINDS.items():
        if name in GENERATORS:
            where = "generated from data.seed, no files"
        else:
            folder = find_idx(name, str(root) if root else None)
            where = str(folder) if folder else "missing (searched " + ", ".join(str(d / name) for d in data_dirs(str(root) if root else None)) + ")"
        console.print(f"{name:<14} {kind:<15} {where}", markup=False)


@data_app.command("verify")
@handles_errors
def data_verify(dataset: str = typer.Argument("mnist", help="mnist or fashion_mnist"),
                root: Optional[Path] = typer.Option(None, "--root", help="Extra folder to search.")):
    """Check the IDX files of a dataset (SHA-256 of the decompressed bytes for MNIST).

    Example: NNLAB_DATA=../shared/data nnlab data verify mnist
    """
    from .data import IDX_FILES, _missing_message, find_idx, verify_idx
    from .errors import ConfigError

    if dataset not in ("mnist", "fashion_mnist"):
        raise ConfigError(f"'{dataset}' has no files to verify; choose mnist or fashion_mnist")
    folder = find_idx(dataset, str(root) if root else None)
    if folder is None:
        from .errors import DataError
        raise DataError(_missing_message(dataset, str(root) if root else None))
    verify_idx(dataset, folder)
    console.print(f"{dataset}: {len(IDX_FILES)} files ok in {folder}", markup=False)


@data_app.command("fetch")
@handles_errors
def data_fetch(dataset: str = typer.Argument(..., help="mnist or fashion_mnist"),
               root: Optional[Path] = typer.Option(None, "--root", help="Download here instead of ~/.cache/nnlab.")):
    """Download a dataset from its public mirrors (with a progress bar) and verify it.

    Example: nnlab data fetch fashion_mnist
    """
    from .data import fetch, find_idx
    from .errors import ConfigError

    if dataset not in ("mnist", "fashion_mnist"):
        raise ConfigError(f"'{dataset}' is generated, not downloaded; choose mnist or fashion_mnist")
    folder = find_idx(dataset, str(root) if root else None)
    if folder is None:
        folder = fetch(dataset, str(root) if root else None)
    console.print(f"{dataset}: ready in {folder}", markup=False)


def main():
    app()


if __name__ == "__main__":
    main()
