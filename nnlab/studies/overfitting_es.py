"""Overfitting, and early stopping that restores the best weights"""

from __future__ import annotations

from . import figures
from .common import ACC, Column, Study, _stopping, span, two_panels


def _overfit_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    none = {"early stopping": "none"}
    for column, color, name in (("train_loss", figures.COLORS[0], "training loss"), ("val_loss", figures.COLORS[1], "validation loss")):
        for seed, (epochs, loss) in sorted(sd.curves(column, **none).items()):
            a.plot(epochs, loss, color=color, lw=1, label=name if seed == min(sd.curves(column, **none)) else None)
    for onset in sd.select(**none)["best_val_loss_epoch"]:
        a.axvline(onset, color="#c0392b", lw=0.8, ls=":")
    a.set_yscale("log")
    a.set(xlabel="epoch", ylabel="loss", title="no early stopping: every seed (dotted: lowest validation loss)")
    a.title.set_fontsize(9)
    a.legend(fontsize=7)
    a.grid(alpha=0.3)
    figures.dots(sd, b, "final_val_loss", groups=sd.groups(), label=lambda g: f"early stopping:\n{g['early stopping']}",
                 ylabel="final validation loss (restored weights)", title="final validation loss (dots: seeds; bar: mean ± 95% CI)")
    return fig


def _overfit_answer(sd):
    none, es = {"early stopping": "none"}, {"early stopping": "val_loss, patience 5"}
    onsets = [next((e.get("evidence", {}).get("onset_epoch") for e in sd.summaries[name].get("events") or []
                    if e["type"] == "overfitting"), None) for name in sd.select(**none)["trial"]]
    onsets = [o for o in onsets if o is not None]
    test_loss = sd.diff("final_test_loss", es, none)
    acc = sd.diff("final_test_acc", es, none, 100)
    stopped = sd.select(**es)
    stopped = stopped[stopped["early_stopped"] == 1]
    return (f"On 200 training images the training loss falls to {sd.fmt('final_train_loss', 1, 4, **none)} while the "
            f"validation loss bottoms out at epoch {span(sd.select(**none)['best_val_loss_epoch'], 0)} and ends "
            f"{sd.fmt('val_rise', 1, 0, **none)}% above its minimum; nnlab reports overfitting in {len(onsets)} of "
            f"{len(sd.select(**none))} runs, with its onset at epoch {span(onsets, 0)}. "
            f"Early stopping on val_loss with patience 5 stops {len(stopped)} of {len(sd.select(**es))} runs, at epoch "
            f"{span(stopped['epochs'], 0)}, and restores the weights of the best epoch it saw: their test loss is "
            f"{sd.fmt('final_test_loss', 1, 3, **es)} against {sd.fmt('final_test_loss', 1, 3, **none)}, and "
            f"{test_loss.better('early stopping', 'no stopping', '{:.3f}', '', lower=True)}. "
            f"On test accuracy {acc.better('early stopping', 'no stopping')}: the rise in validation loss is mostly "
            f"over-confidence on images the net gets wrong anyway, so here early stopping buys a lower test loss and a "
            f"shorter run rather than accuracy.")


def _overfit_checks(sd):
    none, es = {"early stopping": "none"}, {"early stopping": "val_loss, patience 5"}
    fired = sd.fired("overfitting", **none)
    return [("without early stopping the validation loss ends ≥ 10% above its minimum", sd.mean("val_rise", **none) >= 10),
            ("the diagnosis reports overfitting in every run without early stopping", fired[0] == fired[1] > 0),
            ("early stopping's restored weights have a lower test loss than the full run's",
             sd.mean("final_test_loss", **es) < sd.mean("final_test_loss", **none))]


STUDY = Study(15, "overfitting_es", "Overfitting, and early stopping that restores the best weights",
              "training loss down, validation loss up; early stopping that restores the best weights",
              "784-512-512-10 on 200 MNIST images (6000 for validation), Adam 0.001 for 40 epochs, patience 5",
              [Column("epochs run", "epochs", 1, 0), Column("final val. loss", "final_val_loss", 1, 3),
               Column("test loss", "final_test_loss", 1, 3), ACC],
              _overfit_figure, _overfit_answer, _overfit_checks,
              ["seed=0,1"],
              derived={"early stopping": lambda v: _stopping(v, "{monitor}, patience {patience}")})
