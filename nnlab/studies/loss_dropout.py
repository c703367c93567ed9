"""Squared error vs cross-entropy; inverted dropout's scaling"""

from __future__ import annotations

from . import figures
from .common import ACC, Column, Study, pct, share, two_panels


def _loss_drop_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    figures.curves(sd, a, "val_acc", ["loss", "dropout"], ylabel="validation accuracy", title="validation accuracy per epoch")
    a.set_ylim(bottom=0.3)
    figures.dots(sd, b, "final_test_acc", 100, label=lambda g: f"{g['loss']}\n{g['dropout']} dropout", ylabel="test accuracy %",
                 title="test accuracy (dots: seeds; bar: mean ± 95% CI)")
    return fig


def _loss_drop_answer(sd):
    inv, orig = {"dropout": "inverted"}, {"dropout": "original"}
    ce_mse = sd.diff("final_test_acc", {"loss": "cross-entropy", **inv}, {"loss": "squared error", **inv}, 100)
    forms = {loss: sd.diff("final_test_acc", {"loss": loss, **inv}, {"loss": loss, **orig}, 100)
             for loss in ("cross-entropy", "squared error")}
    doctor = sd.fired("squared_error_for_classification", ("warn", "error"), loss="squared error")
    differ = [loss for loss, d in forms.items() if d.real]
    same = [loss for loss, d in forms.items() if not d.real]
    return (f"With softmax outputs and SGD, cross-entropy reaches {pct(sd, loss='cross-entropy', **inv)} test accuracy and "
            f"squared error {pct(sd, loss='squared error', **inv)}, so {ce_mse.better('cross-entropy', 'squared error')}: "
            f"the squared error's gradient through the softmax shrinks when an output is confidently wrong, exactly "
            f"where cross-entropy's is largest (the doctor warns: squared_error_for_classification, {share(doctor)} trials). "
            f"Inverted dropout scales the kept units by 1/(1 − p) in training and leaves evaluation unscaled, while the "
            f"original form trains unscaled and multiplies by 1 − p at evaluation, so both evaluate the same expected "
            f"activation. "
            + (f"With {' and '.join(differ)} they still train differently at the same learning rate, since the original "
               f"form trains with half-size activations ({'; '.join(forms[loss].better('inverted', 'original') for loss in differ)})"
               if differ else "At the same learning rate they also train alike")
            + (f"{'; with ' if differ else ' with '}{' and '.join(same)} there is no real difference "
               f"({'; '.join('inverted − original = ' + forms[loss].text() for loss in same)})" if same else "") + ".")


def _loss_drop_checks(sd):
    inv = {"dropout": "inverted"}
    d = sd.diff("final_test_acc", {"loss": "cross-entropy", **inv}, {"loss": "squared error", **inv}, 100)
    return [("cross-entropy beats squared error by more than 3 points (inverted dropout)", d.gain > 3),
            ("both dropout forms learn with cross-entropy (≥ 80%)",
             min(sd.mean("final_test_acc", loss="cross-entropy", dropout=f) for f in ("inverted", "original")) >= 0.80)]


STUDY = Study(14, "loss_dropout", "Squared error vs cross-entropy; inverted dropout's scaling",
              "squared error vs cross-entropy for classification, and inverted dropout's scaling (evaluation unscaled)",
              "784-256-10 with softmax outputs and dropout 0.5, 5000 MNIST images, SGD lr 0.1 for 10 epochs; the original "
              "(pre-2014) dropout as the other form",
              [ACC, Column("val. accuracy after epoch 1 %", "val_acc_at_1", 100)],
              _loss_drop_figure, _loss_drop_answer, _loss_drop_checks,
              ["data.subset=2000", "train.epochs=4", "seed=0,1"],
              derived={"loss": lambda v: {"cross_entropy": "cross-entropy", "mse": "squared error"}[v["loss.name"]],
                       "dropout": lambda v: "inverted" if v["model.layers.2.inverted"] else "original"})
