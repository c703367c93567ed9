"""The drawing blocks of the studies' figures: mean curves over seeds with a min-max band,
and per-group dots (one per seed) with the mean and its 95% interval."""

from __future__ import annotations

import numpy as np

from .measure import StudyData

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]


def curves(sd: StudyData, ax, column: str, hue: list[str], fixed: dict | None = None, logy: bool = False,
           ylabel: str | None = None, title: str | None = None, names: dict | None = None, from_epoch: int = 0) -> None:
    """One line per group matching ``fixed``: the mean over seeds of a metrics.csv column per
    epoch (from ``from_epoch``), a band from the lowest to the highest seed; the legend names the ``hue`` axes."""
    fixed = fixed or {}
    k = 0
    for group in sd.groups():
        if any(group.get(a) != v for a, v in fixed.items()):
            continue
        runs = sd.curves(column, **group)
        if not runs:
            continue
        length = min(len(v) for _, v in runs.values())
        epochs = next(iter(runs.values()))[0][:length]
        keep = epochs >= from_epoch
        epochs = epochs[keep]
        stack = np.vstack([v[:length][keep] for _, v in runs.values()])
        names = names or {}
        label = ", ".join(names.get(group[a], group[a]) if len(hue) == 1 else f"{a}={group[a]}" for a in hue)
        color = COLORS[k % len(COLORS)]
        with np.errstate(all="ignore"):
            ax.plot(epochs, np.nanmean(stack, axis=0), color=color, label=label, lw=1.6)
            if len(stack) > 1:
                ax.fill_between(epochs, np.nanmin(stack, axis=0), np.nanmax(stack, axis=0), color=color, alpha=0.15, lw=0)
        k += 1
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel or column)
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, title=" / ".join(hue) if hue else None, title_fontsize=7)


def dots(sd: StudyData, ax, metric: str, scale: float = 1.0, groups: list[dict] | None = None,
         label=None, ylabel: str | None = None, title: str | None = None, complete: bool = False) -> None:
    """Per group: each seed's value as a dot, the mean ± 95% interval as a red bar
    (over complete trials; diverged trials' dots are drawn hollow when ``complete`` is False)."""
    from ..report.statistics import Summary

    groups = groups or sd.groups()
    for x, group in enumerate(groups):
        t = sd.select(False, **group)
        t = t[t["status"].isin(("complete", "diverged"))]
        values = [(float(v) * scale, s) for v, s in zip(t[metric], t["status"], strict=True)
                  if v is not None and np.isfinite(v)] if metric in t else []
        jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(len(values))
        for j, (v, status) in zip(jitter, values, strict=True):
            ax.plot(x + j, v, "o", ms=5, alpha=0.8, color="#5d6d7e", mfc="none" if status != "complete" else "#5d6d7e")
        s = Summary.of([v for v, status in values if status == "complete" or not complete])
        if s is not None:
            ax.errorbar(x, s.mean, yerr=s.ci95, fmt="_", color="#c0392b", ms=22, mew=2, capsize=6)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([label(g) if label else "\n".join(str(v) for v in g.values()) for g in groups], fontsize=7)
    ax.set_ylabel(ylabel or metric)
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, axis="y")
