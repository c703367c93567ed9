"""Progress bars with ETA: one trial's steps (:class:`TrainingProgress`), a study's trials
(:class:`StudyProgress`), and :class:`RunConsole`, what ``nnlab run`` shows of its one trial
(the doctor's findings, a header line, the bar)."""

from __future__ import annotations

import math

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..train.callbacks import Callback
from ..train.trial import Observer
from .app import refuse_if_strict
from .console import console, epoch_line, fmt, print_findings, say


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

    def on_epoch_end(self, row: dict, state=None) -> None:
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


class RunConsole(Observer):
    """``nnlab run``'s view of its trial: once it is prepared, the doctor's warnings and errors
    (``strict``: refuse to train when there are any), one line naming data, model and
    optimizer, then the training bar (``quiet``: none) until the block ends."""

    def __init__(self, quiet: bool = False, strict: bool = False):
        self.quiet, self.strict = quiet, strict
        self.bar: TrainingProgress | None = None

    def prepared(self, setup, findings: list[dict]) -> list[Callback]:
        from ..data.idx import forget_raw_data
        from ..train.loop import steps_per_epoch

        forget_raw_data()   # one trial: its data is converted; the raw bytes (55 MB for MNIST) are not needed again
        print_findings(findings)
        refuse_if_strict(findings, self.strict, "nothing was trained")
        exp = setup.exp
        sizes = ", ".join(f"{len(x)} {split}" for split, (x, _) in setup.splits.items())
        say(f"nnlab run {exp.name}: {setup.data.name} ({sizes}); {setup.model.describe()}; "
            f"{exp.optimizer.name} lr={exp.optimizer.lr}, batch {exp.train.batch_size}, "
            f"{exp.train.epochs} epochs, seed {exp.seed}")
        self.bar = TrainingProgress(exp.train.epochs, steps_per_epoch(setup), enabled=not self.quiet).__enter__()
        return [self.bar]

    def __enter__(self) -> RunConsole:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
            self.bar = None
