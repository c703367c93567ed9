"""The ``nnlab`` command: thin Typer commands over the library (``app.py``) and the
terminal output they share (``console.py``)."""

from .app import app, main

__all__ = ["app", "main"]
