"""Terminal output: a progress bar with ETA for training, and the end-of-run summary."""

from __future__ import annotations

import math

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

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


class TrainingProgress:
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

    def on_step(self, epoch: int, step_in_epoch: int, steps_per_epoch: int, loss: float) -> None:
        if step_in_epoch % 10 == 0 or step_in_epoch == steps_per_epoch:
            self.progress.update(self.task, completed=(epoch - 1) * steps_per_epoch + step_in_epoch,
                                 description=f"epoch {epoch}/{self.epochs}", loss=fmt(loss))

    def on_epoch(self, row: dict) -> None:
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
