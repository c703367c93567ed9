"""One trial on several threads gives the bytes of one thread: products split by rows of the
result (never by the summed dimension), element-wise updates split into pieces."""

import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from nnlab.config import load_config
from nnlab.nn import ops
from nnlab.results.manifest import trial_files
from nnlab.runtime import threads as parallel
from nnlab.sweep.plan import plan
from nnlab.train.loop import batch_size
from nnlab.train.setup import prepare
from nnlab.train.trial import run_trial

from conftest import ROOT, arithmetic_differs, mnist_available


@pytest.fixture
def threads(monkeypatch):
    """``use(n)``: a ``Threads(n)`` is the backend of nn.ops for the rest of the test (the one
    before is closed); back to the serial default afterwards. BLAS itself runs one thread per
    call, as in every trial (train/trial.py); OpenBLAS's own threads would give other bytes
    whatever the split. Every work big enough is split (AUTO off): a trial would first time
    both ways and keep the faster."""
    monkeypatch.setattr(parallel, "AUTO", False)
    current: list = []

    def use(n):
        if current:
            current.pop().__exit__(None, None, None)
        backend = parallel.Threads(n)
        current.append(backend.__enter__())
        return backend
    with threadpool_limits(1):
        yield use
        if current:
            current.pop().__exit__(None, None, None)


@pytest.fixture
def count_splits(monkeypatch):
    """Counts products and updates that really ran in parts (a test that never split proves nothing)."""
    calls = []
    real = parallel.Threads.run_parts

    def spy(self, fn, parts, *args):
        calls.append(len(parts))
        return real(self, fn, parts, *args)
    monkeypatch.setattr(parallel.Threads, "run_parts", spy)
    return calls


def needs_row_splits(*dtypes):
    """Skip a test of split products where the loaded BLAS does not keep bytes when rows are
    split (OpenBLAS's own AVX-512 kernels, NNLAB_NATIVE_KERNELS=1): nnlab keeps every product
    whole there, as test_a_blas_that_breaks_the_rule_keeps_products_whole checks."""
    from threadpoolctl import threadpool_info

    broken = [np.dtype(d).name for d in dtypes if not parallel.rows_split_exactly(np.dtype(d))]
    if broken:
        kernels = sorted({str(i.get("architecture")) for i in threadpool_info() if i.get("user_api") == "blas"})
        pytest.skip(f"the loaded BLAS ({', '.join(kernels)} kernels) gives other bytes when {' and '.join(broken)} "
                    f"products are split by rows, so nnlab computes them whole")


def test_cuts_start_on_blocks_and_keep_a_block_each():
    for n in range(1, 400):
        for parts in (1, 2, 3):
            slices = parallel.cuts(n, 12, parts)
            assert slices[0].start == 0 and slices[-1].stop == n
            assert all(a.stop == b.start for a, b in zip(slices, slices[1:], strict=False))
            assert all(s.start % 12 == 0 for s in slices)
            assert len(slices) == max(1, min(parts, n // 12))
            if n >= 12:
                assert all(s.stop - s.start >= 12 for s in slices)
    assert parallel.cuts(128, 12, 2) == [slice(0, 60), slice(60, 128)]


def test_cuts_give_the_caller_its_lead_and_every_other_part_a_block():
    assert parallel.cuts(128, 12, 2, lead=1) == [slice(0, 72), slice(72, 128)]
    assert parallel.cuts(128, 12, 2, lead=-2) == [slice(0, 36), slice(36, 128)]
    assert parallel.cuts(128, 12, 2, lead=50) == [slice(0, 108), slice(108, 128)]
    assert parallel.cuts(128, 12, 2, lead=-50) == [slice(0, 12), slice(12, 128)]
    assert parallel.cuts(120, 12, 3, lead=2) == [slice(0, 60), slice(60, 84), slice(84, 120)]


def test_the_lead_grows_after_a_wait_and_shrinks_when_the_others_idle(threads, monkeypatch):
    """The caller's part is sized so that the others end just before it (waking it costs a
    sleep); a fake clock stands in for the seconds each part took."""
    import threading
    import types

    backend = threads(2)
    key = ("test", 1)
    backend.lead[key] = 0

    def one_waits_for_the_other(waiter):
        """Parts where ``waiter`` ends only after the other part has."""
        other_done = threading.Event()

        def part(name):
            if name == waiter:
                assert other_done.wait(10)
            else:
                other_done.set()
        return part
    backend.run_parts(one_waits_for_the_other("worker"), [("caller", 5), ("worker", 5)], key)
    assert backend.lead[key] == 1              # the caller finished first and had to wait

    main = threading.main_thread()
    clock = iter([0.0, 10.0])                  # the caller: start, its part ends
    monkeypatch.setattr(parallel, "time", types.SimpleNamespace(
        perf_counter=lambda: next(clock) if threading.current_thread() is main else 1.0))
    backend.run_parts(one_waits_for_the_other("caller"), [("caller", 5), ("worker", 5)], key)
    assert backend.lead[key] == 0              # the worker idled 9 s, over two of the caller's 2 s blocks


def test_a_work_is_split_when_splitting_has_been_faster_and_both_ways_are_retried(monkeypatch):
    """The choice is made from time measured on this machine, for each shape of work; the bytes
    are the same either way."""
    backend = parallel.Threads(2, auto=True)
    key = ("test", 2)
    choices = []
    for _ in range(2 * parallel.RETRY):
        split = backend._split_wins(key)
        choices.append(split)
        backend._took(key, split, 1.0 if split else 3.0)      # split takes 1 s, whole 3 s
    assert choices[:2] == [False, True]                       # each way timed first
    retried = [i for i, split in enumerate(choices, 1) if i > 2 and not split]
    assert retried == [parallel.RETRY, 2 * parallel.RETRY]    # whole again every RETRY-th call only
    for _ in range(30):                                       # splitting becomes slow (handoffs got dearer)
        backend._took(key, True, 5.0)
    assert backend._split_wins(key) is False


def test_deferred_work_runs_beside_the_caller_and_is_done_when_the_block_ends(threads):
    import threading

    threads(2)
    ran_on = []
    with ops.gathering():
        ops.beside(lambda: ran_on.append(threading.current_thread().name), macs=1 << 30)
        ops.beside(lambda: ran_on.append("small"), macs=1)           # not worth a handoff: at once
        assert "small" in ran_on
    assert ran_on[-1].startswith("nnlab") or ran_on[0].startswith("nnlab")
    assert len(ran_on) == 2
    ops.beside(lambda: ran_on.append(threading.current_thread().name), macs=1 << 30)   # outside: at once
    assert ran_on[-1] == threading.current_thread().name


def test_a_failure_in_deferred_work_is_raised_after_all_of_it_is_done(threads):
    threads(2)
    done = []

    def fail():
        raise FloatingPointError("overflow in a deferred gradient")
    with pytest.raises(FloatingPointError, match="deferred gradient"), ops.gathering():
        ops.beside(fail, macs=1 << 30)
        ops.beside(lambda: done.append(1), macs=1 << 30)
    assert done == [1]


def test_map_ordered_keeps_item_order_and_computes_each_item_whole(threads, monkeypatch, count_splits):
    """The caller takes items too; whatever runs an item computes its products whole."""
    needs_row_splits(np.float32)
    monkeypatch.setattr(parallel, "MIN_MACS", 0)
    threads(2)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((96, 50)).astype(np.float32)
    b = rng.standard_normal((50, 40)).astype(np.float32)
    results = ops.map_ordered(lambda i: (i, ops.matmul(a * np.float32(i), b)), list(range(40)))
    assert [i for i, _ in results] == list(range(40))
    assert all(product.tobytes() == ((a * np.float32(i)) @ b).tobytes() for i, product in results)
    assert count_splits == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_products_equal_whole_ones_for_random_shapes(dtype, threads, monkeypatch, count_splits):
    """Any shape a user's model may have: rows of C cut at multiples of the kernel block, on
    C-ordered and transposed operands (x.T @ dY and dY @ W.T are transposed views)."""
    needs_row_splits(dtype)
    monkeypatch.setattr(parallel, "MIN_MACS", 0)
    rng = np.random.default_rng(7)
    for n_threads in (2, 3):
        threads(n_threads)
        for _ in range(60):
            m, k, n = (int(v) for v in rng.integers(2, [700, 1000, 300]))
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            for left, right in ((a, b), (np.asfortranarray(a), b), (a, np.asfortranarray(b))):
                whole = np.matmul(left, right)
                assert ops.matmul(left, right).tobytes() == whole.tobytes(), (m, k, n)
                out = np.empty_like(whole)
                assert ops.matmul(left, right, out=out) is out and out.tobytes() == whole.tobytes()
    assert sum(count_splits) > 200


def _model_bytes(setup, xb, tb) -> bytes:
    """Outputs and every gradient of one training forward/backward, as bytes."""
    model, objective = setup.model, setup.objective
    state = model.state_dict()          # batch norm's running statistics move in training
    out, caches = objective.outputs(model, xb, training=True, rng=np.random.default_rng(3))
    _, cache = objective.loss.forward(out, tb)
    model.backward(objective.loss.backward(cache), caches)
    evaluation, _ = objective.outputs(model, xb)
    model.load_state_dict(state)
    return out.tobytes() + evaluation.tobytes() + b"".join(g.tobytes() for g in model.grads.values())


def _shipped_trials():
    """Every distinct model, batch and data of configs/*.yaml (sweeps expanded)."""
    from nnlab.config import read_yaml

    seen = {}
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        data, lines = read_yaml(path)
        data.setdefault("name", path.stem)
        for trial in plan(data, [], str(path), lines).trials:
            exp = trial.experiment
            needs = exp.data.name in ("mnist", "fashion_mnist")
            key = json.dumps([exp.data.model_dump(mode="json"), exp.model.model_dump(mode="json"),
                              exp.train.batch_size, exp.train.dtype], sort_keys=True, default=str)
            seen.setdefault(key, (path.name, exp, needs))
    return list(seen.values())


def test_every_shipped_model_computes_the_same_bytes_on_two_threads(threads, count_splits):
    """Each product the trainer runs for the shipped configs (a full batch, the last short
    batch, an evaluation chunk) gives the same bytes on 1 and 2 threads."""
    needs_row_splits(np.float32, np.float64)
    checked = []
    for name, exp, needs_mnist in _shipped_trials():
        if needs_mnist and not mnist_available():
            continue
        setup = prepare(exp)
        x, t = setup.splits["train"]
        batch = batch_size(setup)
        sizes = {batch, len(x) % batch, min(len(x), setup.model.eval_chunk)} - {0, 1}
        for size in sorted(sizes):
            xb, tb = x[:size], t[:size]
            threads(1)
            one = _model_bytes(setup, xb, tb)
            threads(2)
            assert _model_bytes(setup, xb, tb) == one, (name, size)
        checked.append(name)
    assert {"xor.yaml", "spirals.yaml", "cnn_strokes.yaml"} <= set(checked)
    assert sum(count_splits) > 0


def test_a_blas_that_breaks_the_rule_keeps_products_whole(threads, monkeypatch, count_splits):
    """Other kernels (NNLAB_NATIVE_KERNELS=1 on an AVX-512 machine) may not keep bytes when
    rows are cut: the first split of a dtype checks, and a failure means one thread."""
    monkeypatch.setattr(parallel, "rows_split_exactly", lambda dtype: False)
    threads(2)
    a = np.ones((512, 784), np.float32)
    b = np.ones((784, 256), np.float32)
    assert ops.matmul(a, b).tobytes() == (a @ b).tobytes()
    assert count_splits == []


def _fingerprint(config, threads=1):
    records = run_trial(load_config(ROOT / "configs" / config), threads=threads)
    assert records.summary["status"] == "complete", records.summary.get("error")
    trial_files(records)
    return records.summary


@pytest.mark.parametrize("config", ["cnn_strokes.yaml", "spirals.yaml"])
def test_a_trial_on_two_threads_has_the_one_thread_fingerprint(config, count_splits, monkeypatch):
    """Small products normally run whole; here every product and update that can be split is."""
    needs_row_splits(np.float32, np.float64)
    one = _fingerprint(config)
    monkeypatch.setattr(parallel, "AUTO", False)
    monkeypatch.setattr(parallel, "MIN_MACS", 0)
    monkeypatch.setattr(parallel, "MIN_DEFER_MACS", 0)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    with threadpool_limits(1):
        two = _fingerprint(config, threads=2)
    assert two["fingerprint"] == one["fingerprint"]
    assert one["environment"]["threads"] == 1 and two["environment"]["threads"] == 2
    assert sum(count_splits) > 1000
    if arithmetic_differs() is None:
        golden = json.loads((ROOT / "tests" / "fingerprints.json").read_text())["runs"][config[:-5]]
        assert two["fingerprint"] == golden


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "numpy"])
def test_one_split_over_every_parameter_gives_the_bytes_of_one_thread(dtype, fused, threads, monkeypatch,
                                                                       count_splits):
    """The optimizer's jobs, laid end to end and cut anywhere (mid-parameter, at any lead),
    update every element as one thread does, with the fused kernel and with NumPy."""
    from nnlab.nn.optim import Adam
    from nnlab.runtime import kernels

    if fused and not kernels.enabled():
        pytest.skip("Numba is not installed (or NNLAB_JIT=0): the fused kernel is not used here")
    if not fused:
        monkeypatch.setattr(kernels, "_kernels", {})
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "PIECE", 7)       # cuts that fall inside vectors and parameters
    rng = np.random.default_rng(5)
    shapes = [(784, 256), (256,), (256, 128), (128,), (128, 10), (10,), (3,)]

    def steps(n_threads, lead):
        backend = threads(n_threads)
        backend.lead[("elementwise", sum(int(np.prod(s)) for s in shapes))] = lead
        params = {str(i): np.random.default_rng(i).standard_normal(s).astype(dtype) for i, s in enumerate(shapes)}
        opt = Adam(lr=0.01)
        for step in range(3):
            grads = {k: rng_grads[step][k] for k in params}
            opt.step(params, grads)
        return b"".join(w.tobytes() for w in params.values())
    rng_grads = [{str(i): rng.standard_normal(s).astype(dtype) for i, s in enumerate(shapes)} for _ in range(3)]
    one = steps(1, 0)
    for n_threads, lead in ((2, 0), (2, 1000), (2, -3), (3, 5)):
        assert steps(n_threads, lead) == one, (n_threads, lead)
    assert sum(count_splits) >= 8


def test_element_wise_pieces_of_non_contiguous_arrays_run_whole(threads, monkeypatch):
    """Review: reshape(-1) of a Fortran-ordered array is a copy, so a split in-place update was lost."""
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    threads(2)
    a = np.asfortranarray(np.ones((300, 200)))

    def double(x):
        x *= 2
    ops.elementwise([(double, (a,))])
    assert np.all(a == 2)


class Interrupted(BaseException):
    """Stands in for Ctrl-C (a BaseException the caller alone receives)."""


def test_the_callers_own_failure_is_the_one_raised_after_the_others_finish(threads):
    """Review: a pool part's error replaced the caller's Ctrl-C, so run_trial recorded a failed
    trial instead of stopping."""
    import threading

    backend = threads(2)
    pool_done = threading.Event()

    def part(name):
        if name == "caller":
            assert pool_done.wait(10)
            raise Interrupted()
        pool_done.set()
        raise FloatingPointError("the pool's part failed too")
    with pytest.raises(Interrupted):
        backend.run_parts(part, [("caller", 1), ("pool", 1)])

    def failing():
        raise FloatingPointError("deferred")
    with pytest.raises(Interrupted), ops.gathering():
        ops.beside(failing, macs=1 << 30)
        raise Interrupted()

    def item(i):
        if threading.current_thread() is threading.main_thread():
            raise Interrupted()
        raise FloatingPointError("a pool item")
    with pytest.raises(Interrupted):
        ops.map_ordered(item, list(range(8)))
