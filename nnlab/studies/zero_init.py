"""Zero init: the loss is stuck whatever the learning rate or width"""

from __future__ import annotations

import numpy as np

from . import figures
from .common import ACC, Column, J, Study, pct, share, span, two_panels


def _zero_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    figures.curves(sd, a, "train_loss", ["init", "lr"], fixed={"hidden": "3×128"}, ylabel="training loss (BCE)",
                   title="training loss, width 3×128 (mean of seeds, band: min–max)")
    figures.dots(sd, b, "final_test_acc", 100, label=lambda g: f"{g['init']}\nlr {g['lr']}\n{g['hidden']}",
                 ylabel="test accuracy %", title="test accuracy per setting (dots: seeds; bar: mean ± 95% CI)")
    return fig


def _zero_answer(sd):
    zeros = sd.select(init="zeros")
    he = [g for g in sd.groups() if g["init"] == "He"]
    best = max(he, key=lambda g: sd.mean("final_test_acc", **g))
    worst = min(he, key=lambda g: sd.mean("final_test_acc", **g))
    same = _widths_identical(sd)
    dup, chance = sd.fired("duplicate_units", init="zeros"), at_chance(sd, init="zeros")
    distinct = span(zeros["distinct_first"], 0)
    return (f"With zero init every setting — learning rate 0.01 to 1, width 32 or 128 — ends at "
            f"{span(zeros['final_test_acc'], 1, 100)}% test accuracy (nnlab: a plateau at chance in {share(chance)} "
            f"trials), and the two widths give {'identical' if same else 'different'} training losses. "
            f"Every unit of a layer starts with the same weights and gets the same gradient, so the first layer ends with "
            f"{distinct} distinct unit{'' if distinct == '1' else 's'} (duplicate_units in {share(dup)}); its zero "
            f"weights give the leaky ReLUs nothing to pass on, and the loss can only fall as far as the output biases "
            f"take it. "
            f"He init breaks the symmetry: {pct(sd, **worst)} at its worst setting (lr {worst['lr']}, {worst['hidden']}) "
            f"and {pct(sd, **best)} at its best (lr {best['lr']}, {best['hidden']}), and the doctor flags zero init "
            f"before a single step (symmetric_init).")


def _widths_identical(sd) -> bool:
    zeros = sd.select(init="zeros")
    pairs = zeros.groupby(["lr", "seed"])["final_train_loss"].agg(lambda v: float(np.ptp(v.to_numpy(dtype=float))))
    return bool(len(pairs)) and bool((pairs <= 1e-9).all())


def at_chance(sd, **where) -> tuple[int, int]:
    """(trials whose plateau was classified 'at chance', finished trials) in a selection."""
    t = sd.select(False, **where)
    t = t[t["status"].isin(("complete", "diverged"))]
    hits = sum(any(e["type"] == "plateau" and (e.get("evidence") or {}).get("classification") == "at_chance"
                   for e in sd.summaries.get(name, {}).get("events") or []) for name in t["trial"])
    return hits, len(t)


def _zero_checks(sd):
    zeros = sd.select(init="zeros")
    he_best = [max(sd.mean("final_test_acc", init="He", lr=g["lr"], hidden=w) for g in sd.groups() if g["init"] == "He")
               for w in {g["hidden"] for g in sd.groups()}]
    return [
        ("zero init ends at chance (test accuracy ≤ 15%) in every trial", bool(len(zeros)) and bool((zeros["final_test_acc"] <= 0.15).all())),
        ("under zero init the width changes nothing (identical training loss for 32 and 128 units)", _widths_identical(sd)),
        ("He init at its best learning rate reaches ≥ 70% at both widths", bool(he_best) and min(he_best) >= 0.70),
        ("the diagnosis names duplicate units and a plateau in every zero-init trial",
         all(h == n > 0 for h, n in (sd.fired("duplicate_units", init="zeros"), sd.fired("plateau", init="zeros")))),
    ]


STUDY = Study(1, "zero_init", "Zero init: the loss is stuck whatever the learning rate or width",
              "a deep net written from scratch on MNIST, leaky-ReLU hidden layers, sigmoid outputs, every weight initialised to 0",
              "three hidden layers of 32 or 128 units, 3000 training images, 8 epochs of SGD (batch 32) with binary "
              "cross-entropy on the one-hot targets, at three learning rates; He init as the contrast",
              [ACC, Column("final training loss", "final_train_loss", 1, 3), Column("distinct units, layer 1", "distinct_first", 1, 0)],
              _zero_figure, _zero_answer, _zero_checks,
              ["train.epochs=4", "optimizer.lr=0.1,1.0", "seed=0,1"],
              {"init": {"zeros": "zeros", "he_normal": "He"}, "hidden": {J([32] * 3): "3×32", J([128] * 3): "3×128"}})
