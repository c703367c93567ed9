"""Commands that read stored results: ``report``, ``ls``, ``diagnose``, ``reproduce``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import app, handles_errors
from .console import say, warn


@app.command()
@handles_errors
def report(
    results: Path = typer.Argument(..., help="A trial folder or a study folder under results/."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write (default: RESULTS/report); an existing "
                                                          "folder must be empty or a report nnlab wrote."),
):
    """Write plots (PNG), summary.csv and a self-contained index.html for a trial or a study.

    Trial: loss and accuracy per epoch, step loss with spikes marked, plateau and
    overfitting marked, per-layer dead/saturated fractions and gradient norms.
    Study: the table of trials, a comparison across configurations and seeds, mean curves.

    Example: nnlab report results/bn_placement
    """
    from ..report import write_report

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
def diagnose(
    path: Path = typer.Argument(..., help="A trial folder or a study folder (results/<name>)."),
    write: bool = typer.Option(False, "--write", help="Store the new diagnosis in each summary.json (reports show it)."),
):
    """Run today's detectors again over stored trials, without retraining.

    Prints each trial's warnings and errors and what changed from the stored diagnosis.
    --write replaces the stored events of the trials whose diagnosis changed (the numbers
    stay untouched; each folder is replaced whole with its manifest, and the study's
    summary.csv is updated). Exit 0.

    Example: nnlab diagnose results/bn_placement --write
    """
    from ..diagnose.rediagnose import rediagnose_all, trial_folders
    from .console import print_rediagnosis
    from .progress import StudyProgress

    folders = trial_folders(path)
    with StudyProgress(len(folders), enabled=len(folders) > 1) as bar:
        results = rediagnose_all(folders, write, progress=lambda: bar.progress.advance(bar.task))
    print_rediagnosis(results, write)
