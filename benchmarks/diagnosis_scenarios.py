"""Detection figures: each pathology and healthy baseline, over several seeds.

    [NNLAB_DATA=/path/to/data] python benchmarks/diagnosis_scenarios.py [--seeds 3] [--first-seed 3] [--skip-mnist]

For every scenario it lists the warn/error events that must fire (hits / misses) and
counts any other warn/error event as a false alarm, except those named as acceptable
consequences of the same cause. MNIST scenarios run when MNIST is found (and not
--skip-mnist, which leaves the quick built-in-data table).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from nnlab.config import apply_overrides, validate
from nnlab.data import find_idx
from nnlab.runner import run_trial

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
SMALL_MNIST = ["data.subset=10000", "model.dropout=0.0", "schedule=null", "train.epochs=8"]

# (name, config, overrides, must fire, also acceptable)
SCENARIOS = [
    ("healthy xor", "xor.yaml", [], [], []),
    ("healthy spirals", "spirals.yaml", [], [], []),
    ("healthy blobs (standardised)", "spirals.yaml", ["data.name=blobs", "data.normalize=standard", "optimizer.lr=0.001", "train.epochs=20"], [], []),
    ("healthy regression", "spirals.yaml", ["data.name=regression", "loss=mse", "model.activation=tanh", "model.init=glorot_uniform", "train.epochs=40"], [], []),
    ("zero init relu", "spirals.yaml", ["model.init=zeros", "train.epochs=30"], ["plateau", "duplicate_units", "dead_units", "symmetric_init"], []),
    ("zero init tanh", "spirals.yaml", ["model.init=zeros", "model.activation=tanh", "train.epochs=30"], ["plateau", "duplicate_units", "symmetric_init"], []),
    ("adam lr 0.3", "spirals.yaml", ["optimizer.lr=0.3"], ["dead_units", "learning_rate_range"], ["spiky_run", "large_updates", "exploding_gradients", "plateau"]),
    ("sgd lr 2.0", "spirals.yaml", ["optimizer.name=sgd", "optimizer.lr=2.0"], ["dead_units", "learning_rate_range"], ["spiky_run", "large_updates", "exploding_gradients", "plateau", "divergence"]),
    ("small-set overfitting", "spirals.yaml", ["data.n_samples=120", "data.validation=0.5", "data.noise=0.5", "model.hidden=[256,256]", "train.epochs=150", "train.batch_size=16"], ["overfitting"], ["spiky_run", "dead_units", "large_updates"]),
    ("deep sigmoid", "spirals.yaml", ["model.activation=sigmoid", "model.init=glorot_uniform", "model.hidden=[64,64,64,64,64,64,64,64,64,64]", "optimizer.name=sgd", "optimizer.lr=0.1", "train.epochs=20"], ["vanishing_gradients", "plateau"], []),
    ("tanh N(0,1)", "spirals.yaml", ["model.activation=tanh", "model.init=normal(std=1.0)", "model.hidden=[256,256,256]", "train.epochs=10"], ["init_loss", "saturated_units", "saturated_at_init"], ["spiky_run", "exploding_gradients", "overfitting", "large_updates"]),
    ("relu output + CE", "spirals.yaml", ["model.output=relu"], ["output_activation_with_cross_entropy"], ["plateau"]),
]
MNIST_SCENARIOS = [
    ("healthy mnist (default, 5 epochs)", "mnist.yaml", ["train.epochs=5"], [], []),
    ("mnist adam 0.03", "mnist.yaml", SMALL_MNIST + ["optimizer.lr=0.03"], ["dead_units", "learning_rate_range"], ["spiky_run", "large_updates", "exploding_gradients", "overfitting"]),
    ("mnist 200 examples", "mnist.yaml", ["data.subset=200", "model.hidden=[1024,1024]", "model.dropout=0.0", "schedule=null", "optimizer.lr=0.01", "train.epochs=30"], ["overfitting"], ["dead_units", "large_updates", "spiky_run"]),
    ("mnist zero init", "mnist.yaml", [o for o in SMALL_MNIST if not o.startswith("train.epochs=")] + ["model.init=zeros", "train.epochs=6"], ["plateau", "duplicate_units", "dead_units", "symmetric_init"], []),
]


def serious_types(summary: dict) -> set[str]:
    return {e["type"] for e in summary["events"] if e["severity"] in ("warn", "error")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first..first+n-1; thresholds were calibrated on 0-2, so 3+ are held out")
    parser.add_argument("--skip-mnist", action="store_true", help="only the scenarios on built-in data (quick)")
    args = parser.parse_args()
    scenarios = SCENARIOS + (MNIST_SCENARIOS if find_idx("mnist", None) and not args.skip_mnist else [])
    total_hits = total_expected = total_false = healthy_runs = healthy_clean = 0
    for name, config, overrides, must, acceptable in scenarios:
        data = yaml.safe_load((CONFIGS / config).read_text())
        hits = misses = false = 0
        extra: set[str] = set()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            summary = run_trial(validate(apply_overrides(data, overrides + [f"seed={seed}"]))).summary
            fired = serious_types(summary)
            hits += len(fired & set(must))
            misses += len(set(must) - fired)
            unexpected = fired - set(must) - set(acceptable)
            false += len(unexpected)
            extra |= unexpected
            if not must:
                healthy_runs += 1
                healthy_clean += not fired
        total_hits += hits
        total_expected += hits + misses
        total_false += false
        print(f"{name:<36} hits {hits:>2}/{hits + misses:<2} false alarms {false}"
              + (f" ({', '.join(sorted(extra))})" if extra else ""))
    print(f"total: {total_hits}/{total_expected} expected events fired, {total_false} false alarms; "
          f"healthy runs without any warning: {healthy_clean}/{healthy_runs}")


if __name__ == "__main__":
    main()
