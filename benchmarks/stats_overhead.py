"""Cost of the diagnosis statistics: configs/mnist.yaml epochs with train.unit_stats on vs off.

    NNLAB_DATA=../shared/data python benchmarks/stats_overhead.py [--epochs 3] [--rounds 2]

Runs the two variants alternately in one process (same data, same machine state) and
prints the mean epoch time of each and their ratio. Needs MNIST.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nnlab.config import load_config
from nnlab.train.trial import prepare, run_trial

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "mnist.yaml"


def epoch_time(stats: bool, epochs: int) -> float:
    exp = load_config(CONFIG, [f"train.epochs={epochs}", f"train.unit_stats={str(stats).lower()}"])
    records = run_trial(exp, setup=prepare(exp))
    return records.summary["epoch_time_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    on, off = [], []
    for _ in range(args.rounds):
        off.append(epoch_time(False, args.epochs))
        on.append(epoch_time(True, args.epochs))
    mean_on, mean_off = sum(on) / len(on), sum(off) / len(off)
    print(f"mnist.yaml, {args.epochs} epochs x {args.rounds} rounds: epoch time without statistics "
          f"{mean_off:.3f} s, with {mean_on:.3f} s, overhead {100 * (mean_on / mean_off - 1):+.1f}%")


if __name__ == "__main__":
    main()
