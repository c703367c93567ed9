"""The few operations whose work may be shared between threads, and nothing about threads.

Layers, the model and the optimizers call :func:`matmul`, :func:`elementwise`,
:func:`map_ordered` and :func:`beside`; by default each runs at once in the calling thread
(``np.matmul``, a loop, a list). A trial that may use several cores enters a backend
(``runtime.threads.Threads``), which computes the same operations on a pool with the bytes
of one thread. The backend is held in a :class:`contextvars.ContextVar`: it belongs to the
code that entered it, and work running on the pool's own threads sees the default, so
nested use is serial.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

Job = tuple[Callable, tuple[np.ndarray, ...]]


class Serial:
    """Everything at once, in the calling thread."""

    def matmul(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.matmul(a, b, out=out)

    def elementwise(self, jobs: list[Job]) -> None:
        for fn, arrays in jobs:
            fn(*arrays)

    def map_ordered(self, fn: Callable, items: list) -> list:
        return [fn(item) for item in items]

    def beside(self, fn: Callable, macs: int) -> None:
        fn()

    @contextmanager
    def gathering(self) -> Iterator[None]:
        yield


SERIAL = Serial()
_backend: ContextVar = ContextVar("nnlab_ops_backend", default=SERIAL)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(a, b, out=out)`` for 2-D arrays (the backend may compute blocks of rows apart)."""
    return _backend.get().matmul(a, b, out)


def elementwise(jobs: list[Job]) -> None:
    """``fn(*arrays)`` for every job. Each ``fn`` updates its arrays in place, element by element
    (so any cut of the elements into pieces gives the same bytes)."""
    _backend.get().elementwise(jobs)


def map_ordered(fn: Callable, items: list) -> list:
    """``[fn(item) for item in items]``, results in item order."""
    return _backend.get().map_ordered(fn, items)


def beside(fn: Callable, macs: int) -> None:
    """``fn()``, which the backend may run beside the caller's next work until the enclosing
    :func:`gathering` block ends (``macs``: its multiply-adds). ``fn`` must not read what
    that work writes, nor write what it reads."""
    _backend.get().beside(fn, macs)


@contextmanager
def gathering() -> Iterator[None]:
    """Every :func:`beside` call inside the block is done when it ends."""
    with _backend.get().gathering():
        yield


@contextmanager
def using(backend) -> Iterator[None]:
    """Run the block's operations on ``backend``."""
    token = _backend.set(backend)
    try:
        yield
    finally:
        _backend.reset(token)
