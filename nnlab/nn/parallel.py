"""Several threads for one trial, with the bytes of one.

Every trial calls BLAS with one thread: OpenBLAS's own threading gives other bytes than
its one-thread kernels (measured). A single ``nnlab run`` still uses every core, by
splitting work so that each output element is computed by the same one-thread code, in the
same order, as without the split; the parts run on a small thread pool (NumPy and OpenBLAS
release the GIL) and the caller's thread does the first part itself.

Matrix products (:func:`matmul`). OpenBLAS computes an element of C = A @ B with a kernel
chosen by the element's position in a block of rows of C (for row-major arrays), and the
sum over the inner dimension in an order that depends only on that dimension. Measured on
its Haswell kernels (the ones nnlab pins): splitting C's rows at a multiple of 12 (float32)
or 8 (float64) gives byte-identical parts; a part of one row does not (NumPy then calls
gemv), and splitting C's columns does not at any alignment. So :func:`matmul` only cuts
rows, at multiples of :data:`ROW_BLOCK`, into parts of at least one block, never the
summed dimension: rows of X @ W by batch rows, X^T @ dY by input features (never by the
batch it sums over), dY @ W^T by batch rows. Before the first split of a dtype it checks
the rule on the loaded BLAS (:func:`exact`): where it fails (other kernels: an AVX-512
machine with ``NNLAB_NATIVE_KERNELS=1``, another architecture) products stay whole.

Element-wise updates (:func:`elementwise`) are split into contiguous pieces of the flat
arrays: +, -, *, / and sqrt are correctly rounded, so each element's bytes do not depend on
where the pieces start.

Nested use is serial: code already running on the pool (an evaluation chunk) computes its
products whole. Sweeps keep one thread per trial (``set_threads(1)``, the default).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROW_BLOCK = {np.dtype(np.float32): 12, np.dtype(np.float64): 8}
MIN_MACS = 1 << 24         # measured: below ~16 M multiply-adds two half products are slower than one
MIN_ELEMENTS = 1 << 15     # likewise for element-wise updates

_threads = 1
_pool: ThreadPoolExecutor | None = None
_local = threading.local()
_exact: dict[np.dtype, bool] = {}


def set_threads(n: int) -> None:
    """Use up to ``n`` threads for one trial's work in this process (1: everything serial)."""
    global _threads, _pool
    _threads = max(1, int(n))
    if _pool is not None:
        _pool.shutdown(wait=False)
        _pool = None


def threads() -> int:
    return _threads


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(_threads, thread_name_prefix="nnlab", initializer=_mark_worker)
    return _pool


def _mark_worker() -> None:
    _local.worker = True


def _serial() -> bool:
    return _threads < 2 or getattr(_local, "worker", False)


def map_ordered(fn: Callable, items: list) -> list:
    """``[fn(i) for i in items]`` on the pool (results in item order); serial with one thread,
    one item, or inside the pool. NumPy's error state is per thread: workers get the caller's."""
    if _serial() or len(items) < 2:
        return [fn(i) for i in items]
    errors = np.geterr()

    def run(i):
        with np.errstate(**errors):
            return fn(i)
    return list(_get_pool().map(run, items))


def _run_parts(fn: Callable, parts: list) -> None:
    """fn(part) for every part: the first in this thread, the others on the pool."""
    errors = np.geterr()

    def run(part):
        with np.errstate(**errors):
            fn(part)
    futures = [_get_pool().submit(run, part) for part in parts[1:]]
    try:
        fn(parts[0])
    finally:
        for future in futures:
            future.result()


def cuts(n: int, block: int, parts: int) -> list[slice]:
    """Split ``range(n)`` into at most ``parts`` slices that start at multiples of ``block``
    and hold at least ``block`` items each, as even as that allows."""
    blocks = n // block
    parts = max(1, min(parts, blocks))
    bounds = [block * round(blocks * i / parts) for i in range(parts)] + [n]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


def split_rows(m: int, k: int, n: int, dtype) -> list[slice] | None:
    """Row slices for an (m, k) @ (k, n) product, or None when it should run whole."""
    block = ROW_BLOCK.get(np.dtype(dtype))
    if _serial() or block is None or min(k, n) < 2 or m < 2 * block or m * k * n < MIN_MACS:
        return None
    if not exact(dtype):
        return None
    return cuts(m, block, _threads)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(a, b, out=out)`` for 2-D a and b, its rows computed on up to
    :func:`threads` threads; the bytes are those of the whole product."""
    rows = split_rows(a.shape[0], a.shape[1], b.shape[1], a.dtype) if a.dtype == b.dtype else None
    if rows is None:
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    _run_parts(lambda s: np.matmul(a[s], b, out=out[s]), rows)
    return out


def elementwise(fn: Callable, *arrays: np.ndarray) -> None:
    """``fn(*pieces)`` over contiguous pieces of the flattened, equally shaped ``arrays``
    (``fn`` updates them in place; it must be element-wise)."""
    size = arrays[0].size
    if _serial() or size < 2 * MIN_ELEMENTS or not all(x.flags.c_contiguous for x in arrays):
        fn(*arrays)
        return
    flat = [x.reshape(-1) for x in arrays]   # views (C-contiguous), so the pieces update the arrays
    _run_parts(lambda s: fn(*(x[s] for x in flat)), cuts(size, 1024, _threads))


def exact(dtype) -> bool:
    """Whether splitting rows gives the whole product's bytes with the loaded BLAS: checked
    once per dtype on shapes like the trainer's (transposed operands included), every cut."""
    dtype = np.dtype(dtype)
    if dtype not in _exact:
        _exact[dtype] = _check(dtype)
    return _exact[dtype]


def _check(dtype: np.dtype) -> bool:
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
