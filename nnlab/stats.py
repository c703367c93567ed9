"""Unit statistics for diagnosis, measured on a fixed probe subset of the training data.

Column names follow metrics.csv: ``<stat>/<layer>`` with ``<layer>`` the index in the built
model (the same index as in the weight files). Dense layers get ``weight_norm``,
``distinct`` (units whose incoming weights and bias differ) and, from training (:class:`UnitStats`),
``grad_norm`` and ``update_ratio``; activation layers get ``act_std`` and, where the notion
applies, ``dead_frac`` (ReLU units never active on the probe) or ``sat_frac`` (sigmoid, tanh:
share of activations pinned near the limits).
"""

from __future__ import annotations

import math

import numpy as np

from .callbacks import Callback
from .nn.layers import Dense
from .nn.model import Sequential

PROBE_SIZE = 1000
SAT_LIMITS = {"sigmoid": (0.01, 0.99), "tanh": (-0.99, 0.99)}
# sat_frac is the share of (example, unit) activations outside the limits. Calibration: the
# per-unit rule "outside on >= 99% of the probe" found 0-0.4% of units in a 10-layer tanh net
# with N(0, 1) weights, whose activations are 86-87% saturated (about 90% is the figure
# usually quoted for that net).
DISTINCT_DIGITS = 9       # units equal to ~1e-9 relative count as one (symmetry never broken)
UPDATE_RATIO_EVERY = 10   # sample ||dW|| / ||W|| on step 1 and every 10th step: it needs a copy of W


def probe_indices(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, size=min(PROBE_SIZE, n), replace=False))


def distinct_units(w: np.ndarray, b: np.ndarray) -> int:
    """How many different units a dense layer has: columns of [W; b] compared to ~1e-9."""
    units = np.vstack([w, b[None, :]]).T.astype(np.float64)
    scale = np.max(np.abs(units)) or 1.0
    return int(len(np.unique(np.round(units / scale, DISTINCT_DIGITS), axis=0)))


def probe_stats(model: Sequential, x_probe: np.ndarray) -> dict[str, float]:
    """Forward the probe in evaluation mode; per-layer unit statistics."""
    stats: dict[str, float] = {}
    x = x_probe
    for i, layer in enumerate(model.layers):
        x_in = x
        x, _ = layer.forward(x)
        if isinstance(layer, Dense):
            stats[f"weight_norm/{i}"] = float(np.linalg.norm(layer.params["W"]))
            bias = layer.params.get("b", np.zeros(layer.units, layer.params["W"].dtype))
            stats[f"distinct/{i}"] = distinct_units(layer.params["W"], bias)
        elif layer.name in ("relu", "sigmoid", "tanh", "elu", "leaky_relu", "linear") and i < len(model.layers) - 1:
            stats[f"act_std/{i}"] = float(np.std(x, dtype=np.float64))
            if layer.name == "relu":
                stats[f"dead_frac/{i}"] = float(np.mean(np.all(x_in <= 0, axis=0)))
            if layer.name in SAT_LIMITS:
                lo, hi = SAT_LIMITS[layer.name]
                stats[f"sat_frac/{i}"] = float(np.mean((x < lo) | (x > hi)))
    return stats


def describe_layer(model: Sequential, index: int) -> str:
    """'layer 1 (relu after dense 0, 256 units)' — how messages name a layer."""
    layer = model.layers[index]
    if isinstance(layer, Dense):
        return f"layer {index} (dense {layer.fan_in}->{layer.units})"
    dense = [j for j in range(index) if isinstance(model.layers[j], Dense)]
    width = model.layers[dense[-1]].units if dense else "?"
    return f"layer {index} ({layer.name} after dense {dense[-1] if dense else '?'}, {width} units)"


class UnitStats(Callback):
    """Per-layer statistics for metrics.csv, gathered while training runs.

    Per epoch and dense layer ``i``: ``grad_norm/<i>``, the root-mean-square over the
    epoch's steps of ||dW|| (free: the loop computes ||g||² per parameter anyway), and
    ``update_ratio/<i>``, the mean ||ΔW|| / ||W|| over sampled steps; then
    :func:`probe_stats` on the probe. ``after_first_step`` holds the probe statistics
    right after optimizer step 1 (symmetry that a first step does not break never breaks).
    """

    def __init__(self, model: Sequential, probe: np.ndarray, dense_indices: list[int]):
        self.model, self.probe, self.dense_indices = model, probe, dense_indices
        self.after_first_step: dict[str, float] = {}
        self._grad_sq: dict[int, float] = {}
        self._steps = 0
        self._ratios: dict[int, list[float]] = {}
        self._before: dict[int, np.ndarray] | None = None

    def on_gradients(self, step: int, squares: dict[str, float]) -> None:
        self._steps += 1
        for i in self.dense_indices:
            self._grad_sq[i] = self._grad_sq.get(i, 0.0) + squares[f"{i}.W"]
        if step == 1 or step % UPDATE_RATIO_EVERY == 0:
            self._before = {i: self.model.layers[i].params["W"].copy() for i in self.dense_indices}

    def on_update(self, step: int) -> None:
        if self._before:
            for i, w_old in self._before.items():
                w = self.model.layers[i].params["W"]
                norm = float(np.linalg.norm(w_old))
                if norm > 0:
                    self._ratios.setdefault(i, []).append(float(np.linalg.norm(w - w_old)) / norm)
        self._before = None

    def after_step(self, step: int) -> None:
        if step == 1:
            self.after_first_step = probe_stats(self.model, self.probe)

    def epoch_columns(self, epoch: int) -> dict:
        row: dict = {}
        for i in self.dense_indices:
            row[f"grad_norm/{i}"] = math.sqrt(self._grad_sq[i] / self._steps) if self._steps else None
            ratios = self._ratios.get(i)
            row[f"update_ratio/{i}"] = float(np.mean(ratios)) if ratios else None
        row.update(probe_stats(self.model, self.probe))
        self._grad_sq, self._steps, self._ratios = {}, 0, {}
        return row
