"""cs231n's spiral: the gradient averaged or summed over the batch"""

from __future__ import annotations

import math

import numpy as np

from . import figures
from .common import ACC, Column, Study, two_panels


def _spiral_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    for k, reduction in enumerate(("mean", "sum")):
        xs, ys, lo, hi, blown = [], [], [], [], []
        for g in (g for g in sd.groups() if g["reduction"] == reduction):
            v = [100 * x for x in sd.pooled("final_train_acc", **g)]
            if sd.fired("divergence", ("error",), **g)[0] or not v:
                blown.append(float(g["lr"]))
                continue
            xs.append(float(g["lr"]))
            ys.append(float(np.mean(v)))
            lo.append(min(v))
            hi.append(max(v))
        a.plot(xs, ys, "o-", color=figures.COLORS[k], label=f"loss {reduction} over the batch")
        a.fill_between(xs, lo, hi, color=figures.COLORS[k], alpha=0.15)
        if blown:
            a.plot(blown, [30] * len(blown), "x", color=figures.COLORS[k], ms=9, mew=2,
                   label=f"{reduction}: diverged (NaN or blow-up)")
    a.set_xscale("log")
    a.set_ylim(25, 102)
    a.set(xlabel="learning rate", ylabel="final training accuracy %", title="training accuracy vs learning rate (band: seeds)")
    a.title.set_fontsize(9)
    a.legend(fontsize=7)
    a.grid(alpha=0.3)
    best = [{"reduction": r, "lr": _best_lr(sd, r)} for r in ("mean", "sum")]
    for k, g in enumerate(best):
        for seed, (epochs, loss) in sorted(sd.curves("train_loss", **g).items()):
            b.plot(epochs, loss, color=figures.COLORS[k], lw=1, label=f"{g['reduction']}, lr {g['lr']}" if seed == min(sd.curves("train_loss", **g)) else None)
    b.set_yscale("log")
    b.set(xlabel="epoch (= step: full batch)", ylabel="training loss", title="training loss at each form's best rate (every seed)")
    b.title.set_fontsize(9)
    b.legend(fontsize=7)
    b.grid(alpha=0.3)
    return fig


def _best_lr(sd, reduction: str) -> str:
    groups = [g for g in sd.groups() if g["reduction"] == reduction]
    return max(groups, key=lambda g: np.nan_to_num(sd.mean("final_train_acc", **g), nan=-1))["lr"]


def _spiral_answer(sd):
    m, s = _best_lr(sd, "mean"), _best_lr(sd, "sum")
    n = next(iter(sd.summaries.values()))["data"]["n_train"]
    diverged = {g["lr"]: sd.fired("divergence", ("error",), **g) for g in sd.groups() if g["reduction"] == "sum"}
    blew = [lr for lr, (h, k) in diverged.items() if h == k > 0]
    stuck = [g["lr"] for g in sd.groups() if g["reduction"] == "mean" and sd.fired("plateau", **g)[0] > sd.fired("plateau", **g)[1] / 2
             and sd.mean("final_train_acc", **g) < 0.9]
    named = any("loss.reduction: sum" in e.get("message", "") for s_ in sd.summaries.values() for e in s_.get("events") or []
                if e["type"] == "divergence")
    norm_sum, norm_mean = _norm(sd, "sum", s), _norm(sd, "mean", m)
    grows = norm_sum > norm_mean
    return (f"With the loss averaged over the {n} training points the best of the four rates is {m} "
            f"(training accuracy {sd.fmt('final_train_acc', 100, reduction='mean', lr=m)}%, test "
            f"{sd.fmt('final_test_acc', 100, reduction='mean', lr=m)}%); summed, it is {s} "
            f"({sd.fmt('final_train_acc', 100, reduction='sum', lr=s)}%, test {sd.fmt('final_test_acc', 100, reduction='sum', lr=s)}%). "
            f"A full-batch summed loss makes every gradient {n} times larger, so the usable rate moves down by about "
            f"that factor: summed, lr {' and '.join(blew) if blew else '(none)'} blow{'s' if len(blew) == 1 else ''} up "
            f"on every seed (nnlab: divergence{', naming loss.reduction: sum and the batch size as the likely cause' if named else ''}), "
            f"while averaged, lr {' and '.join(stuck) if stuck else '(none)'} {'are' if len(stuck) != 1 else 'is'} still "
            f"on a plateau after {int(sd.mean('epochs', reduction='mean', lr=m))} steps "
            f"({', '.join(sd.fmt('final_train_acc', 100, reduction='mean', lr=lr) + '%' for lr in stuck)}). "
            f"The two forms are the same method at rates that differ by the batch size, with one catch: the L2 penalty is "
            f"added once, not per point, so summing weakens it {n}-fold"
            + (f" — at their best rates the first layer's weight norm ends at {norm_sum:.1f} summed against "
               f"{norm_mean:.1f} averaged." if grows else
               f", though here the first layer's weight norm does not end larger ({norm_sum:.1f} summed, {norm_mean:.1f} averaged)."))


def _norm(sd, reduction: str, lr: str) -> float:
    ends = [v[-1] for _, v in sd.curves("weight_norm/0", reduction=reduction, lr=lr).values()]
    return float(np.mean(ends)) if ends else math.nan


def _spiral_checks(sd):
    blown = sd.fired("divergence", ("error",), reduction="sum", lr="1.0")
    return [("summed loss at lr 1.0 diverges on every seed", blown[0] == blown[1] > 0),
            ("averaged loss at lr 1.0 trains (≥ 80% training accuracy)", sd.mean("final_train_acc", reduction="mean", lr="1.0") >= 0.80),
            ("the best summed rate is at least 10× below the best averaged rate",
             float(_best_lr(sd, "sum")) * 10 <= float(_best_lr(sd, "mean")))]


STUDY = Study(10, "cs231n_spiral", "cs231n's spiral: the gradient averaged or summed over the batch",
              "the cs231n two-layer net (2-100-3 ReLU, softmax, L2 1e-3) on the 3-class spiral with gradient descent, "
              "gradient averaged vs summed over the batch",
              "297 training points (330 of nnlab's spirals at noise 0.2, less a 10% validation split), 0.01·N(0,1) init, full-batch SGD for 1000 steps with the "
              "rate halved every 500, four rates from 0.001 to 1",
              [Column("training accuracy %", "final_train_acc", 100), ACC],
              _spiral_figure, _spiral_answer, _spiral_checks,
              ["train.epochs=300", "optimizer.lr=0.01,1.0", "seed=0,1"])
