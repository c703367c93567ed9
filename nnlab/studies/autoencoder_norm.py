"""A sigmoid autoencoder on unnormalised inputs"""

from __future__ import annotations

import numpy as np

from . import figures
from .common import Column, Study, share, two_panels


def _ae_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    for k, g in enumerate(sd.groups()):
        runs = sd.curves("train_loss", **g)
        stack = np.vstack([v / v[0] for _, v in runs.values()])
        epochs = next(iter(runs.values()))[0]
        a.plot(epochs, stack.mean(axis=0), color=figures.COLORS[k], label=f"inputs {g['normalize']}")
        a.fill_between(epochs, stack.min(axis=0), stack.max(axis=0), color=figures.COLORS[k], alpha=0.15)
    a.set(xlabel="epoch", ylabel="training MSE ÷ MSE before training", title="reconstruction error relative to its start")
    a.title.set_fontsize(9)
    a.set_ylim(bottom=0)
    a.legend(fontsize=7)
    a.grid(alpha=0.3)
    figures.curves(sd, b, "sat_frac/1", ["normalize"], ylabel="share of hidden sigmoid activations saturated",
                   title="saturated hidden units (outside [0.01, 0.99])")
    return fig


def _ae_answer(sd):
    raw, scaled = {"normalize": "none"}, {"normalize": "scale"}
    vanish = sd.fired("vanishing_gradients", **raw)
    return (f"On raw pixels (0–255) the sigmoid autoencoder's reconstruction error only falls to "
            f"{sd.fmt('loss_ratio', 1, 3, **raw)} of its starting value in 10 epochs, against "
            f"{sd.fmt('loss_ratio', 1, 3, **scaled)} with pixels scaled to [0, 1]. "
            f"With inputs in the hundreds the hidden pre-activations are huge, so {sd.fmt('sat_max', 100, 0, **raw)}% "
            f"of the sigmoid activations sit at 0 or 1, where their gradient is ~0 and the encoder cannot learn "
            f"(nnlab: saturated_units in {share(sd.fired('saturated_units', **raw))}, vanishing_gradients in "
            f"{share(vanish)} raw-input trials). "
            f"Scaling the inputs keeps the units in their working range ({sd.fmt('sat_max', 100, 1, **scaled)}% saturated), "
            f"and the doctor flags the raw inputs before training (unscaled_inputs).")


def _ae_checks(sd):
    return [("the scaled autoencoder's relative error ends below half the raw one's",
             sd.mean("loss_ratio", normalize="scale") < 0.5 * sd.mean("loss_ratio", normalize="none")),
            ("on raw pixels most hidden activations are saturated (> 50%)", sd.mean("sat_max", normalize="none") > 0.5),
            ("the diagnosis names the saturation in every raw-input trial",
             (lambda h: h[0] == h[1] > 0)(sd.fired("saturated_units", normalize="none")))]


STUDY = Study(11, "autoencoder_norm", "A sigmoid autoencoder on unnormalised inputs",
              "an autoencoder with sigmoid units on unnormalised inputs: the error barely moves; normalising fixes it",
              "784-64-784 with sigmoid hidden units and a linear output, MSE, Adam for 10 epochs on 5000 MNIST images, "
              "raw pixels (0–255) vs pixels / 255",
              [Column("training MSE ÷ initial", "loss_ratio", 1, 3), Column("saturated hidden activations %", "sat_max", 100, 0)],
              _ae_figure, _ae_answer, _ae_checks,
              ["data.subset=1500", "train.epochs=3", "seed=0,1"])
