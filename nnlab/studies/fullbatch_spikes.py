"""Full-batch gradient descent: the spiky cost curve"""

from __future__ import annotations

import math

import numpy as np

from . import figures
from .common import ACC, Column, Study, share


def _fullbatch_figure(sd, plt):
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0), sharey=True)
    for ax, act in zip(axes, ("relu", "tanh"), strict=True):
        for k, lr in enumerate(("0.1", "0.5", "2.0")):
            runs = sd.step_losses(activation=act, lr=lr)
            if not runs:
                continue
            seed = min(runs)
            ax.plot(np.arange(1, len(runs[seed]) + 1), runs[seed], color=figures.COLORS[k], lw=1, label=f"lr {lr} (seed {seed})")
        ax.set_yscale("log")
        ax.set(xlabel="step (= epoch: one full batch)", title=f"{act}: full-batch training loss per step")
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("training loss")
    return fig


def _fullbatch_answer(sd):
    rises = {lr: sd.mean("loss_rises", 100, False, lr=lr) for lr in ("0.1", "0.5", "2.0")}
    worst = {lr: 100 * max(sd.pooled("loss_rises", False, lr=lr), default=math.nan) for lr in ("0.1", "0.5", "2.0")}
    acts = ("relu", "sigmoid", "tanh", "leaky_relu")
    at2 = {a: sd.select(False, activation=a, lr="2.0")["loss_rises"].mean() * 100 for a in acts}
    dead = sd.mean("dead_max", 100, False, activation="relu", lr="2.0")
    blew = {a: sd.fired("divergence", ("error",), activation=a, lr="2.0") for a in acts}
    best = {a: max(("0.1", "0.5", "2.0"), key=lambda lr: sd.mean("final_test_acc", complete=False, activation=a, lr=lr)) for a in acts}
    spiky = sum(1 for name in sd.select(False, lr="2.0")["trial"]
                if any(sd.fired(e, ("info", "warn", "error"), trial=name)[0] for e in ("spiky_run", "loss_spikes")))
    smooth = "on no step" if worst["0.1"] == 0 else f"on {rises['0.1']:.1f}% of steps"
    return (f"With the whole training set in every step there is no sampling noise, so the loss rises only when a step "
            f"overshoots: {smooth} at lr 0.1, on {rises['0.5']:.1f}% of steps at 0.5 and {rises['2.0']:.1f}% at 2.0 "
            f"(averaged over the four activations), and nnlab marks spikes in {spiky} of the "
            f"{len(sd.select(False, lr='2.0'))} runs at 2.0. "
            f"How badly a too-long step goes depends on the activation: at lr 2.0 the loss rises on "
            + ", ".join(f"{a} {at2[a]:.0f}%" for a in acts) + " of steps; ReLU ends with "
            f"{dead:.0f}% of a layer dead ({sd.fmt('final_test_acc', 100, 1, False, activation='relu', lr='2.0')}% test "
            f"accuracy), tanh and leaky ReLU blow up (nnlab: divergence in {share(blew['tanh'])} and "
            f"{share(blew['leaky_relu'])}) and partly recover to {sd.fmt('final_test_acc', 100, 0, False, activation='tanh', lr='2.0')}% "
            f"and {sd.fmt('final_test_acc', 100, 0, False, activation='leaky_relu', lr='2.0')}%, and sigmoid, whose "
            f"slope is at most 1/4, copes best ({sd.fmt('final_test_acc', 100, 1, False, activation='sigmoid', lr='2.0')}%). "
            + ("The smooth curve of lr 0.1 is not the best one either — in 150 steps the best test accuracy comes at lr "
               if any(b != "0.1" for b in best.values()) else "In 150 steps the best test accuracy comes at lr ")
            + ", ".join(f"{best[a]} for {a}" for a in acts)
            + " — so take the largest rate whose curve still falls overall (nnlab's spike findings mark where that ends).")


def _fullbatch_checks(sd):
    return [("at lr 0.1 no run's full-batch loss rises on more than 1% of its steps",
             max(sd.pooled("loss_rises", False, lr="0.1"), default=1.0) <= 0.01),
            ("at lr 2.0 the loss rises on more than 10% of steps (mean over runs)", sd.mean("loss_rises", 1, False, lr="2.0") > 0.10),
            ("at lr 2.0 the diagnosis finds spikes, dead units or divergence in every ReLU, tanh and leaky-ReLU run",
             all(any(sd.fired(e, ("info", "warn", "error"), trial=name)[0] for e in ("spiky_run", "loss_spikes", "dead_units", "divergence"))
                 for name in sd.select(False, lr="2.0").query("activation != 'sigmoid'")["trial"]))]


STUDY = Study(16, "fullbatch_spikes", "Full-batch gradient descent: the spiky cost curve",
              "full-batch gradient descent on MNIST with ReLU vs sigmoid vs tanh vs leaky ReLU: a spiky cost curve, and "
              "what the learning rate does to it",
              "784-64-10 with He init on 3000 MNIST images, 150 full-batch steps at lr 0.1, 0.5 and 2",
              [Column("steps where the loss rises %", "loss_rises", 100), ACC, Column("dead %", "dead_max", 100, 0)],
              _fullbatch_figure, _fullbatch_answer, _fullbatch_checks,
              ["data.subset=1000", "train.epochs=60", "seed=0,1"])
