"""nnlab: reproducible neural-network training studies in seeded NumPy.

In a notebook: ``nnlab.load_study("results/<name>")`` and ``nnlab.load_trial(folder)``
return pandas DataFrames of trials, epochs and steps (see :mod:`nnlab.frames`).
"""

__version__ = "0.1.0"


def load_study(path):
    """A study folder's trials, epochs and steps as DataFrames (:class:`nnlab.frames.Frames`)."""
    from .frames import load_study as load

    return load(path)


def load_trial(path):
    """One trial folder's row, epochs and steps as DataFrames (:class:`nnlab.frames.Frames`)."""
    from .frames import load_trial as load

    return load(path)
