"""The ``nnlab`` command: thin Typer commands over the library (see ``app.py``)."""

from . import checks, data, fix, inspect, train, worker  # noqa: F401  (each module registers its commands)
from .app import app, main

__all__ = ["app", "main"]
