"""nnlab: reproducible neural-network training studies in seeded NumPy.

In a notebook: ``nnlab.load_study("results/<name>")`` and ``nnlab.load_trial(folder)``
return pandas DataFrames of trials, epochs and steps (see :mod:`nnlab.results.frames`).
"""

__version__ = "0.1.0"

# Before anything loads NumPy: OpenBLAS's Haswell kernels and NumPy without its AVX-512
# loops, so a trial computes the same bytes on every AVX2 x86-64 machine, whether it runs
# from the nnlab command, python -m nnlab.studies, the tests or a notebook (pinning.py).
from .runtime.pinning import pin_environment as _pin_environment

_pin_environment()


def load_study(path):
    """A study folder's trials, epochs and steps as DataFrames (:class:`nnlab.results.frames.Frames`)."""
    from .results.frames import load_study as load

    return load(path)


def load_trial(path):
    """One trial folder's row, epochs and steps as DataFrames (:class:`nnlab.results.frames.Frames`)."""
    from .results.frames import load_trial as load

    return load(path)
