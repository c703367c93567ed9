"""Wall time of a 12-trial study: serial vs a local pool of worker processes, side by side.

    python benchmarks/sweep_parallel.py [--workers 2] [--repeats 1]

Prints both wall times and the parallel/serial ratio (1/workers would be perfect), and
checks that both runs produced the same fingerprints. Uses generated data: no files needed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from nnlab.results.store import read_summary
from nnlab.sweep.executors import LocalExecutor, SerialExecutor
from nnlab.sweep.plan import plan
from nnlab.sweep.runner import run_study

STUDY = {
    "name": "bench",
    "data": {"name": "spirals", "n_samples": 3000, "n_test": 500},
    "model": {"hidden": [64, 64]},
    "optimizer": {"name": "adam", "lr": 0.01},
    "train": {"epochs": 30, "batch_size": 32},
    "sweep": {"grid": {"model.activation": ["relu", "tanh", "elu", "sigmoid"]}, "seeds": 3},
}


def timed(executor, root: Path) -> tuple[float, dict]:
    study = plan(STUDY)
    start = time.perf_counter()
    run_study(study, root / "bench", executor)
    elapsed = time.perf_counter() - start
    prints = {t.id: read_summary(root / "bench" / t.id)["fingerprint"] for t in study.trials}
    return elapsed, prints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    n = len(plan(STUDY).trials)
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            serial, serial_prints = timed(SerialExecutor(), Path(a))
            parallel, parallel_prints = timed(LocalExecutor(args.workers), Path(b))
        same = serial_prints == parallel_prints
        print(f"run {repeat + 1}: {n} trials  serial {serial:6.2f} s  {args.workers} workers {parallel:6.2f} s  "
              f"ratio {parallel / serial:.3f} (ideal {1 / args.workers:.3f})  identical results: {same}")
        if not same:
            raise SystemExit("parallel and serial runs differ")


if __name__ == "__main__":
    main()
