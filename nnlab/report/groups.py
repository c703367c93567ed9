"""Groups over seeds and comparisons between them: the numbers behind groups.csv,
comparisons.csv and the sentences at the top of a study report.

A **group** is every trial of a study whose config equals the others' except for the seed
(the ``group`` column, config/identity.py), whichever command made it.
Per group and metric (the final and best split metrics, time, epochs): n, mean, standard
deviation (n - 1 in the denominator), min, max and the 95% confidence interval of the mean,
mean ± t(0.975, n - 1) · sd / √n (Student t); a group of one trial has no interval and says
"n = 1" instead of inventing one. Only finished, non-diverged trials enter the statistics;
the status counts say how many trials were complete, diverged, failed or not run yet.

A **comparison** answers, per swept axis, "which level is best and by how much": the best
group (best mean of the primary metric) fixes the other axes, and every other level of the
axis, at those values of the other axes, is compared with the best level. The difference
of means has a 95% interval: paired by seed (Student t on the per-seed differences) when
both levels ran the same seeds, Welch's interval otherwise (unequal variances,
Welch–Satterthwaite degrees of freedom). An interval that contains 0 is "within noise";
fewer than two seeds on a side is "too few seeds to tell".

**Convergence speed**: the first epoch at which a trial's primary metric reaches 95% of the
best group's mean final value (for a loss or an error: comes within 1/0.95 of it); a group
reports the mean over the trials that got there and how many did.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..results.csvtext import plain_cell
from .statistics import Summary, difference, paired_by_seed

# (column, higher is better) in order of preference: the metric a study is judged by
PRIMARY = (("final_test_acc", True), ("final_val_acc", True), ("final_test_mae", False), ("final_val_mae", False),
           ("final_test_loss", False), ("final_val_loss", False), ("final_train_loss", False))
SUMMARISED = ("time_s", "epochs")
CONVERGENCE_SHARE = 0.95


def primary_metric(table) -> tuple[str, bool] | None:
    """The column a study is judged by and whether higher is better."""
    for column, higher in PRIMARY:
        if column in table and table[column].notna().any():
            return column, higher
    return None


def _key(row, axes: list[str]) -> tuple:
    return tuple(plain_cell(row[a]) if isinstance(row[a], (list, dict)) else row[a] for a in axes)


def label(values: dict) -> str:
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in values.items()) or "all trials"


def group_rows(table, axes: list[str]) -> list[dict]:
    """One row per group: its swept values, status counts, n and statistics per metric,
    and the events that fired in a majority of its trials (convergence speed: :func:`add_convergence`)."""
    axes = [a for a in axes if a != "seed" and a in table]
    metrics = ([c for c in table.columns if c.startswith("final_")]
               + [c for c in table.columns if c.startswith("best_") and c not in ("best_epoch", "best_monitor", "best_value")]
               + [c for c in SUMMARISED if c in table])
    rows = []
    for key, members in _groups(table, axes):
        used = members[members["status"] == "complete"]
        counts = members["status"].value_counts().to_dict()
        row = {**dict(zip(axes, key, strict=True)), "trials": len(members), "n": len(used),
               "complete": counts.get("complete", 0), "diverged": counts.get("diverged", 0),
               "failed": counts.get("failed", 0),
               "other": sum(v for k, v in counts.items() if k not in ("complete", "diverged", "failed"))}
        if "seed" in members:
            row["seeds"] = " ".join(str(s) for s in sorted(members["seed"].dropna().tolist()))
        for metric in metrics:
            s = Summary.of(used[metric].tolist()) if metric in used else None
            row[f"{metric}_mean"] = s.mean if s else None
            row[f"{metric}_std"] = s.std if s else None
            row[f"{metric}_min"] = s.min if s else None
            row[f"{metric}_max"] = s.max if s else None
            row[f"{metric}_ci95"] = s.ci95 if s else None
        notes = ["n = 1: no interval"] if len(used) == 1 else []
        kernels = sorted({k for k in used.get("kernels", []) if isinstance(k, str)})
        if len(kernels) > 1:   # its seeds were computed with other arithmetic: say so beside the numbers
            notes.append(f"mixed arithmetic: {' / '.join(kernels)}")
        if notes:
            row["note"] = "; ".join(notes)
        row["majority_events"] = _majority_events(members)
        rows.append(row)
    return rows


def add_convergence(groups: list[dict], table, axes: list[str], convergence: dict[str, int | None]) -> None:
    """Fill each group row's ``epochs_to_target_mean`` (over its complete trials that got
    there) and ``reached_target`` ("2/3") from :func:`epochs_to_target`'s per-trial epochs."""
    axes = [a for a in axes if a != "seed" and a in table]
    for row, (_, members) in zip(groups, _groups(table, axes), strict=True):
        used = members[members["status"] == "complete"]
        hits = [e for e in (convergence.get(t) for t in used["trial"]) if e is not None]
        row["epochs_to_target_mean"] = float(np.mean(hits)) if hits else None
        row["reached_target"] = f"{len(hits)}/{len(used)}"


def _groups(table, axes: list[str]):
    """[(values of ``axes``, member rows)], in natural order of the values. Trials are
    members of one group when their configs are equal except for the seed (the ``group``
    column, config/identity.py); a table without it (a hand-made one) groups by ``axes``."""
    if not axes and "group" not in table:
        return [((), table)]
    by: dict = {}
    for i, (_, row) in enumerate(table.iterrows()):
        values = _key(row, axes)
        group = row.get("group") if "group" in table else None
        key = group if isinstance(group, str) else ("axes", values)
        by.setdefault(key, (values, []))[1].append(i)
    found = [(values, table.iloc[idx]) for values, idx in by.values()]
    return sorted(found, key=lambda item: natural_key(item[0]))


def natural_key(values) -> tuple:
    """Sort numbers as numbers and digits inside text by their value ([5] before [100],
    seed=2 before seed=10); everything else as text."""
    def one(v):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (0, float(v), ())
        chunks = re.split(r"(\d+)", str(v))
        return (1, 0.0, tuple((0, int(c), "") if c.isdigit() else (1, 0, c) for c in chunks))
    return tuple(one(v) for v in (values if isinstance(values, tuple) else (values,)))


def _majority_events(members) -> str | None:
    if "events" not in members:
        return None
    counts: dict[str, int] = {}
    for cell in members["events"].dropna():
        for item in {e.strip() for e in str(cell).split(";") if e.strip()}:
            counts[item] = counts.get(item, 0) + 1
    n = len(members)
    majority = [f"{k} ({v}/{n})" for k, v in sorted(counts.items()) if v > n / 2]
    return "; ".join(majority) or None


# ---------------------------------------------------------------- comparisons

def _values(members, metric: str) -> dict:
    done = members[(members["status"] == "complete") & members[metric].notna()]
    seeds = done["seed"].tolist() if "seed" in done else list(range(len(done)))
    return dict(zip(seeds, done[metric].astype(float).tolist(), strict=True))


def comparisons(table, axes: list[str]) -> list[dict]:
    """Per swept axis (seed aside): the best level and each other level's difference to it."""
    found = primary_metric(table)
    axes = [a for a in axes if a != "seed" and a in table]
    if found is None or not axes:
        return []
    metric, higher = found
    groups = [(dict(zip(axes, key, strict=True)), members) for key, members in _groups(table, axes)]
    means = [(values, np.mean(list(v.values()))) for values, members in groups if (v := _values(members, metric))]
    if not means:
        return []
    best_values = (max if higher else min)(means, key=lambda m: m[1])[0]
    scale, unit = (100.0, "points of") if metric.endswith("_acc") else (1.0, "in")
    what = metric.replace("final_", "").replace("_", " ").replace(" acc", " accuracy")
    out = []
    for axis in axes:
        others = {a: v for a, v in best_values.items() if a != axis}
        slice_ = [(values, members) for values, members in groups if all(values[a] == v for a, v in others.items())]
        if len(slice_) < 2:
            continue
        best_members = next(m for values, m in slice_ if values[axis] == best_values[axis])
        best = _values(best_members, metric)
        for values, members in slice_:
            if values[axis] == best_values[axis]:
                continue
            a, b, paired = paired_by_seed(best, _values(members, metric))
            if not len(a) or not len(b):
                continue
            diff, half = difference(a, b, paired)
            gain = (diff if higher else -diff) * scale
            half = None if half is None else half * scale
            out.append(_sentence(axis, best_values[axis], values[axis], gain, half, len(a), len(b), paired,
                                 what, unit, others))
    return out


def _sentence(axis, best, level, gain, half, n_best, n_level, paired, what, unit, others) -> dict:
    name = axis.split(".")[-1]
    fmt = "{:.2f}" if unit == "points of" else "{:.4g}"
    seeds = f"{n_best} seeds" if n_best == n_level else f"{n_best} vs {n_level} seeds"
    where = f" (with {label(others)})" if others else ""
    if half is None:
        verdict = "too few seeds"
        text = (f"{name}={best} beats {name}={level} by {fmt.format(gain)} {unit} {what}{where}, but with "
                f"{seeds} there are too few seeds to tell whether that is more than noise.")
    elif gain - half > 0:
        verdict = "better"
        text = (f"{name}={best} beats {name}={level} by {fmt.format(gain)} ± {fmt.format(half)} {unit} {what} "
                f"over {seeds}{' (paired by seed)' if paired else ''}{where}.")
    else:
        verdict = "within noise"
        text = (f"{name}={best} vs {name}={level} is within noise: {fmt.format(gain)} ± {fmt.format(half)} "
                f"{unit} {what} over {seeds}{' (paired by seed)' if paired else ''}{where}.")
    return {"axis": axis, "best": best, "level": level, "difference": gain, "ci95": half, "n_best": n_best,
            "n_level": n_level, "paired": paired, "verdict": verdict, "sentence": text}


# ---------------------------------------------------------------- convergence speed

def epochs_to_target(study: Path, table, groups: list[dict], axes: list[str]) -> dict[str, int | None]:
    """Trial name -> first epoch whose primary metric reaches the target (None: never), for
    the complete trials (a corrupt one's files are never read)."""
    from ..results.frames import read_frame

    found = primary_metric(table)
    if found is None or not groups:
        return {}
    metric, higher = found
    means = [g.get(f"{metric}_mean") for g in groups if g.get(f"{metric}_mean") is not None]
    if not means:
        return {}
    best = max(means) if higher else min(means)
    target = CONVERGENCE_SHARE * best if higher else best / CONVERGENCE_SHARE
    column = metric.replace("final_", "")
    out: dict[str, int | None] = {}
    for name in table.loc[table["status"] == "complete", "trial"]:
        path = Path(study) / name / "metrics.csv"
        metrics = read_frame(path)
        if metrics is None or column not in metrics or "epoch" not in metrics:
            out[name] = None
            continue
        values = metrics[column].to_numpy(dtype=float)
        hit = np.flatnonzero(values >= target if higher else values <= target)
        out[name] = int(metrics["epoch"].iloc[hit[0]]) if len(hit) else None
    return out
