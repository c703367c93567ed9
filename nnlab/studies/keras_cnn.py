"""A Keras-style CNN that trains slower with batch norm"""

from __future__ import annotations

import math

from . import figures
from .common import ACC, Column, Study, pct, two_panels


def _keras_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    figures.curves(sd, a, "val_acc", ["batch norm"], ylabel="validation accuracy", title="validation accuracy (evaluation mode)")
    a.set_ylim(bottom=0.4)
    figures.dots(sd, b, "val_acc_mean", 100, label=lambda g: g["batch norm"], ylabel="mean validation accuracy % over epochs 1-6",
                 title="how fast: mean validation accuracy over the epochs")
    return fig


KERAS, TORCH, NO_BN = {"batch norm": "BN, Keras momentum"}, {"batch norm": "BN, PyTorch momentum"}, {"batch norm": "none"}


def _keras_answer(sd):
    slow = sd.diff("val_acc_mean", NO_BN, KERAS, 100)
    momentum = sd.diff("val_acc_mean", TORCH, KERAS, 100)
    fast = sd.diff("val_acc_mean", TORCH, NO_BN, 100)
    final = sd.diff("final_test_acc", NO_BN, KERAS, 100)
    summary = next(iter(sd.summaries.values()))
    steps = math.ceil(summary["data"]["n_train"] / 64)
    keras_slowest = sd.mean("val_acc_mean", **KERAS) < min(sd.mean("val_acc_mean", **NO_BN), sd.mean("val_acc_mean", **TORCH))
    verdict = ("trains slower than no batch norm, as evaluation sees it" if slow.real and slow.gain > 0 else
               "is the slowest of the three on average, though not beyond the seeds' noise against no batch norm"
               if keras_slowest else "is not slower than no batch norm here")
    return (f"With dropout 0.25 after each conv block and 0.5 after the dense layer, batch norm with Keras' momentum "
            f"(running statistics moved 1% per step) {verdict}: its validation accuracy averages "
            f"{sd.fmt('val_acc_mean', 100, **KERAS)}% over the 6 epochs against {sd.fmt('val_acc_mean', 100, **NO_BN)}% "
            f"without batch norm (none − Keras-momentum BN = {slow.text()}), and it ends at {pct(sd, **KERAS)} test "
            f"accuracy against {pct(sd, **NO_BN)} ({final.text()}). "
            f"Evaluation normalises with those running averages, which after the {steps} steps of an epoch still keep "
            f"{100 * 0.99 ** steps:.0f}% of their starting values at 1% per step but {100 * 0.9 ** steps:.1g}% at "
            f"PyTorch's 10%, and the dropout in front of the second conv block's and the dense layer's batch norm makes "
            f"the statistics seen in training differ from evaluation's. "
            f"With PyTorch's momentum the same network averages {sd.fmt('val_acc_mean', 100, **TORCH)}%: "
            f"{momentum.better('PyTorch-momentum BN', 'Keras-momentum BN')}, and {fast.better('PyTorch-momentum BN', 'no BN')}, "
            + ("so the slow start is the running average's, and a faster one removes it."
               if momentum.real and momentum.gain > 0 else "so the momentum alone does not explain the slow start here."))


def _keras_checks(sd):
    return [
        ("BN with Keras' momentum averages a lower validation accuracy than BN with PyTorch's",
         sd.mean("val_acc_mean", **KERAS) < sd.mean("val_acc_mean", **TORCH)),
        ("BN with Keras' momentum ends below BN with PyTorch's in test accuracy (mean over seeds)",
         sd.mean("final_test_acc", **KERAS) < sd.mean("final_test_acc", **TORCH)),
    ]


def _keras_arm(values: dict) -> str:
    if values.get("model.batchnorm", "none") == "none":
        return "none"
    return "BN, Keras momentum" if values.get("model.batchnorm_momentum") == 0.01 else "BN, PyTorch momentum"


STUDY = Study(8, "keras_cnn", "A Keras-style CNN that trains slower with batch norm",
              "a Keras-style CNN with batch norm and heavy dropout that trains slower with BN than without",
              "conv 16 → conv 32 → dense 64 with dropout 0.25 after each conv block and 0.5 after the dense layer, MNIST at "
              "14×14, 5000 images, Adam for 6 epochs; batch norm with Keras' momentum (0.99, i.e. 1% per step) and with "
              "PyTorch's (10% per step) against none",
              [Column("mean val. accuracy over epochs %", "val_acc_mean", 100), ACC],
              _keras_figure, _keras_answer, _keras_checks,
              ["data.subset=3000", "train.epochs=4", "seed=0,1"],
              derived={"batch norm": _keras_arm})
