"""Batch norm before or after the ReLU in a small CNN"""

from __future__ import annotations

from .batchnorm import _bn_figure, _bn_sentences
from .common import ACC, Column, Study, span


def _bn_cnn_answer(sd):
    speed, acc, start, vs_none, place = _bn_sentences(sd, {})
    lead = max(("before", "after"), key=lambda bn: sd.mean("val_acc_at_1", batchnorm=bn))
    dips = {bn: sd.select(batchnorm=bn)["acc_dip"] for bn in ("none", "before", "after")}
    none = sd.select(batchnorm="none")["final_test_acc"]
    with_bn = sd.select(False).query("batchnorm != 'none'")["final_test_acc"]
    return (f"After one epoch of SGD the validation accuracy is {speed}; BN {lead}'s lead over no BN "
            f"{'is beyond noise' if start.real and start.gain > 0 else 'is not beyond noise'} ({start.text()}). "
            f"After 5 epochs, on test accuracy: {acc}. "
            f"Without batch norm the validation accuracy falls by up to {dips['none'].max():.0f} points below its best "
            f"so far and the seeds' test accuracies end at {span(none, 0, 100)}%, against falls of at most "
            f"{max(dips['before'].max(), dips['after'].max()):.0f} points and {span(with_bn, 0, 100)}% with batch norm, "
            f"while before vs after the ReLU {'differs beyond noise' if place.real else 'makes no real difference'}.")


def _bn_cnn_checks(sd):
    with_bn = sd.select(False).query("batchnorm != 'none'")
    best = max(("before", "after"), key=lambda bn: sd.mean("val_acc_at_1", batchnorm=bn))
    return [("with batch norm (either placement) every seed completes and ends ≥ 80%",
             bool(len(with_bn)) and bool((with_bn["status"] == "complete").all()) and bool((with_bn["final_test_acc"] >= 0.80).all())),
            ("batch norm starts faster: its better placement is ahead of none after epoch 1 (mean over seeds)",
             sd.mean("val_acc_at_1", batchnorm=best) > sd.mean("val_acc_at_1", batchnorm="none"))]


STUDY = Study(7, "bn_cnn", "Batch norm before or after the ReLU in a small CNN",
              "a small CNN, Conv → ReLU → BN → Pool vs Conv → BN → ReLU → Pool",
              "two conv blocks (8 and 16 filters, 3×3) on MNIST resized to 14×14, 5000 training images, SGD lr 0.05 for "
              "5 epochs, 5 seeds, and no batch norm as a third arm",
              [Column("val. accuracy after epoch 1 %", "val_acc_at_1", 100), ACC],
              _bn_figure({}), _bn_cnn_answer, _bn_cnn_checks,
              ["data.subset=3000", "seed=0,1"])
