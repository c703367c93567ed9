"""Andrew Ng's exercise 4 with categorical cross-entropy"""

from __future__ import annotations

import numpy as np

from . import figures
from .common import ACC, Column, Study, pct, share, two_panels


def _ng_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    figures.curves(sd, a, "val_acc", ["output"], ylabel="validation accuracy", title="validation accuracy per epoch")
    figures.curves(sd, b, "train_loss", ["output"], ylabel="training loss (categorical CE + L2)", logy=True,
                   title="training loss per epoch")
    return fig


def _ng_answer(sd):
    d = sd.diff("final_test_acc", {"output": "softmax"}, {"output": "sigmoid"}, 100)
    never = sd.fired("classes_never_predicted", output="sigmoid")
    counts = [(e.get("evidence") or {}).get("predicted_counts") for name in sd.select(output="sigmoid")["trial"]
              for e in sd.summaries[name].get("events") or [] if e["type"] == "classes_never_predicted"]
    single = {int(np.argmax(c)) for c in counts if c and sum(1 for v in c if v) == 1}
    outcome = (f"every test image is classified as the same digit ({', '.join(map(str, sorted(single)))}) in "
               f"{len([c for c in counts if c and sum(1 for v in c if v) == 1])} of {len(sd.select(output='sigmoid'))} seeds"
               if single else f"some digits are never predicted ({share(never)} sigmoid trials)")
    return (f"Sigmoid outputs trained with categorical cross-entropy end at {pct(sd, output='sigmoid')} test accuracy, "
            f"softmax outputs at {pct(sd, output='softmax')}: {d.better('softmax', 'sigmoid')}. "
            f"Categorical cross-entropy, −log p(true class), only pushes the true class's output up; with independent "
            f"sigmoids nothing pushes the other nine down, so every output drifts towards 1 — the training loss falls to "
            f"{sd.fmt('final_train_loss', 1, 3, output='sigmoid')} while {outcome}. "
            f"Softmax ties the outputs together so raising one lowers the others; nnlab's doctor names the mismatch "
            f"before training (sigmoid_output_with_cross_entropy), and the exercise's own cost — a logistic loss per "
            f"output — would fix it as well.")


def _ng_checks(sd):
    d = sd.diff("final_test_acc", {"output": "softmax"}, {"output": "sigmoid"}, 100)
    doctor = sd.fired("sigmoid_output_with_cross_entropy", ("warn", "error"), output="sigmoid")
    return [
        ("softmax beats sigmoid + categorical CE by more than 50 points", d.gain > 50),
        ("sigmoid + categorical CE stays near chance (≤ 20% test accuracy)", sd.mean("final_test_acc", output="sigmoid") <= 0.20),
        ("the doctor names the sigmoid/categorical-CE mismatch in every sigmoid trial", doctor[0] == doctor[1] > 0),
    ]


STUDY = Study(3, "ng_ex4", "Andrew Ng's exercise 4 with categorical cross-entropy",
              "Ng's exercise 4: 400-25-10, sigmoid hidden and output units, L2 λ = 1, 5000 20×20 digits, trained with "
              "categorical cross-entropy instead of the exercise's per-class logistic loss: about 10% accuracy",
              "MNIST resized to 20×20 (the exercise's digits are MNIST-derived too), 5000 training images, the "
              "exercise's ±0.12 uniform init and λ/m = 2e-4, plain full-batch gradient descent (lr 1, 300 steps) "
              "instead of fmincg's 50 conjugate-gradient iterations",
              [ACC, Column("final training loss", "final_train_loss", 1, 3)],
              _ng_figure, _ng_answer, _ng_checks,
              ["data.subset=2000", "train.epochs=100", "seed=0,1"])
