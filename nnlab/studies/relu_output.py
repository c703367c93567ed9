"""ReLU on the last layer before softmax"""

from __future__ import annotations

from . import figures
from .common import ACC, Column, Study, pct, share, span, two_panels


def _relu_out_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    figures.curves(sd, a, "train_loss", ["output"], ylabel="training loss (CE)", logy=True,
                   title="training loss (mean of seeds, band: min–max)")
    figures.dots(sd, b, "final_test_acc", 100, label=lambda g: f"{g['output']} output", ylabel="test accuracy %",
                 title="test accuracy (dots: seeds; bar: mean ± 95% CI)")
    return fig


def _count_words(counts: list[int]) -> str:
    """'1 digit', 'between 1 and 4 digits', 'no digit'."""
    if not counts:
        return "no digit"
    lo, hi = min(counts), max(counts)
    return f"{lo} digit{'s' if lo != 1 else ''}" if lo == hi else f"between {lo} and {hi} digits"


def _relu_out_answer(sd):
    d = sd.diff("final_test_acc", {"output": "linear"}, {"output": "ReLU"}, 100)
    never = sd.fired("classes_never_predicted", output="ReLU")
    relu = sd.select(output="ReLU")
    missing = [len((e.get("evidence") or {}).get("classes") or []) for name in relu["trial"]
               for e in sd.summaries[name].get("events") or [] if e["type"] == "classes_never_predicted"]
    return (f"With ReLU logits the training loss still falls to {sd.fmt('loss_ratio', 1, 2, output='ReLU')} of its "
            f"start, but test accuracy ends at {pct(sd, output='ReLU')} ({span(relu['final_test_acc'], 0, 100)}% over "
            f"the seeds) against {pct(sd, output='linear')} for a linear last layer: {d.better('linear', 'ReLU')}. "
            f"A ReLU logit can never go below 0, and once an output unit's input is negative for every image its "
            f"gradient is 0 for good and its digit is never predicted: {share(never)} ReLU trials end with "
            f"{_count_words(missing)} that {'is' if max(missing, default=0) == 1 else 'are'} never predicted. "
            f"The doctor flags the ReLU output before training (output_activation_with_cross_entropy): softmax "
            f"cross-entropy wants raw, linear logits.")


def _relu_out_checks(sd):
    d = sd.diff("final_test_acc", {"output": "linear"}, {"output": "ReLU"}, 100)
    doctor = sd.fired("output_activation_with_cross_entropy", ("info", "warn", "error"), output="ReLU")
    never = sd.fired("classes_never_predicted", output="ReLU")
    return [
        ("linear logits beat ReLU logits by more than 5 points", d.gain > 5),
        ("some digit is never predicted in most ReLU-output trials", never[0] > never[1] / 2),
        ("the doctor flags the ReLU output in every ReLU-output trial", doctor[0] == doctor[1] > 0),
    ]


STUDY = Study(2, "relu_output", "ReLU on the last layer before softmax",
              "a two-layer net on Fashion-MNIST or MNIST whose last layer is ReLU before the softmax: the loss falls a "
              "little but the model does not learn",
              "MNIST (Fashion-MNIST is not on this machine), 784-128-10 with the from-scratch habit of 0.01·N(0,1) "
              "weights, 10 000 training images, 6 epochs of SGD (lr 0.1, batch 64), 5 seeds",
              [ACC, Column("training loss ÷ initial", "loss_ratio", 1, 3)],
              _relu_out_figure, _relu_out_answer, _relu_out_checks,
              ["data.subset=4000", "train.epochs=4", "seed=0,1,2"],
              {"output": {"relu": "ReLU", "linear": "linear"}})
