"""Unit statistics for diagnosis, measured on a fixed probe subset of the training data.

Column names follow metrics.csv: ``<stat>/<layer>`` with ``<layer>`` the index in the built
model (the same index as in the weight files). Dense and conv layers get ``weight_norm``,
``distinct`` (units, or a conv layer's filters, whose incoming weights and bias differ) and,
from training (:class:`UnitStats`), ``grad_norm`` and ``update_ratio``; activation layers
get ``act_std`` and, where the notion applies, ``dead_frac`` (ReLU units never active on the
probe; after a conv, channels never active at any position of any probe image) or
``sat_frac`` (sigmoid, tanh: share of activations pinned near the limits).
"""

from __future__ import annotations

import math

import numpy as np

from ..nn.conv import Conv2d
from ..nn.layers import Dense
from ..nn.model import Sequential
from ..nn.model import key as param_key
from .callbacks import Callback

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
    """How many different units a dense layer has: columns of [W; b] compared to ~1e-9
    (a conv layer's W (F, C, kh, kw) counts its F filters)."""
    if w.ndim == 4:
        w = w.reshape(len(w), -1).T
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
        if isinstance(layer, (Dense, Conv2d)):
            stats[f"weight_norm/{i}"] = float(np.linalg.norm(layer.params["W"]))
            bias = layer.params.get("b", np.zeros(layer.units, layer.params["W"].dtype))
            stats[f"distinct/{i}"] = distinct_units(layer.params["W"], bias)
        elif layer.name in ("relu", "sigmoid", "tanh", "elu", "leaky_relu", "linear") and i < len(model.layers) - 1:
            stats[f"act_std/{i}"] = float(np.std(x, dtype=np.float64))
            if layer.name == "relu":  # a unit, or a channel at every position, never positive
                axes = (0, 2, 3) if x_in.ndim == 4 else 0
                stats[f"dead_frac/{i}"] = float(np.mean(np.all(x_in <= 0, axis=axes)))
            if layer.name in SAT_LIMITS:
                lo, hi = SAT_LIMITS[layer.name]
                stats[f"sat_frac/{i}"] = float(np.mean((x < lo) | (x > hi)))
    return stats


def describe_layer(model: Sequential, index: int) -> str:
    """'layer 1 (relu after dense 0, 256 units)' or 'layer 1 (relu after conv2d 0, 8 channels)'
    — how messages name a layer."""
    layer = model.layers[index]
    if isinstance(layer, Dense):
        return f"layer {index} (dense {layer.fan_in}->{layer.units})"
    if isinstance(layer, Conv2d):
        return f"layer {index} (conv2d {layer.in_channels}->{layer.filters} channels)"
    weighted = [j for j in range(index) if isinstance(model.layers[j], (Dense, Conv2d))]
    if not weighted:
        return f"layer {index} ({layer.name})"
    before = model.layers[weighted[-1]]
    what = "channels" if isinstance(before, Conv2d) else "units"
    return f"layer {index} ({layer.name} after {before.name} {weighted[-1]}, {before.units} {what})"


class UnitStats(Callback):
    """Per-layer statistics for metrics.csv, gathered while training runs.

    Per epoch and dense layer ``i``: ``grad_norm/<i>``, the root-mean-square over the
    epoch's steps of ||dW|| (free: the loop computes ||g||² per parameter anyway), and
    ``update_ratio/<i>``, the mean ||ΔW|| / ||W|| over sampled steps; then
    :func:`probe_stats` on the probe. ``after_first_step`` holds the probe statistics
    right after optimizer step 1 (symmetry that a first step does not break never breaks).
    """

    checkpoint_key = "unit_stats"

    def __init__(self, model: Sequential, probe: np.ndarray, weight_indices: list[int]):
        self.model, self.probe, self.weight_indices = model, probe, weight_indices
        self.after_first_step: dict[str, float] = {}
        self._grad_sq: dict[int, float] = {}
        self._steps = 0
        self._ratios: dict[int, list[float]] = {}
        self._before: dict[int, np.ndarray] | None = None

    def checkpoint_state(self) -> dict:
        """What a resumed run needs (taken right after a row, when the epoch's sums are empty)."""
        return {"after_first_step": dict(self.after_first_step)}

    def load_checkpoint_state(self, saved: dict) -> None:
        self.after_first_step = dict(saved["after_first_step"])

    def on_gradients(self, step: int, squares: dict[str, float]) -> None:
        self._steps += 1
        for i in self.weight_indices:
            self._grad_sq[i] = self._grad_sq.get(i, 0.0) + squares[param_key(i, "W")]
        if step == 1 or step % UPDATE_RATIO_EVERY == 0:
            self._before = {i: self.model.layers[i].params["W"].copy() for i in self.weight_indices}

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
        for i in self.weight_indices:
            row[f"grad_norm/{i}"] = math.sqrt(self._grad_sq[i] / self._steps) if self._steps else None
            ratios = self._ratios.get(i)
            row[f"update_ratio/{i}"] = float(np.mean(ratios)) if ratios else None
        row.update(probe_stats(self.model, self.probe))
        self._grad_sq, self._steps, self._ratios = {}, 0, {}
        return row
