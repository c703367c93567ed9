"""A ReLU net on 500 examples that collapses after a few good epochs"""

from __future__ import annotations

from . import figures
from .common import ACC, Column, Study, pct, share, span, two_panels


def _collapse_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    for k, (seed, (epochs, acc)) in enumerate(sorted(sd.curves("val_acc", activation="relu", lr="0.5").items())):
        a.plot(epochs, acc, color=figures.COLORS[k % 9], lw=1.2, label=f"relu, seed {seed}")
    for seed, (epochs, acc) in sorted(sd.curves("val_acc", activation="leaky_relu", lr="0.5").items()):
        a.plot(epochs, acc, color="#7f7f7f", lw=0.8, ls="--", label="leaky_relu" if seed == 0 else None)
    a.set(xlabel="epoch", ylabel="validation accuracy", title="SGD lr 0.5 (the edge): each seed")
    a.title.set_fontsize(9)
    a.legend(fontsize=7)
    a.grid(alpha=0.3)
    for k, (seed, (epochs, dead)) in enumerate(sorted(sd.curves("dead_frac/*", activation="relu", lr="0.5").items())):
        b.plot(epochs, 100 * dead, color=figures.COLORS[k % 9], lw=1.2, label=f"lr 0.5, seed {seed}")
    for seed, (epochs, dead) in sorted(sd.curves("dead_frac/*", activation="relu", lr="0.8").items()):
        b.plot(epochs, 100 * dead, color="#000000", lw=0.8, ls=":", label="lr 0.8" if seed == 0 else None)
    for seed, (epochs, dead) in sorted(sd.curves("dead_frac/*", activation="relu", lr="0.05").items()):
        b.plot(epochs, 100 * dead, color="#7f7f7f", lw=0.8, ls="--", label="lr 0.05" if seed == 0 else None)
    b.set(xlabel="epoch", ylabel="% of a hidden layer's ReLUs dead (the worse layer)", title="dead ReLUs")
    b.title.set_fontsize(9)
    b.legend(fontsize=7)
    b.grid(alpha=0.3)
    return fig


COLLAPSE_POINTS = 20   # a fall of validation accuracy this far below its best so far is a collapse


def _collapsed(t):
    """Seeds that collapsed: half a layer or more died and validation accuracy fell ≥ COLLAPSE_POINTS."""
    return (t["dead_peak"] >= 0.5) & (t["acc_dip"] >= COLLAPSE_POINTS)


def _collapse_answer(sd):
    highest = sd.select(False, activation="relu", lr="0.8")
    highest = highest[highest["status"].isin(("complete", "diverged"))]
    edge = sd.select(False, activation="relu", lr="0.5")
    edge = edge[edge["status"].isin(("complete", "diverged"))]
    hit = edge[_collapsed(edge)]
    ruined = hit[hit["acc_drop"] >= 5]
    leaky = sd.select(activation="leaky_relu", lr="0.5")
    leaky_fast = sd.select(False, activation="leaky_relu", lr="0.8")
    blowups = int((leaky_fast["status"] == "diverged").sum())
    low = sd.select(activation="relu", lr="0.05")
    d = sd.diff("final_test_acc", {"activation": "relu", "lr": "0.05"}, {"activation": "relu", "lr": "0.8"}, 100)
    collapses = (f"collapses — half a layer or more dead and validation accuracy at least {COLLAPSE_POINTS} points below "
                 f"its best so far — in {len(hit)} of {len(edge)} seeds"
                 + (f", {len(ruined)} of them ending that far down ({span(ruined['final_test_acc'], 1, 100)}% test "
                    f"accuracy)" if len(ruined) else ", every one of them recovering by the end") if len(hit) else
                 f"collapses in none of {len(edge)} seeds here (at most {100 * edge['dead_peak'].max():.0f}% of a layer "
                 f"dead)")
    first = (f"At SGD lr 0.8 ReLU loses {span(highest['dead_peak'], 0, 100)}% of a layer's units (never active on any "
             f"training image; nnlab: dead_units in {share(sd.fired('dead_units', activation='relu', lr='0.8'))}) and ends "
             f"at {span(highest['final_test_acc'], 1, 100)}% test accuracy, while lr 0.5 is the edge, where ReLU "
             f"{collapses}. ")
    second = (f"At lr 0.05 ReLU keeps its units (at most {100 * low['dead_peak'].max():.0f}% dead) and ends at "
              f"{pct(sd, activation='relu', lr='0.05')}; leaky ReLU has no units to lose, and at lr 0.5 "
              f"every seed that trains ends within {leaky['acc_drop'].max():.1f} points of its best, at "
              f"{pct(sd, activation='leaky_relu', lr='0.5')}, but at lr 0.8 it diverges in {blowups} of "
              f"{len(leaky_fast)} seeds. ")
    third = (f"Over {d.n} seeds {d.better('ReLU at lr 0.05', 'ReLU at lr 0.8')}: the rate is the cause and lowering it "
             f"is the fix that holds, while a leaky unit only removes the dead units, not the too-long steps.")
    return first + second + third


def _collapse_checks(sd):
    highest = sd.select(False, activation="relu", lr="0.8")
    low = sd.select(activation="relu", lr="0.05")
    leaky = sd.select(activation="leaky_relu", lr="0.5")["acc_drop"]
    leaky_fast = sd.select(False, activation="leaky_relu", lr="0.8")
    ends = highest["final_test_acc"]
    return [
        ("ReLU at lr 0.8 loses at least half of a layer's units in every seed",
         bool(len(highest)) and bool((highest["dead_peak"] >= 0.5).all())),
        (f"ReLU at lr 0.8 ends at least {COLLAPSE_POINTS} points of test accuracy below every ReLU seed at lr 0.05",
         bool(len(ends)) and bool(len(low)) and 100 * (low["final_test_acc"].min() - ends.max()) >= COLLAPSE_POINTS),
        ("ReLU at lr 0.05 keeps at least 70% of its units alive in every seed",
         bool(len(low)) and bool((low["dead_peak"] < 0.3).all())),
        ("leaky ReLU at lr 0.5 ends within 5 points of its best validation accuracy in every seed that trains",
         bool(len(leaky)) and bool((leaky < 5).all())),
        ("leaky ReLU at lr 0.8 diverges in every seed",
         bool(len(leaky_fast)) and bool((leaky_fast["status"] == "diverged").all())),
        ("the diagnosis names dead units in every ReLU seed at lr 0.8",
         (hits := sd.fired("dead_units", activation="relu", lr="0.8"))[0] == hits[1] > 0),
    ]


STUDY = Study(5, "relu_collapse", "A ReLU net on 500 examples that collapses after a few good epochs",
              "a ReLU net trained on ~500 examples collapses after ~8 good epochs: learning rate too high, dead units",
              "784-256-256-10 on 500 MNIST images, SGD with batch 16 for 30 epochs, ReLU vs leaky ReLU at lr 0.8, 0.5 and "
              "0.05, 5 seeds. lr 0.5 is the edge: how many seeds collapse there turns on the arithmetic's last bits (3 of 5 "
              "with the Haswell kernels nnlab pins, 0 of 5 with OpenBLAS's AVX-512 kernels, measured), so lr 0.8 is added "
              "as a rate that is clearly too high",
              [ACC, Column("val. accuracy lost from its best (points)", "acc_drop", 1, 1),
               Column("largest dead share of a layer, any epoch %", "dead_peak", 100, 0)],
              _collapse_figure, _collapse_answer, _collapse_checks,
              ["train.epochs=12", "seed=0,1,2"])
