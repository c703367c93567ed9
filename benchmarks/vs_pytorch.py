"""Training speed against PyTorch, side by side: the same network, batch, optimizer and float32.

    NNLAB_DATA=../shared/data python benchmarks/vs_pytorch.py [--torch-python PATH] [--epochs 2] [--rounds 2] [--torch-avx2]

For each case (784-256-128-10 at batch 128 and 32, 784-1024-10 at batch 512; ReLU, softmax
cross-entropy, Adam 1e-3, no dropout) it times, alternately in the same run:

* nnlab: the ``train_time_s`` of a real trial (optimizer steps only: forward, loss,
  backward, Adam; evaluation excluded), with the threads ``nnlab run`` uses, and the
  time of one evaluation (train + val + test passes; epoch 0's included in the count) as a
  share of one epoch's training, beside its floor: the same forward passes at the matmul peak;
* PyTorch at its default thread count, the same 54 000 training images, one epoch of
  shuffled mini-batches per timing;

and prints seconds per epoch, the ratio nnlab / PyTorch and GFLOPS against a measured
float32 matmul peak (one 2048^3 product with 1 thread and with every core).

With ``--torch-avx2`` PyTorch is also timed held to AVX2 (ATEN_CPU_CAPABILITY, MKL and
oneDNN limits), the instructions of the kernels nnlab pins: on an AVX-512 machine the
default PyTorch uses AVX-512 and nnlab, for the same bytes everywhere, does not.

PyTorch is optional and need not be in nnlab's environment: ``--torch-python`` names an
interpreter that has it (e.g. a venv made with ``pip install torch==2.13.0``); without
one the PyTorch column is left out. Needs MNIST (NNLAB_DATA, or ``nnlab data fetch mnist``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nnlab  # noqa: F401  (first: importing nnlab pins the kernels before NumPy loads, as for the command)

# isort: split
import numpy as np
from threadpoolctl import threadpool_limits

from nnlab.config import load_config
from nnlab.train.trial import prepare, run_trial

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "mnist.yaml"
EVAL_ROWS = 70_000   # train 54 000 + val 6 000 + test 10 000
CASES = [((256, 128), 128, 0.8), ((256, 128), 32, 0.8), ((1024,), 512, 1.0)]   # hidden, batch, target ratio

TORCH_SCRIPT = r"""
import json, sys, time
import numpy as np, torch
x = torch.from_numpy(np.load(sys.argv[1])); y = torch.from_numpy(np.load(sys.argv[2]))
hidden, batch, epochs = json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.manual_seed(0)
sizes = [x.shape[1], *hidden, 10]
layers = []
for i in range(len(sizes) - 1):
    layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
    if i < len(sizes) - 2:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()
times = []
for epoch in range(epochs + 1):          # the first epoch warms up and is not counted
    order = torch.randperm(len(x))
    start = time.perf_counter()
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    if epoch:
        times.append(time.perf_counter() - start)
print(json.dumps({"epoch_s": sum(times) / len(times), "threads": torch.get_num_threads(),
                  "version": torch.__version__}))
"""


def flops_per_epoch(sizes: list[int], n: int) -> float:
    """Multiply-adds of forward (x W), weight gradient (x^T dY) and input gradient (dY W^T,
    not for the first layer), times 2 FLOPs each."""
    macs = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))
    return 2.0 * n * (2 * macs + sum(a * b for a, b in zip(sizes[1:-1], sizes[2:], strict=False)))


def eval_flops(sizes: list[int], n: int) -> float:
    """FLOPs of the forward passes over train, val and test (n rows in all)."""
    return 2.0 * n * sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))


def matmul_peak(threads: int) -> float:
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    with threadpool_limits(threads):
        a @ a
        best = min(_timed(lambda: a @ a) for _ in range(6))
    return 2 * 2048 ** 3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def nnlab_epoch(hidden, batch: int, epochs: int) -> tuple[float, float, int]:
    """(train seconds per epoch, one evaluation's time (train + val + test passes) as a share
    of one epoch's training, training rows) of a real trial."""
    exp = load_config(CONFIG, [f"model.hidden={list(hidden)}", f"train.batch_size={batch}", "model.dropout=0", "schedule=null",
                               f"train.epochs={epochs}", "train.unit_stats=false"])
    setup = prepare(exp)
    records = run_trial(exp, threads=os.cpu_count() or 1, setup=setup)   # threads: what `nnlab run` uses
    last = records.metrics[-1]
    per_epoch = last["train_time_s"] / epochs
    per_evaluation = last["eval_time_s"] / len(records.metrics)   # epoch 0's row is an evaluation too
    return per_epoch, per_evaluation / per_epoch, len(setup.splits["train"][0])


# PyTorch held to AVX2 (its own kernels, MKL and oneDNN), the instructions nnlab's pinned kernels use
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def torch_epoch(python: str, hidden, batch: int, epochs: int, data: tuple[Path, Path], avx2: bool = False) -> dict:
    env = {**os.environ, **(AVX2_ONLY if avx2 else {})}
    out = subprocess.run([python, "-c", TORCH_SCRIPT, str(data[0]), str(data[1]), json.dumps(list(hidden)),
                          str(batch), str(epochs)], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


def torch_python(given: str | None) -> str | None:
    for python in [given] if given else [sys.executable]:
        probe = subprocess.run([python, "-c", "import torch"], capture_output=True)
        if probe.returncode == 0:
            return python
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", help="interpreter with torch installed (default: this one)")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="alternating nnlab/PyTorch measurements per case")
    parser.add_argument("--case", type=int, action="append", help="only these cases (0, 1, 2)")
    parser.add_argument("--torch-avx2", action="store_true",
                        help="also time PyTorch held to AVX2, the instructions of nnlab's pinned kernels "
                             "(differs from the default on AVX-512 machines)")
    args = parser.parse_args()
    from nnlab.data.idx import find_idx

    if find_idx("mnist", None) is None:
        raise SystemExit("MNIST not found: set NNLAB_DATA to a folder holding mnist/ or run `nnlab data fetch mnist`")
    python = torch_python(args.torch_python)
    peak1, peak_all = matmul_peak(1), matmul_peak(os.cpu_count() or 1)
    print(f"float32 matmul peak (2048^3): {peak1:.1f} GFLOPS on 1 thread, {peak_all:.1f} on {os.cpu_count()}")
    if python is None:
        print("PyTorch not found (--torch-python PATH to an interpreter that has it): nnlab figures only")
    with tempfile.TemporaryDirectory() as tmp:
        data = None
        for index, (hidden, batch, target) in enumerate(CASES):
            if args.case and index not in args.case:
                continue
            ours, theirs, share, theirs_avx2 = [], [], [], []
            for _ in range(args.rounds):
                epoch_s, eval_share, rows = nnlab_epoch(hidden, batch, args.epochs)
                ours.append(epoch_s)
                share.append(eval_share)
                if python:
                    if data is None:
                        setup = prepare(load_config(CONFIG, ["train.epochs=0"]))
                        data = (Path(tmp) / "x.npy", Path(tmp) / "y.npy")
                        np.save(data[0], np.ascontiguousarray(setup.splits["train"][0], np.float32))
                        np.save(data[1], setup.labels["train"].astype(np.int64))
                    theirs.append(torch_epoch(python, hidden, batch, args.epochs, data)["epoch_s"])
                    if args.torch_avx2:
                        theirs_avx2.append(torch_epoch(python, hidden, batch, args.epochs, data, avx2=True)["epoch_s"])
            sizes = [784, *hidden, 10]
            name = "-".join(map(str, sizes)) + f" batch {batch}"
            gflops = flops_per_epoch(sizes, rows) / 1e9
            mine = min(ours)
            # the evaluation's floor: its forward passes at the matmul peak, against this training time
            floor = eval_flops(sizes, EVAL_ROWS) / 1e9 / peak_all / mine
            line = (f"{name:26s} nnlab {mine:6.3f} s/epoch ({gflops / mine:5.1f} GFLOPS, "
                    f"{100 * gflops / mine / peak_all:4.1f}% of peak), evaluation {100 * min(share):.0f}% of training "
                    f"(at peak {100 * floor:.0f}%)")
            if theirs:
                ref = min(theirs)
                line += (f" | PyTorch {ref:6.3f} s ({gflops / ref:5.1f} GFLOPS) | ratio {mine / ref:.2f}"
                         f" (target <= {target})")
            if theirs_avx2:
                ref = min(theirs_avx2)
                line += f" | PyTorch on AVX2 {ref:6.3f} s, ratio {mine / ref:.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
