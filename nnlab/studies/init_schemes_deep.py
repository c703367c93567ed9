"""Weight init scales for sigmoid, tanh and ReLU in a deeper net"""

from __future__ import annotations

import numpy as np

from .common import ACC, Column, J, Study, share, span

INIT_NAMES = {"normal(std=1.0)": "N(0,1)", "normal(std=0.01)": "0.01·N(0,1)", "lecun_normal": "1/√n (LeCun)",
              "glorot_uniform": "Glorot", "he_normal": "He", J(["zeros"] + ["glorot_uniform"] * 6): "zeros in layer 1 only"}

CHANCE_PCT = 20        # test accuracy at or below this (10 digits) is "near chance" in the answers and checks


def _init_figure(sd, plt):
    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    inits = list(dict.fromkeys(g["init"] for g in sd.groups()))
    acts = list(dict.fromkeys(g["activation"] for g in sd.groups()))
    grid = np.full((len(acts), len(inits)), np.nan)
    for i, act in enumerate(acts):
        for j, init in enumerate(inits):
            v = sd.values("final_test_acc", init=init, activation=act)
            grid[i, j] = 100 * np.mean(list(v.values())) if v else np.nan
    ax.imshow(np.nan_to_num(grid, nan=0), cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    for i, act in enumerate(acts):
        for j, init in enumerate(inits):
            diverged = sd.count(init=init, activation=act) - len(sd.select(init=init, activation=act))
            text = "every seed\ndiverged" if np.isnan(grid[i, j]) else f"{grid[i, j]:.0f}%"
            if diverged and not np.isnan(grid[i, j]):
                text += f"\n({diverged} diverged)"
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(inits)))
    ax.set_xticklabels(inits, fontsize=8, rotation=15)
    ax.set_yticks(range(len(acts)))
    ax.set_yticklabels(acts, fontsize=8)
    ax.set_title("test accuracy, mean over the seeds that completed: 6 hidden layers of 64, plain SGD lr 0.05, 6 epochs",
                 fontsize=9)
    fig.tight_layout()
    return fig


def _init_answer(sd):
    relu_n1 = sd.fired("divergence", ("error",), init="N(0,1)", activation="relu")
    sat = max(sd.mean("sat_max", init="N(0,1)", activation=a) for a in ("sigmoid", "tanh"))
    small = [sd.mean("final_test_acc", 100, False, init="0.01·N(0,1)", activation=a) for a in ("sigmoid", "tanh", "relu")]
    scaled = [sd.mean("final_test_acc", 100, init=i, activation=a) for i in ("1/√n (LeCun)", "Glorot", "He") for a in ("tanh", "relu")]
    sig = [sd.mean("final_test_acc", 100, init=i, activation="sigmoid") for i in ("1/√n (LeCun)", "Glorot", "He")]
    zero = {a: sd.mean("final_test_acc", 100, init="zeros in layer 1 only", activation=a) for a in ("sigmoid", "tanh", "relu")}
    proper = [{"init": i, "activation": "sigmoid"} for i in ("1/√n (LeCun)", "Glorot", "He")]
    vanish = tuple(map(sum, zip(*(sd.fired("vanishing_gradients", **g) for g in proper), strict=True)))
    flat = tuple(map(sum, zip(*(sd.fired("plateau", **g) for g in proper), strict=True)))
    n1_sigmoid = sd.mean("final_test_acc", 100, init="N(0,1)", activation="sigmoid")
    cost = sd.diff("final_test_acc", {"init": "Glorot", "activation": "tanh"}, {"init": "zeros in layer 1 only", "activation": "tanh"}, 100)
    chance = max(small) <= CHANCE_PCT
    sig_stuck = max(sig) <= CHANCE_PCT
    return (f"N(0,1) weights are far too large for six layers: tanh and sigmoid units saturate (up to {100 * sat:.0f}% of "
            f"activations at the limits) and ReLU activations explode until training diverges ({share(relu_n1)} seeds), while "
            f"0.01·N(0,1) shrinks the signal layer by layer, leaving all three activation functions at "
            f"{span(small, 0)}% test accuracy{' — chance' if chance else ''}. "
            f"The variance-preserving rules — 1/√n, Glorot, He — train tanh and ReLU to {span(scaled, 0)}%, but "
            + (f"none of them moves the 6-layer sigmoid net in 6 epochs of plain SGD ({span(sig, 0)}%; nnlab finds "
               f"vanishing gradients in {share(vanish)} of those runs and a plateau in {share(flat)})"
               if sig_stuck else f"the 6-layer sigmoid net only reaches {span(sig, 0)}% with them")
            + (f", and only the saturating N(0,1) gets it anywhere ({n1_sigmoid:.0f}%)" if n1_sigmoid > max(sig) + 5 else "")
            + " — the classic reason deep sigmoid nets gave way to tanh and ReLU. "
            f"A zero first layer alone leaves tanh at {zero['tanh']:.0f}% "
            + (f"(no real cost: Glorot everywhere − zero first layer = {cost.text()}), since the random layers above give "
               f"each unit its own gradient, " if not cost.real else f"({cost.text()} below Glorot everywhere), ")
            + f"but ReLU at {zero['relu']:.0f}%, because zero pre-activations give ReLU zero output and zero gradient — "
              f"as the doctor says before training.")


def _init_checks(sd):
    blown = sd.fired("divergence", ("error",), init="N(0,1)", activation="relu")
    small = [sd.mean("final_test_acc", 100, False, init="0.01·N(0,1)", activation=a) for a in ("sigmoid", "tanh", "relu")]
    return [("ReLU with N(0,1) weights diverges on every seed", blown[0] == blown[1] > 0),
            (f"0.01·N(0,1) leaves every activation near chance (≤ {CHANCE_PCT}%)", max(small) <= CHANCE_PCT),
            ("He init trains the ReLU net (≥ 60%)", sd.mean("final_test_acc", init="He", activation="relu") >= 0.60),
            (f"a zero first layer kills ReLU (≤ {CHANCE_PCT}%) but not tanh (≥ 60%)",
             sd.mean("final_test_acc", 100, init="zeros in layer 1 only", activation="relu") <= CHANCE_PCT
             and sd.mean("final_test_acc", init="zeros in layer 1 only", activation="tanh") >= 0.60)]


STUDY = Study(13, "init_schemes_deep", "Weight init scales for sigmoid, tanh and ReLU in a deeper net",
              "init N(0,1) vs 0.01·N(0,1) vs 1/√n vs Glorot vs He for sigmoid, tanh and ReLU in deeper nets, and zero "
              "init in the first layer only",
              "six hidden layers of 64 units, 2000 MNIST images, plain SGD lr 0.05 for 6 epochs (no adaptive step to rescue "
              "a bad init); the zero-first-layer net uses Glorot above it",
              [ACC, Column("saturated %", "sat_max", 100, 0), Column("dead %", "dead_max", 100, 0)],
              _init_figure, _init_answer, _init_checks,
              ["seed=0,1"],
              {"init": INIT_NAMES})
