"""``nnlab worker``: a Dask worker whose trials give the bytes of a serial run."""

from __future__ import annotations

import os
import sys

import typer

from .app import app, handles_errors


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handles_errors
def worker(ctx: typer.Context):
    """Start a Dask worker (``dask worker`` with the same arguments) whose trials give the
    bytes of a serial run.

    A worker started with plain ``dask worker`` loads NumPy before nnlab can pin its kernels,
    so on some CPUs (AVX-512) it computes with other kernels than nnlab does; ``nnlab sweep
    --executor dask`` then refuses it. This command sets the pins first, then becomes ``dask
    worker`` with your arguments (``--nthreads 1`` unless you give another: one trial per
    thread, one BLAS thread per trial).

    Example: nnlab worker tcp://192.168.1.10:8786
    Example: nnlab worker --scheduler-file scheduler.json --nthreads 2
    """
    from ..errors import ConfigError

    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("nnlab worker needs dask.distributed: pip install 'nnlab[dask]'") from None
    args = list(ctx.args)
    if not any(a == "--nthreads" or a.startswith("--nthreads=") for a in args):
        args += ["--nthreads", "1"]
    sys.stdout.flush()
    # importing nnlab set OPENBLAS_CORETYPE and NumPy's disabled features in this process's
    # environment (runtime/pinning.py); the worker inherits them before it loads NumPy
    os.execv(sys.executable, [sys.executable, "-m", "distributed.cli.dask_worker", *args])
