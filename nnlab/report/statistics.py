"""The statistics nnlab reports, in one place: summaries over seeds and intervals of
differences (groups.csv, comparisons.csv, ``nnlab fix``'s verification, the studies page).

* :class:`Summary`: n, mean, standard deviation (n - 1 in the denominator), min, max and the
  half-width of the 95% interval of the mean, t(0.975, n - 1) · sd / √n (Student t); one
  value has no interval (``ci95`` None) rather than an invented one.
* :func:`difference`: a − b with the half-width of its 95% interval, paired by seed
  (Student t on the per-seed differences) or, for unpaired samples, Welch's interval
  (unequal variances, Welch–Satterthwaite degrees of freedom).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95


def t_quantile(df: float, confidence: float = CONFIDENCE) -> float:
    """Two-sided Student t quantile, e.g. t(0.975, 4) = 2.776 for a 95% interval with n = 5."""
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, df))


@dataclass
class Summary:
    n: int
    mean: float
    std: float | None
    min: float
    max: float
    ci95: float | None          # half-width of the 95% interval of the mean; None for n = 1

    @classmethod
    def of(cls, values) -> Summary | None:
        v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
        if not len(v):
            return None
        if len(v) == 1:
            return cls(1, float(v[0]), None, float(v[0]), float(v[0]), None)
        std = float(np.std(v, ddof=1))
        return cls(len(v), float(np.mean(v)), std, float(v.min()), float(v.max()),
                   t_quantile(len(v) - 1) * std / math.sqrt(len(v)))


def mean_interval(values) -> tuple[float, float | None]:
    """(mean, half-width of its 95% Student-t interval, or None with fewer than 2 values)."""
    summary = Summary.of(values)
    if summary is None:
        return math.nan, None
    return summary.mean, summary.ci95


def difference(a: np.ndarray, b: np.ndarray, paired: bool) -> tuple[float, float | None]:
    """(mean difference a - b, half-width of its 95% interval or None when it cannot be had).
    Paired: a[i] and b[i] share seed i."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if paired:
        d = a - b
        if len(d) < 2:
            return float(np.mean(d)), None
        return float(np.mean(d)), t_quantile(len(d) - 1) * float(np.std(d, ddof=1)) / math.sqrt(len(d))
    diff = float(np.mean(a) - np.mean(b))
    if len(a) < 2 or len(b) < 2:
        return diff, None
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, 0.0
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return diff, t_quantile(df) * se


def paired_by_seed(a: dict, b: dict) -> tuple[np.ndarray, np.ndarray, bool]:
    """Two {seed: value} samples as arrays, paired when both have the same two seeds or more
    (then in seed order), else each in its own order."""
    common = sorted(set(a) & set(b))
    paired = len(common) >= 2 and len(common) == len(a) == len(b)
    xa = np.array([a[s] for s in common] if paired else list(a.values()), dtype=np.float64)
    xb = np.array([b[s] for s in common] if paired else list(b.values()), dtype=np.float64)
    return xa, xb, paired
