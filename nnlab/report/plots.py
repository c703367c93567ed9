"""Plots (PNG) for reports: a trial's curves with what the diagnosis found marked, an
autoencoder's reconstructions, and a study's comparison across configurations and seeds.

Plots draw raw values (step loss faint) with a TensorBoard-style debiased EMA (weight 0.6)
on top, and mark spikes, the plateau span, the overfitting onset, the divergence point.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..results.store import read_summary

SEVERITY_COLORS = {"error": "#c0392b", "warn": "#d68910", "info": "#2471a3"}
EMA_WEIGHT = 0.6


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    return plt


def _save(fig, png: Path) -> None:
    """PNG with a 256-colour palette: line plots lose nothing visible and the file (and the
    self-contained index.html that embeds it) is about a third of the RGBA size."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=90, format="png")
    buffer.seek(0)
    with Image.open(buffer) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(png, "PNG", optimize=True)


def ema(values: np.ndarray, weight: float = EMA_WEIGHT) -> np.ndarray:
    """TensorBoard's debiased exponential moving average (NaNs are carried through)."""
    out = np.empty_like(values, dtype=np.float64)
    last, count = 0.0, 0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            out[i] = np.nan
            continue
        last = last * weight + (1 - weight) * v
        count += 1
        out[i] = last / (1 - weight ** count)
    return out


def _read_csv(path: Path):
    import pandas as pd

    from ..results.frames import read_frame

    frame = read_frame(path)
    return pd.DataFrame() if frame is None else frame


def plot_trial(trial: Path, png: Path) -> Path:
    """curves: loss per epoch, accuracy (or MAE), step loss with spikes, learning rate;
    then, when recorded, per-layer dead/saturated fractions and gradient norms."""
    plt = _pyplot()
    metrics, steps = _read_csv(trial / "metrics.csv"), _read_csv(trial / "steps.csv")
    summary = read_summary(trial) or {}
    events = summary.get("events") or []
    unit_cols = [c for c in metrics.columns if c.split("/")[0] in ("dead_frac", "sat_frac", "grad_norm")] if len(metrics) else []
    rows = 3 if unit_cols else 2
    fig, axes = plt.subplots(rows, 2, figsize=(12, 3.6 * rows), squeeze=False)
    fig.suptitle(f"{trial.name} — {summary.get('status', '?')}", fontsize=11)
    ax = axes[0][0]
    if len(metrics):
        for split, style in (("train", "-"), ("val", "--"), ("test", ":")):
            if f"{split}_loss" in metrics:
                ax.plot(metrics["epoch"], metrics[f"{split}_loss"], style, marker="o", ms=2.5, label=f"{split} loss")
        _mark_events(ax, events)
        rises = sorted({e_ for e in events if e["type"] in ("spiky_run", "loss_spikes") for e_ in e["where"].get("epochs", [])})
        if rises and "train_loss" in metrics:   # epoch-level spikes the diagnosis found
            at = metrics[metrics["epoch"].isin(rises)]
            ax.plot(at["epoch"], at["train_loss"], "x", color=SEVERITY_COLORS["error"], ms=7, mew=1.5, label="epoch spike")
        positive = metrics[[c for c in metrics.columns if c.endswith("_loss")]].to_numpy(dtype=float)
        if np.nanmin(positive) > 0 and np.nanmax(positive) / np.nanmin(positive) > 50:
            ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_title("loss per epoch (evaluation mode)")
    _legend(ax)
    ax = axes[0][1]
    metric = summary.get("metric", "acc")
    for split, style in (("train", "-"), ("val", "--"), ("test", ":")):
        if len(metrics) and f"{split}_{metric}" in metrics:
            ax.plot(metrics["epoch"], metrics[f"{split}_{metric}"], style, marker="o", ms=2.5, label=f"{split} {metric}")
    ax.set_xlabel("epoch")
    ax.set_title("accuracy" if metric == "acc" else "mean absolute error")
    low, high = ax.get_ylim()
    if high - low < 0.05:  # a flat accuracy should look flat, not like noise
        middle = (high + low) / 2
        ax.set_ylim(middle - 0.025, middle + 0.025)
    _legend(ax)
    ax = axes[1][0]
    if len(steps):
        loss = steps["loss"].to_numpy(dtype=float)
        ax.plot(steps["step"], loss, color="#aab7c4", lw=0.6, label="step loss (raw)")
        ax.plot(steps["step"], ema(loss), color="#1f4e79", lw=1.2, label=f"EMA {EMA_WEIGHT}")
        spikes = [s for e in events if e["type"] in ("spiky_run", "loss_spikes") for s in e["where"].get("steps", [])]
        if spikes:
            idx = np.searchsorted(steps["step"].to_numpy(), spikes)
            idx = idx[idx < len(loss)]
            ax.plot(steps["step"].to_numpy()[idx], loss[idx], "x", color=SEVERITY_COLORS["error"], label="spike")
        finite = loss[np.isfinite(loss)]
        if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 50:
            ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title("mini-batch loss")
    _legend(ax)
    ax = axes[1][1]
    if len(metrics) and "lr" in metrics:
        ax.plot(metrics["epoch"], metrics["lr"], marker="o", ms=2.5, label="learning rate")
        ax.set_ylim(0, float(np.nanmax(metrics["lr"])) * 1.15)
        ax.set_ylabel("learning rate")
        if "grad_norm" in metrics:
            twin = ax.twinx()
            twin.plot(metrics["epoch"], metrics["grad_norm"], color="#7d3c98", lw=1, label="mean gradient norm")
            twin.set_ylabel("gradient norm", color="#7d3c98")
    ax.set_xlabel("epoch")
    ax.set_title("learning rate and gradient norm")
    if unit_cols:
        ax = axes[2][0]
        for column in unit_cols:
            if column.startswith(("dead_frac", "sat_frac")):
                ax.plot(metrics["epoch"], metrics[column], marker="o", ms=2, label=column)
        ax.axhline(1 / 3, color=SEVERITY_COLORS["warn"], lw=0.8, ls="--", label="dead: warn")
        ax.axhline(0.5, color=SEVERITY_COLORS["error"], lw=0.8, ls="--", label="error")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("epoch")
        ax.set_title("dead (ReLU) and saturated (sigmoid/tanh) fraction per layer")
        _legend(ax, 7)
        ax = axes[2][1]
        gradients = {c: metrics[c].to_numpy(dtype=float) for c in unit_cols if c.startswith("grad_norm/")}
        positive = np.concatenate([v[v > 0] for v in gradients.values()]) if gradients else np.array([])
        floor = float(positive.min()) / 10 if len(positive) else 1e-12   # where an exact 0 is drawn on the log axis
        for column, values in gradients.items():
            layer = column.split("/")[1]
            line, = ax.plot(metrics["epoch"], np.where(values > 0, values, np.nan), marker="o", ms=2,
                            label=f"||dW|| layer {layer}")
            zero = values == 0
            if zero.any():   # a layer that gets no gradient at all is the finding, not a gap in the plot
                ax.plot(metrics["epoch"][zero], np.full(int(zero.sum()), floor), "v", color=line.get_color(), ms=5,
                        label=f"layer {layer}: exactly 0")
        if ax.lines:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title("gradient norm per weight layer (log; ▼ = exactly 0)")
        _legend(ax, 7)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    _save(fig, png)
    plt.close(fig)
    return png


RECONSTRUCTIONS = 8


def plot_reconstructions(trial: Path, png: Path) -> Path | None:
    """For an autoencoder (data.target: input): the first test inputs above their
    reconstructions by the final weights, as images when the inputs are square images."""
    summary = read_summary(trial) or {}
    if summary.get("target") != "input" or not (trial / "final.npz").is_file():
        return None
    import numpy as np

    from ..config import load_config
    from ..results import fsio
    from ..train.evaluate import predict
    from ..train.setup import prepare

    setup = prepare(load_config(trial / "config.yaml"))
    with fsio.open_regular(trial / "final.npz") as handle, np.load(handle) as final:
        setup.model.load_state_dict({k: final[k] for k in final.files})
    split = "test" if "test" in setup.splits else "train"
    inputs = setup.splits[split][0][:RECONSTRUCTIONS]
    out = predict(setup, inputs)
    x = inputs.reshape(len(inputs), -1)   # a CNN's inputs are (N, C, H, W); targets and outputs are rows
    image = setup.data.image_shape
    if image is not None and image[0] == 1:
        side_h, side_w = image[1], image[2]
    else:
        side = int(round(math.sqrt(x.shape[1])))
        side_h = side_w = side
    plt = _pyplot()
    fig, axes = plt.subplots(2, len(x), figsize=(1.4 * len(x), 3.2), squeeze=False)
    for j in range(len(x)):
        for row, values, label in ((0, x[j], "input"), (1, out[j], "reconstruction")):
            ax = axes[row][j]
            if side_h * side_w == x.shape[1]:
                ax.imshow(values.reshape(side_h, side_w), cmap="gray")
                ax.set_xticks([])
                ax.set_yticks([])
            else:
                ax.plot(values)
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(f"{trial.name}: {split} inputs (top) and reconstructions (bottom)", fontsize=10)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    _save(fig, png)
    plt.close(fig)
    return png


def _legend(ax, size: int = 8) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=size)


def _mark_events(ax, events: list[dict]) -> None:
    for e in events:
        where, color = e.get("where", {}), SEVERITY_COLORS[e["severity"]]
        if e["type"] == "plateau" and "epochs" in where:
            ax.axvspan(where["epochs"][0], where["epochs"][1], color=color, alpha=0.12,
                       label=f"plateau ({e['evidence'].get('classification')})")
        elif e["type"] == "overfitting" and "epoch" in where and e["severity"] != "info":
            # an info-level finding is a flat validation curve: a line there would claim more than it found
            ax.axvline(where["epoch"], color=color, ls="--", lw=1, label="overfitting onset")
        elif e["type"] == "divergence" and "epoch" in where:
            ax.axvline(where["epoch"], color=color, lw=1.5, label="divergence")


# ---------------------------------------------------------------- study plots

def _config_label(row, axes: list[str]) -> str:
    return " / ".join(f"{a.split('.')[-1]}={row[a]}" for a in axes) if axes else "all trials"


def plot_study(study: Path, table, axes: list[str], out: Path) -> list[Path]:
    from .groups import primary_metric
    from .statistics import Summary

    plt = _pyplot()
    written = []
    if table.empty:
        return written
    table = table.copy()
    table["config"] = [_config_label(r, axes) for _, r in table.iterrows()]
    configs = list(dict.fromkeys(table["config"]))
    found = primary_metric(table)   # the metric groups.csv and the comparisons judge by
    metric = found[0] if found else None
    if metric:
        fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(configs) + 2), 4.2))
        for i, config in enumerate(configs):
            members = table[table["config"] == config]
            complete = members["status"] == "complete" if "status" in members else np.ones(len(members), bool)
            for subset, marker, color in ((members[complete], "o", "#5d6d7e"), (members[~complete], "x", "#c0392b")):
                values = subset[metric].dropna().to_numpy(dtype=float)
                jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(len(values))
                ax.plot(i + jitter, values, marker, color=color, alpha=0.7, ms=5)
            # the interval of the complete trials, as in groups.csv (a diverged trial's dot is an x)
            summary = Summary.of(members.loc[complete, metric].dropna().to_numpy(dtype=float))
            if summary is not None:
                ax.errorbar(i, summary.mean, yerr=summary.ci95, fmt="_", color="#c0392b", ms=20, mew=2, capsize=6)
        ax.set_xticks(range(len(configs)))
        ax.set_xticklabels(configs, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel(metric.replace("final_", "final "))
        ax.set_title(f"{study.name}: {metric.replace('final_', '')} per configuration\n(dots: seeds, x: diverged; bar: "
                     f"mean ± 95% CI of the complete ones)", fontsize=10)
        fig.tight_layout()
        path = out / "compare.png"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    if len(axes) >= 2:
        marginal = plot_marginals(study, table, axes, out)
        if marginal is not None:
            written.append(marginal)
    path = out / "curves.png"
    _plot_curves(study, table, configs, axes, path)
    written.append(path)
    return written


SMALL_MULTIPLES = 6   # more configurations than this (with 2+ axes): one panel per value of the first axis


def _mean_curves(study: Path, table, config: str) -> dict:
    """key -> (epochs, mean, min, max) over the config's seeds, for train_loss and val_loss."""
    curves: dict[str, list] = {"train_loss": [], "val_loss": []}
    epoch_axis = None
    for trial in table.loc[table["config"] == config, "trial"]:
        metrics = _read_csv(study / trial / "metrics.csv")
        if "epoch" in metrics and (epoch_axis is None or len(metrics) > len(epoch_axis)):
            epoch_axis = metrics["epoch"].to_numpy()   # rows are every train.eval_every epochs
        for key in curves:
            if key in metrics:
                curves[key].append(metrics[key].to_numpy(dtype=float))
    out = {}
    for key in curves:
        runs = curves[key] or curves["train_loss"]
        if not runs:
            continue
        length = min(len(r) for r in runs)
        stack = np.vstack([r[:length] for r in runs])
        epochs = epoch_axis[:length] if epoch_axis is not None else np.arange(length)
        out[key] = (epochs, np.nanmean(stack, axis=0), np.nanmin(stack, axis=0), np.nanmax(stack, axis=0), len(runs))
    return out


def _plot_curves(study: Path, table, configs: list[str], axes: list[str], path: Path) -> None:
    """Mean loss curves per configuration with a min-max band over seeds; with many
    configurations, small multiples (one column per value of the first swept axis)."""
    from .groups import natural_key

    plt = _pyplot()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", ":", "-."]   # past ten lines in a panel a colour comes back with another line style
    if len(configs) > SMALL_MULTIPLES and len(axes) >= 2:
        first = axes[0]
        levels = sorted({r[first] for _, r in table.iterrows()}, key=natural_key)
        panels = [(f"{first.split('.')[-1]}={level}", [c for c in configs if f"{first.split('.')[-1]}={level}" in c.split(" / ")])
                  for level in levels]
    else:
        panels = [("", configs)]
    fig, grid = plt.subplots(2, len(panels), figsize=(max(13, 4.3 * len(panels)), 7.6), squeeze=False,
                             sharey="row", sharex=True)
    for column, (title, members) in enumerate(panels):
        for k, config in enumerate(members):
            curves = _mean_curves(study, table, config)
            label = " / ".join(part for part in config.split(" / ") if part != title) or config
            for row, key in enumerate(("val_loss", "train_loss")):
                if key not in curves:
                    continue
                epochs, mean, low, high, n = curves[key]
                ax = grid[row][column]
                ax.plot(epochs, mean, color=colors[k % len(colors)], ls=styles[(k // len(colors)) % len(styles)],
                        label=label)
                if n > 1:
                    ax.fill_between(epochs, low, high, color=colors[k % len(colors)], alpha=0.15)
    for row, key in enumerate(("validation loss", "training loss")):
        values = np.concatenate([line.get_ydata() for ax in grid[row] for line in ax.lines]) if grid[row][0].lines else np.array([])
        values = values[np.isfinite(values)]
        for column, (title, _) in enumerate(panels):
            ax = grid[row][column]
            if len(values) and values.min() > 0 and values.max() / values.min() > 10:
                ax.set_yscale("log")  # epoch 0 would otherwise flatten every difference that matters
            ax.set_title(f"{key}{' — ' + title if title else ''}", fontsize=9)
            if row == 1:
                ax.set_xlabel("epoch")
            _legend(ax, 7)
    fig.suptitle(f"{study.name}: loss per epoch, mean over seeds (band: min to max)", fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def plot_marginals(study: Path, table, axes: list[str], out: Path) -> Path | None:
    """One panel per swept axis: the primary metric at each of its values, taking the best
    group over the other axes (mean ± 95% interval over seeds), so each axis is seen at its
    best rather than averaged over settings that did not work."""
    from .groups import group_rows, natural_key, primary_metric

    found = primary_metric(table)
    if found is None:
        return None
    metric, higher = found
    groups = [g for g in group_rows(table, axes) if g.get(f"{metric}_mean") is not None]
    if not groups:
        return None
    plt = _pyplot()
    fig, panels = plt.subplots(1, len(axes), figsize=(4.2 * len(axes), 3.8), squeeze=False)
    for ax, axis in zip(panels[0], axes, strict=True):
        levels = sorted({g[axis] for g in groups}, key=natural_key)
        for x, level in enumerate(levels):
            members = [g for g in groups if g[axis] == level]
            best = (max if higher else min)(members, key=lambda g: g[f"{metric}_mean"])
            half = best.get(f"{metric}_ci95")
            ax.errorbar(x, best[f"{metric}_mean"], yerr=half if half is not None else None, fmt="o",
                        color="#1f4e79", capsize=5)
            others = ", ".join(f"{a.split('.')[-1]}={best[a]}" for a in axes if a != axis)
            ax.annotate(others, (x, best[f"{metric}_mean"]), textcoords="offset points", xytext=(6, 4), fontsize=6,
                        color="#5d6d7e")
        ax.set_xticks(range(len(levels)))
        ax.set_xticklabels([str(v) for v in levels], rotation=20, ha="right", fontsize=8)
        ax.set_xlabel(axis)
        ax.set_title(f"best over the other axes ({'higher' if higher else 'lower'} is better)", fontsize=9)
    panels[0][0].set_ylabel(metric.replace("final_", "final ") + " (mean ± 95% CI)")
    fig.suptitle(f"{study.name}: each swept value at its best", fontsize=10)
    fig.tight_layout()
    path = out / "marginals.png"
    _save(fig, path)
    plt.close(fig)
    return path
