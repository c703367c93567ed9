"""Terminal output: progress bars with ETA, the doctor's findings, a trial's summary and a
study's plan, so that the commands in ``cli.py`` only call the library and these."""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..results.csvtext import plain_cell
from ..train.callbacks import Callback

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def epoch_line(row: dict, epochs: int) -> str:
    parts = [f"epoch {row['epoch']:>{len(str(epochs))}}/{epochs}"]
    for key in ("train_loss", "train_acc", "train_mae", "val_loss", "val_acc", "val_mae", "test_acc", "test_mae"):
        if key in row:
            parts.append(f"{key} {fmt(row[key])}")
    if row.get("time_s") is not None and row["epoch"]:
        parts.append(f"{row['time_s']:.1f}s")
    return "  ".join(parts)


class TrainingProgress(Callback):
    """A bar over all steps of a run (epoch, loss, ETA) and a line per epoch (at most ~10)."""

    def __init__(self, epochs: int, steps_per_epoch: int, enabled: bool = True):
        self.epochs = epochs
        self.every = max(1, math.ceil(epochs / 10))
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[metric]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, transient=True, disable=not enabled)
        self.task = self.progress.add_task(f"epoch 0/{epochs}", total=max(epochs * steps_per_epoch, 1),
                                           loss="-", metric="")

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def on_step_end(self, epoch: int, step_in_epoch: int, steps_per_epoch: int, step: int, loss: float) -> None:
        if step_in_epoch % 10 == 0 or step_in_epoch == steps_per_epoch:
            self.progress.update(self.task, completed=(epoch - 1) * steps_per_epoch + step_in_epoch,
                                 description=f"epoch {epoch}/{self.epochs}", loss=fmt(loss))

    def on_epoch_end(self, row: dict) -> None:
        metric = next((f"{k} {fmt(row[k])}" for k in ("val_acc", "train_acc", "val_mae", "train_mae") if k in row), "")
        self.progress.update(self.task, metric=metric)
        if self.enabled and (row["epoch"] % self.every == 0 or row["epoch"] == self.epochs):
            self.progress.console.print(epoch_line(row, self.epochs))


class StudyProgress:
    """One bar for the study (trials done / to run, ETA) and a line per finished trial."""

    def __init__(self, total: int, enabled: bool = True):
        self.total, self.done = total, 0
        self.progress = Progress(
            TextColumn("[bold]trials"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True, disable=not enabled)
        self.task = self.progress.add_task("trials", total=max(total, 1))

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def on_done(self, trial, status: str, summary: dict, folder) -> None:
        self.done += 1
        self.progress.advance(self.task)
        final = summary.get("final") or {}
        metric = summary.get("metric", "acc")
        cells = [f"{k} {fmt(final[k])}" for k in (f"val_{metric}", f"test_{metric}") if k in final]
        if status == "diverged":
            d = summary["diverged"]
            cells.append(f"at epoch {d['epoch']} step {d['step']}")
        if status == "failed":
            cells.append(str(summary.get("error")))
        for event in summary.get("events") or []:
            if event.get("severity") in ("warn", "error"):
                cells.append(f"[{event['severity']}] {event['type']}")
        seconds = summary.get("time_s")
        if seconds is not None:
            cells.append(f"{seconds:.1f}s")
        width = len(str(self.total))
        self.progress.console.print(f"[{self.done:>{width}}/{self.total}] {folder.name}  {status}  " + "  ".join(cells),
                                    markup=False)


def say(text: str) -> None:
    console.print(text, markup=False)


def warn(text: str) -> None:
    err_console.print(text, markup=False)


def serious(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["severity"] in ("warn", "error")]


def print_findings(findings: list[dict], label: str = "doctor") -> None:
    """The doctor's warnings and errors, one line each."""
    for finding in serious(findings):
        say(f"{label}: [{finding['severity']}] {finding['type']}: {finding['message']}")


def print_study_findings(found: list[tuple[dict, list[str]]], n_trials: int) -> None:
    """The doctor's static checks over a study, one line per distinct finding."""
    for finding, trials in found:
        if finding["severity"] in ("warn", "error"):
            which = "all trials" if len(trials) == n_trials else f"{len(trials)} trial(s), e.g. {trials[0]}"
            say(f"doctor: [{finding['severity']}] {finding['type']} in {which}: {finding['message']}")


def print_summary(summary: dict, trial_dir: Path) -> None:
    """What `nnlab run` prints at the end: status, final and best metrics, the diagnosis."""
    status = summary.get("status")
    if status == "failed":
        warn(f"error: trial failed: {summary.get('error')}")
        say(f"recorded in {trial_dir}")
        return
    if status == "diverged":
        d = summary["diverged"]
        warn(f"diverged: the {d['what']} became NaN/Inf at epoch {d['epoch']}, step {d['step']} "
             "(recorded; try a smaller learning rate)")
    final, best = summary.get("final", {}), summary.get("best", {})
    metric = summary.get("metric", "acc")
    parts = [f"{status}: {summary.get('epochs_run')} epochs, {summary.get('steps')} steps"]
    if summary.get("epoch_time_s"):
        seconds = summary["epoch_time_s"]
        parts.append(f"{seconds:.2f} s/epoch" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms/epoch")
    rule = summary.get("stop_when")
    if rule:
        parts.append(f"stopped by train.stop_when: {rule['metric']} {fmt(rule['value'])} at epoch {rule['epoch']}")
    elif summary.get("stop_reason") == "early_stopping":
        parts.append("stopped early")
    say(", ".join(parts))
    final_label = (f"final (best weights of epoch {summary['restored_best_epoch']} restored)"
                   if summary.get("restored_best_epoch") is not None else "final")
    rows = [(final_label, final), (f"best ({best.get('monitor')}, epoch {best.get('epoch')})", best)]
    if summary.get("last_epoch"):
        rows.append((f"last epoch trained ({summary['last_epoch'].get('epoch')})", summary["last_epoch"]))
    for label, row in rows:
        cells = [f"{k} {fmt(row[k])}" for k in ("train_loss", f"train_{metric}", "val_loss", f"val_{metric}",
                                                 "test_loss", f"test_{metric}") if k in row]
        say(f"  {label}: " + "  ".join(cells))
    events = [e for e in summary.get("events", []) if e.get("where", {}).get("stage") != "before training"]
    if events:
        say("diagnosis:")
    for event in events:
        say(f"  [{event['severity']}] {event['type']}: {event['message']}")
    say(f"results: {trial_dir}")


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        say("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def print_plan(trials: list, axes: list[str], statuses: list[str]) -> None:
    """`nnlab sweep --dry-run`: every trial with its swept values and status."""
    rows = [[str(i), trial.id, *[plain_cell(trial.values.get(a)) for a in axes], status]
            for i, (trial, status) in enumerate(zip(trials, statuses, strict=True), 1)]
    print_table(["#", "trial", *axes, "status"], rows)
    todo = sum(s in ("pending", "running") for s in statuses)
    say(f"{len(rows)} trials, {todo} to run, {len(rows) - todo} done (dry run: nothing was run)")
