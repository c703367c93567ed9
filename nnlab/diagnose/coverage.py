"""``classes_never_predicted``: the classes the final model never predicts on a held-out split."""

from __future__ import annotations

import numpy as np

from ..train.evaluate import predict, predicted_class
from ..train.setup import TrialSetup
from .events import event


def class_coverage(setup: TrialSetup, split: str | None = None) -> list[dict]:
    """``classes_never_predicted``: classes that make up at least 1% of a held-out split but
    that the final model never predicts there (a ReLU or bounded output layer, a collapsed
    net): accuracy cannot exceed 1 minus their share. Error when half the classes or more."""
    if setup.data.kind != "classification" or not setup.data.n_classes or setup.data.n_classes < 2:
        return []
    split = split or next((s for s in ("test", "val", "train") if s in setup.splits and len(setup.splits[s][0])), None)
    if split is None:
        return []
    x = setup.splits[split][0]
    out = predict(setup, x)
    if not np.all(np.isfinite(out)):
        return []
    predicted = np.bincount(predicted_class(out, "probabilities"), minlength=setup.data.n_classes)  # after the output activation
    present = np.bincount(setup.labels[split], minlength=setup.data.n_classes) / len(x)
    missing = [int(c) for c in np.flatnonzero((predicted == 0) & (present >= 0.01))]
    if not missing:
        return []
    share = float(present[missing].sum())
    severity = "error" if len(missing) >= setup.data.n_classes / 2 else "warn"
    names = ", ".join(map(str, missing[:12])) + (" ..." if len(missing) > 12 else "")
    return [event("classes_never_predicted", severity,
                  f"The final model never predicts class{'es' if len(missing) > 1 else ''} {names} on the {split} split "
                  f"({100 * share:.1f}% of its examples), so its accuracy there cannot exceed {100 * (1 - share):.1f}%. "
                  f"Likely cause: an output layer that cannot make those classes win (a relu or bounded output before "
                  f"softmax: use output: softmax on linear logits), or a collapsed network; see the events above.",
                  {"split": split}, classes=missing, missing_share=share, predicted_counts=predicted.tolist())]
