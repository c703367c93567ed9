"""Validation loss rises while accuracy improves: early stopping on which?"""

from __future__ import annotations

from . import figures
from .common import ACC, Column, Study, _stopping, pct, span, two_panels


def _overconf_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    none = {"early stopping": "none"}
    figures.curves(sd, a, "val_loss", ["early stopping"], fixed=none, ylabel="validation loss", from_epoch=1,
                   title="no early stopping: validation loss (from epoch 1)")
    figures.curves(sd, b, "val_acc", ["early stopping"], fixed=none, ylabel="validation accuracy", from_epoch=1,
                   title="no early stopping: validation accuracy (from epoch 1)")
    for ax, column in ((a, "best_val_loss_epoch"), (b, "best_val_acc_epoch")):
        for epoch in sd.select(**none)[column]:
            ax.axvline(epoch, color="#c0392b", lw=0.8, ls=":")
    a.text(0.98, 0.05, "dotted: each seed's best epoch", transform=a.transAxes, ha="right", va="bottom", fontsize=7)
    return fig


def _overconf_answer(sd):
    none, on_loss, on_acc = {"early stopping": "none"}, {"early stopping": "on val_loss"}, {"early stopping": "on val_acc"}
    d_loss = sd.diff("final_test_acc", on_loss, none, 100)
    d_acc = sd.diff("final_test_acc", on_acc, none, 100)
    calib = sd.diff("final_test_loss", on_loss, none)
    loss_only = sum(1 for name in sd.select(**none)["trial"]
                    if any(e["type"] == "overfitting" and e.get("evidence", {}).get("loss_only")
                           for e in sd.summaries[name].get("events") or []))
    stops = {k: sd.select(**w) for k, w in (("loss", on_loss), ("acc", on_acc))}
    def when(t):
        hit = t[t["early_stopped"] == 1]
        return (f"{len(hit)} of {len(t)} runs" + (f" (at epoch {span(hit['epochs'], 0)})" if len(hit) else ""))
    return (f"Without early stopping the validation loss is lowest at epoch {span(sd.select(**none)['best_val_loss_epoch'], 0)} "
            f"and ends {sd.fmt('val_rise', 1, 0, **none)}% above that minimum, while the validation accuracy keeps "
            f"improving until epoch {span(sd.select(**none)['best_val_acc_epoch'], 0)}: the net grows over-confident on "
            f"the few images it gets wrong (nnlab: loss-only overfitting in {loss_only} of {len(sd.select(**none))} runs). "
            f"Early stopping on val_loss stops {when(stops['loss'])} and on val_acc {when(stops['acc'])}, and against 25 "
            f"epochs without stopping ({pct(sd, **none)} test accuracy) {d_loss.better('stopping on val_loss', 'no stopping')}, "
            f"{d_acc.better('stopping on val_acc', 'no stopping')}. "
            + (f"What stopping on val_loss does buy is a lower test loss — {sd.fmt('final_test_loss', 1, 3, **on_loss)} "
               f"against {sd.fmt('final_test_loss', 1, 3, **none)}, a difference of {calib.text('{:.3f}', '')} — so "
               f"monitor the quantity you will be judged on."
               if calib.real and calib.gain < 0 else
               f"Its test loss, {sd.fmt('final_test_loss', 1, 3, **on_loss)} against {sd.fmt('final_test_loss', 1, 3, **none)}, "
               f"is no better beyond noise either: on this data the choice of monitor barely matters."))


def _overconf_checks(sd):
    none = sd.select(**{"early stopping": "none"})
    return [("without early stopping the validation loss bottoms out before the validation accuracy peaks (mean over seeds)",
             float(none["best_val_loss_epoch"].mean()) < float(none["best_val_acc_epoch"].mean())),
            ("the validation loss ends ≥ 5% above its minimum", float(none["val_rise"].mean()) >= 5),
            ("early stopping on val_loss stops earlier than on val_acc",
             sd.mean("epochs", **{"early stopping": "on val_loss"}) < sd.mean("epochs", **{"early stopping": "on val_acc"}))]


STUDY = Study(12, "overconfidence", "Validation loss rises while accuracy improves: early stopping on which?",
              "784-300-75-10 ReLU/softmax whose validation loss rises while its accuracy still improves; early stopping on "
              "validation loss vs accuracy",
              "5000 MNIST training images (6000 for validation), Adam 0.001 for up to 25 epochs, patience 5 with the best "
              "weights restored",
              [Column("epochs run", "epochs", 1, 0), ACC, Column("test loss", "final_test_loss", 1, 3)],
              _overconf_figure, _overconf_answer, _overconf_checks,
              ["train.epochs=15", "seed=0,1"],
              derived={"early stopping": lambda v: _stopping(v, "on {monitor}")})
