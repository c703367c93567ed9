"""Several threads for one trial, with the bytes of one: :class:`Threads`.

Every trial calls BLAS with one thread: OpenBLAS's own threading gives other bytes than
its one-thread kernels (measured). A single ``nnlab run`` still uses every core by entering
``Threads(n)``, which computes the operations of :mod:`nnlab.nn.ops` so that each output
element is produced by the same one-thread code, in the same order, as without the split;
the parts run on a small thread pool (NumPy and OpenBLAS release the GIL) and the caller's
thread does the first part itself. Everything the pool learns (which shapes are worth
splitting, how large the caller's part should be, whether the loaded BLAS keeps bytes under
a split) belongs to the object, and goes with it.

Matrix products (:meth:`Threads.matmul`). OpenBLAS computes an element of C = A @ B with a
kernel chosen by the element's position in a block of rows of C (for row-major arrays), and
the sum over the inner dimension in an order that depends only on that dimension. Measured
on its Haswell kernels (the ones nnlab pins): splitting C's rows at a multiple of 12
(float32) or 8 (float64) gives byte-identical parts; a part of one row does not (NumPy then
calls gemv), and splitting C's columns does not at any alignment. So products are cut only
by rows, at multiples of :data:`ROW_BLOCK`, into parts of at least one block, never in the
summed dimension: rows of X @ W by batch rows, X^T @ dY by input features (never by the
batch it sums over), dY @ W^T by batch rows. Before the first split of a dtype the rule is
checked on the loaded BLAS (:meth:`Threads.exact`): where it fails (other kernels: an
AVX-512 machine with ``NNLAB_NATIVE_KERNELS=1``, another architecture) products stay whole.

Element-wise updates (:meth:`Threads.elementwise`: the optimizer's step over every
parameter) run as one split, the arrays laid end to end and cut into contiguous pieces dealt
out in one handoff: +, -, *, / and sqrt are correctly rounded, so each element's bytes do not
depend on where the pieces start (save a NaN's sign bit where two NaNs meet: see kernels.py).
:meth:`Threads.beside` runs a dense layer's weight gradient beside its input gradient.

Handoffs cost: waking a sleeping thread takes 20-60 µs on a VM (measured), the caller's own
part starts at once. So the caller takes a larger part, sized so that the other threads end
just before it and it never has to sleep on them: each product shape keeps its own lead,
one block more after a wait, one less when the others idled (where the cuts fall does not
change the bytes). Small work always runs whole, and larger work is split only while
splitting has measured faster for that shape (both ways timed, the other retried every
:data:`RETRY`-th call).

Nested use is serial: the pool's threads, and the caller while it does its own share, see
:mod:`nnlab.nn.ops`' serial default. Sweeps run one thread per trial (``Threads(1)``).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..nn import ops

ROW_BLOCK = {np.dtype(np.float32): 12, np.dtype(np.float64): 8}
MIN_MACS = 1 << 22         # products below 4 M multiply-adds always run whole (measured: slower split)
MIN_DEFER_MACS = 1 << 22   # measured: a 256x32x128 weight gradient (1 M) is faster here than handed off
MIN_ELEMENTS = 1 << 16     # likewise element-wise work below 64 K elements
AUTO = True                # split only when splitting has been faster (False: always; tests)
RETRY = 50                 # every RETRY-th call runs the way not chosen, to keep both timings current
PIECE = 1 << 12            # element-wise work is cut at multiples of this many elements


class Threads:
    """Up to ``n`` threads for one trial's work; ``with Threads(n):`` makes it the backend of
    :mod:`nnlab.nn.ops` for the block and shuts its pool down after. ``auto=False`` splits
    every work big enough instead of timing both ways (default: :data:`AUTO`)."""

    def __init__(self, n: int = 1, auto: bool | None = None):
        self.n = max(1, int(n))
        self.auto = AUTO if auto is None else auto
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()        # per thread: pending `beside` work, pool-thread mark
        self._exact: dict[np.dtype, bool] = {}
        self.lead: dict[Hashable, int] = {}     # extra blocks the caller takes, per shape of split work
        self.timings: dict[Hashable, list] = {}  # per work: [seconds whole, seconds split (moving averages), calls]

    def __enter__(self) -> Threads:
        self._token = ops._backend.set(self)
        return self

    def __exit__(self, *exc) -> None:
        ops._backend.reset(self._token)
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    # ------------------------------------------------------------ the pool

    def _get_pool(self) -> ThreadPoolExecutor:
        """The other threads: the caller is the first."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max(1, self.n - 1), thread_name_prefix="nnlab", initializer=self._mark_worker)
        return self._pool

    def _mark_worker(self) -> None:
        self._local.worker = True

    def serial(self) -> bool:
        return self.n < 2 or getattr(self._local, "worker", False)

    @contextmanager
    def _as_worker(self) -> Iterator[None]:
        """The caller while it does a pool's share of work: what it runs computes whole."""
        before = getattr(self._local, "worker", False)
        self._local.worker = True
        try:
            with ops.using(ops.SERIAL):
                yield
        finally:
            self._local.worker = before

    def _submit(self, fn: Callable, *args) -> Future:
        """fn(*args) on the pool, with the caller's NumPy error state (it is per thread)."""
        errors = np.geterr()

        def run():
            with np.errstate(**errors):
                return fn(*args)
        return self._get_pool().submit(run)

    # ------------------------------------------------------------ the operations of nn.ops

    def map_ordered(self, fn: Callable, items: list) -> list:
        """``[fn(i) for i in items]``, the items taken in turn by the caller and the pool's
        threads (results in item order); serial with one thread, one item, or inside the pool."""
        if self.serial() or len(items) < 2:
            return [fn(i) for i in items]
        results: list = [None] * len(items)
        order = itertools.count()         # next() is atomic under the GIL
        stop = threading.Event()          # set when a thread fails: the others take no new item

        def drain() -> None:
            try:
                while not stop.is_set() and (i := next(order)) < len(items):
                    results[i] = fn(items[i])
            except BaseException:
                stop.set()
                raise
        futures = [self._submit(drain) for _ in range(min(self.n, len(items)) - 1)]
        try:
            with self._as_worker():
                drain()
        except BaseException:
            futures_wait(futures)   # the caller's failure (or Ctrl-C) is the one raised
            raise
        _wait(futures)
        return results

    @contextmanager
    def gathering(self) -> Iterator[None]:
        """Within it, :meth:`beside` may run work on the pool beside this thread's; all of it
        is done when the block ends (and its first failure raised, unless the block itself
        raised: a Ctrl-C or error of this thread is never masked by the pool's)."""
        outer = getattr(self._local, "pending", None)
        self._local.pending = []
        try:
            yield
        except BaseException:
            futures_wait(self._local.pending)
            raise
        else:
            _wait(self._local.pending)
        finally:
            self._local.pending = outer

    def beside(self, fn: Callable, macs: int) -> None:
        """fn() on the pool, to overlap this thread's next work, inside :meth:`gathering` with
        several threads and when it is worth a handoff (``macs`` at least
        :data:`MIN_DEFER_MACS`); otherwise at once."""
        pending = getattr(self._local, "pending", None)
        if pending is None or self.serial() or macs < MIN_DEFER_MACS:
            fn()
            return
        pending.append(self._submit(fn))

    def matmul(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``np.matmul(a, b, out=out)`` for 2-D a and b, its rows computed on up to ``n``
        threads; the bytes are those of the whole product."""
        rows = self.split_rows(a.shape[0], a.shape[1], b.shape[1], a.dtype) if a.dtype == b.dtype else None
        if rows is None:
            return np.matmul(a, b, out=out)
        key = (a.shape[0], a.shape[1], b.shape[1])
        split = self._split_wins(key)
        start = time.perf_counter()
        if not split:
            out = np.matmul(a, b, out=out)
        else:
            if out is None:
                out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
            block = ROW_BLOCK[a.dtype]
            result = out
            self.run_parts(lambda s: np.matmul(a[s], b, out=result[s]),
                           [(s, (s.stop - s.start) // block) for s in rows], key)
        self._took(key, split, time.perf_counter() - start)
        return out

    def elementwise(self, jobs: list[ops.Job]) -> None:
        """``fn(*arrays)`` for every job, the elements of all of them dealt out to the threads
        in one handoff, each thread a contiguous run of them (pieces of the flattened, equally
        shaped arrays of one job or more). A job whose arrays are not all C-contiguous runs
        whole (a flat view of them would be a copy)."""
        flat_jobs = []
        for fn, arrays in jobs:
            if all(x.flags.c_contiguous for x in arrays):
                flat_jobs.append((fn, [x.reshape(-1) for x in arrays]))   # views: pieces update the arrays
            else:
                fn(*arrays)
        total = sum(flat[0].size for _, flat in flat_jobs)
        key = ("elementwise", total)
        split = not self.serial() and total >= MIN_ELEMENTS and self._split_wins(key)
        start = time.perf_counter()
        if not split:
            for fn, flat in flat_jobs:
                fn(*flat)
            self._took(key, False, time.perf_counter() - start)
            return
        starts = np.cumsum([0] + [flat[0].size for _, flat in flat_jobs])

        def run(part: slice) -> None:
            """Elements part.start:part.stop of the jobs laid end to end."""
            for (fn, flat), begin, end in zip(flat_jobs, starts, starts[1:], strict=False):
                lo, hi = max(part.start, begin), min(part.stop, end)
                if lo < hi:
                    piece = slice(lo - begin, hi - begin)
                    fn(*(x[piece] for x in flat))
        parts = cuts(total, PIECE, self.n, self.lead.setdefault(key, 0))
        self.run_parts(run, [(s, (s.stop - s.start) // PIECE) for s in parts], key)
        self._took(key, True, time.perf_counter() - start)

    # ------------------------------------------------------------ splitting

    def split_rows(self, m: int, k: int, n: int, dtype) -> list[slice] | None:
        """Row slices for an (m, k) @ (k, n) product, or None when it should run whole."""
        block = ROW_BLOCK.get(np.dtype(dtype))
        if self.serial() or block is None or min(k, n) < 2 or m < 2 * block or m * k * n < MIN_MACS:
            return None
        if not self.exact(dtype):
            return None
        return cuts(m, block, self.n, self.lead.setdefault((m, k, n), 0))

    def run_parts(self, fn: Callable, parts: Sequence[tuple[Any, int]], key: Hashable = None) -> None:
        """fn(part) for every (part, blocks) pair: the first in this thread, the others on the
        pool. With a ``key``, adjusts that work's lead: +1 when this thread had to wait for the
        others, -1 when they all ended over two blocks' time before it (its own time per block)."""
        def timed(part):
            fn(part)
            return time.perf_counter()
        start = time.perf_counter()
        futures = [self._submit(timed, part) for part, _ in parts[1:]]
        try:
            fn(parts[0][0])
        except BaseException:
            futures_wait(futures)   # their parts write into the caller's arrays; its failure is the one raised
            raise
        mine = time.perf_counter()
        waited = not all(f.done() for f in futures)
        _wait(futures)
        if key is None or key not in self.lead or not futures:
            return
        if waited:
            self.lead[key] = min(self.lead[key] + 1, sum(blocks for _, blocks in parts))
        else:
            per_block = (mine - start) / max(1, parts[0][1])
            if mine - max(f.result() for f in futures) > 2 * per_block:
                self.lead[key] -= 1

    def _split_wins(self, key: Hashable) -> bool:
        """Whether to split this work now: whichever way has been faster on it (moving averages
        of both), trying each first and the other one every RETRY-th call (the cost of a
        handoff, and of the work itself, varies by machine and as training goes: Adam slows 2-4
        times once moments decay to subnormal numbers)."""
        if not self.auto:
            return True
        timing = self.timings.setdefault(key, [None, None, 0])
        timing[2] += 1
        whole, split = timing[0], timing[1]
        if whole is None or split is None:
            return whole is not None
        return (split < whole) != (timing[2] % RETRY == 0)

    def _took(self, key: Hashable, split: bool, seconds: float) -> None:
        timing = self.timings.get(key)
        if timing is not None:
            i = 1 if split else 0
            timing[i] = seconds if timing[i] is None else 0.8 * timing[i] + 0.2 * seconds

    def exact(self, dtype) -> bool:
        """Whether splitting rows gives the whole product's bytes with the loaded BLAS: checked
        once per dtype on shapes like the trainer's (transposed operands included), every cut."""
        dtype = np.dtype(dtype)
        if dtype not in self._exact:
            self._exact[dtype] = rows_split_exactly(dtype)
        return self._exact[dtype]


def _wait(futures: list[Future]) -> None:
    """Wait for every future (even after one failed), then raise the first failure (the
    pool's threads never get a Ctrl-C: only the caller does)."""
    error = None
    for future in futures:
        try:
            future.result()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others are done
            error = error or exc
    if error is not None:
        raise error


def cuts(n: int, block: int, parts: int, lead: int = 0) -> list[slice]:
    """Split ``range(n)`` into at most ``parts`` slices that start at multiples of ``block``
    and hold at least ``block`` items each, as even as that allows, the first with ``lead``
    blocks more (or fewer) than an even share."""
    blocks = n // block
    parts = max(1, min(parts, blocks))
    if parts == 1:
        return [slice(0, n)]
    first = min(max(1, round(blocks / parts) + lead), blocks - parts + 1)
    rest = blocks - first
    bounds = [0] + [block * (first + round(rest * i / (parts - 1))) for i in range(parts - 1)] + [n]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


def rows_split_exactly(dtype: np.dtype) -> bool:
    """Whether the loaded BLAS computes a product's rows with the same bytes when they are cut
    at every multiple of ROW_BLOCK (one BLAS thread; plain and transposed operands)."""
    from threadpoolctl import threadpool_limits

    block = ROW_BLOCK[dtype]
    rng = np.random.default_rng(0)
    with threadpool_limits(1):
        for m, k, n in ((10 * block + 5, 97, 33), (4 * block, 300, 130), (6 * block + 1, 40, 2)):
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            bt = np.asfortranarray(b)          # a non-C-contiguous operand, as W.T and x.T are
            for left, right in ((a, b), (a, bt), (np.asfortranarray(a), b)):
                whole = np.matmul(left, right)
                for cut in range(block, m - block + 1, block):
                    parts = np.concatenate([np.matmul(left[:cut], right), np.matmul(left[cut:], right)])
                    if parts.tobytes() != whole.tobytes():
                        return False
    return True
