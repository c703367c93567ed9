"""Commands that check before anything runs: ``doctor`` and ``schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .app import app, handles_errors
from .console import console, say


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
def schema():
    """Print the config's JSON Schema (every key, type, default and allowed value).

    Example: nnlab schema > nnlab.schema.json
    """
    from ..config import Experiment
    from ..config.base import json_schema

    console.print_json(json.dumps(json_schema(Experiment)))
