"""The Typer application and what every command shares: one-line errors with their exit
codes (0 done, 1 a trial or check failed, 2 bad usage, config or data, 130 interrupted), the
``--version`` flag and common options. The commands live beside it, one module per job
(``train.py``: run, sweep; ``fix.py``; ``inspect.py``: report, ls, diagnose, reproduce;
``checks.py``: doctor, schema; ``data.py``; ``worker.py``); each parses, calls one library
function and prints (``console.py``, ``progress.py``). Imports are local to each command so
that ``--help`` stays fast.
"""

from __future__ import annotations

import functools
import signal
from pathlib import Path

import typer

from .. import __version__
from ..errors import NnlabError
from .console import err_console, say, warn

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="nnlab: reproducible neural-network training studies in seeded NumPy.")
data_app = typer.Typer(no_args_is_help=True, help="List, check and download datasets.")
app.add_typer(data_app, name="data")


class Interrupted(Exception):
    """Ctrl-C or SIGTERM during a study, with what was kept."""


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


def interrupt_on_sigterm() -> None:
    """SIGTERM stops a study as Ctrl-C does: finished trials are kept, claims released."""
    signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def version_callback(value: bool):
    if value:
        say(f"nnlab {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                               help="Show the version and exit.")):
    pass


ResultsOption = typer.Option(Path("results"), "--results-dir", "-o", help="Where studies are written.")
WorkersOption = typer.Option(None, "--workers", "-w", help="Worker processes for --executor local (default: number of cores).")
ExecutorOption = typer.Option("local", "--executor", "-e", help="serial | local | dask")
SchedulerOption = typer.Option(None, "--scheduler", help="Dask scheduler address or scheduler file.")
QuietOption = typer.Option(False, "--quiet", "-q", help="No progress bar; one line per finished trial.")


def refuse_if_strict(findings: list[dict], strict: bool, what: str) -> None:
    from ..diagnose.events import serious
    from ..errors import ConfigError

    if strict and serious(findings):
        raise ConfigError(f"--strict: the doctor found {len(serious(findings))} problem(s) (listed above); {what}")


def main():
    app()   # importing nnlab pinned the kernels before anything loaded NumPy (nnlab/__init__.py)
