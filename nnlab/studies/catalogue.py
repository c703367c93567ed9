"""The sixteen studies: per question its config (``configs/studies/<name>.yaml``), the
original setup in one line, where the study departs from it, the table, the figure, the
answer written from the numbers, the checks the answer rests on, and the overrides of the
shortened version that the test suite runs.

Every sentence of an answer is computed from the study's results: a difference is called
real only when its 95% interval excludes 0 (:meth:`Difference.real`), otherwise the answer
says there is no real difference. The checks state the phenomenon each study exists to
show; ``docs/studies.md`` prints them and ``tests/test_studies.py`` asserts them on the
shortened runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import figures
from .measure import Difference, StudyData


def J(value) -> str:
    """The key a label table uses for a list, mapping or null value."""
    return json.dumps(value, sort_keys=True)


@dataclass
class Column:
    header: str
    metric: str
    scale: float = 1.0
    digits: int = 1


@dataclass
class Study:
    number: int
    name: str
    question: str
    original: str
    here: str
    columns: list[Column]
    figure: Callable      # (StudyData, pyplot) -> Figure
    answer: Callable      # StudyData -> str (three sentences)
    checks: Callable      # StudyData -> list[(claim, holds)]
    short: list[str]      # overrides of the shortened run in tests/test_studies.py
    labels: dict = field(default_factory=dict)    # {axis: {value: label}} (see StudyData)
    derived: dict = field(default_factory=dict)   # {column: fn(swept values) -> label}, replacing the axes


ACC = Column("test accuracy %", "final_test_acc", 100)


def pct(sd: StudyData, metric: str = "final_test_acc", **where) -> str:
    return sd.fmt(metric, 100, **where) + "%"


def share(hits: tuple[int, int]) -> str:
    return f"{hits[0]}/{hits[1]}"


def span(values, digits: int = 1, scale: float = 1.0) -> str:
    v = [x * scale for x in values if x is not None and np.isfinite(x)]
    if not v:
        return "–"
    lo, hi = min(v), max(v)
    return f"{lo:.{digits}f}" if round(lo, digits) == round(hi, digits) else f"{lo:.{digits}f}–{hi:.{digits}f}"


def two_panels(plt, width: float = 11.5, height: float = 4.0):
    fig, axes = plt.subplots(1, 2, figsize=(width, height))
    return fig, axes


# ------------------------------------------------------------------ 1. zero init

def _zero_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    figures.curves(sd, a, "train_loss", ["init", "lr"], fixed={"hidden": "3×128"}, ylabel="training loss (BCE)",
                   title="training loss, width 3×128 (mean of seeds, band: min–max)")
    figures.dots(sd, b, "final_test_acc", 100, label=lambda g: f"{g['init']}\nlr {g['lr']}\n{g['hidden']}",
                 ylabel="test accuracy %", title="test accuracy per setting (dots: seeds; bar: mean ± 95% CI)")
    return fig


def _zero_answer(sd):
    zeros = sd.select(init="zeros")
    he = [g for g in sd.groups() if g["init"] == "He"]
    best = max(he, key=lambda g: sd.mean("final_test_acc", **g))
    worst = min(he, key=lambda g: sd.mean("final_test_acc", **g))
    same = _widths_identical(sd)
    dup, chance = sd.fired("duplicate_units", init="zeros"), at_chance(sd, init="zeros")
    distinct = span(zeros["distinct_first"], 0)
    return (f"With zero init every setting — learning rate 0.01 to 1, width 32 or 128 — ends at "
            f"{span(zeros['final_test_acc'], 1, 100)}% test accuracy (nnlab: a plateau at chance in {share(chance)} "
            f"trials), and the two widths give {'identical' if same else 'different'} training losses. "
            f"Every unit of a layer starts with the same weights and gets the same gradient, so the first layer ends with "
            f"{distinct} distinct unit{'' if distinct == '1' else 's'} (duplicate_units in {share(dup)}); its zero "
            f"weights give the leaky ReLUs nothing to pass on, and the loss can only fall as far as the output biases "
            f"take it. "
            f"He init breaks the symmetry: {pct(sd, **worst)} at its worst setting (lr {worst['lr']}, {worst['hidden']}) "
            f"and {pct(sd, **best)} at its best (lr {best['lr']}, {best['hidden']}), and the doctor flags zero init "
            f"before a single step (symmetric_init).")


def _widths_identical(sd) -> bool:
    zeros = sd.select(init="zeros")
    pairs = zeros.groupby(["lr", "seed"])["final_train_loss"].agg(lambda v: float(np.ptp(v.to_numpy(dtype=float))))
    return bool(len(pairs)) and bool((pairs <= 1e-9).all())


def _zero_checks(sd):
    zeros = sd.select(init="zeros")
    he_best = [max(sd.mean("final_test_acc", init="He", lr=g["lr"], hidden=w) for g in sd.groups() if g["init"] == "He")
               for w in {g["hidden"] for g in sd.groups()}]
    return [
        ("zero init ends at chance (test accuracy ≤ 15%) in every trial", bool(len(zeros)) and bool((zeros["final_test_acc"] <= 0.15).all())),
        ("under zero init the width changes nothing (identical training loss for 32 and 128 units)", _widths_identical(sd)),
        ("He init at its best learning rate reaches ≥ 70% at both widths", bool(he_best) and min(he_best) >= 0.70),
        ("the diagnosis names duplicate units and a plateau in every zero-init trial",
         all(h == n > 0 for h, n in (sd.fired("duplicate_units", init="zeros"), sd.fired("plateau", init="zeros")))),
    ]


# ------------------------------------------------------------------ 2. ReLU output

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


# ------------------------------------------------------------------ 3. Ng's exercise 4

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


# ------------------------------------------------------------------ 4. bounded outputs for regression

def _range_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    figures.dots(sd, a, "final_test_mae", label=lambda g: f"{g['output']}\nlr {g['lr']}\nbatch {g['batch_size']}",
                 ylabel="test MAE", title="test mean absolute error (dots: seeds; bar: mean ± 95% CI)")
    figures.curves(sd, b, "train_loss", ["output"], fixed={"lr": "0.01"}, logy=True, ylabel="training loss (MSE)",
                   title="training loss, Adam 0.01, batch 16")
    return fig


def _range_answer(sd):
    ok = {"lr": "0.01", "batch_size": "16"}
    tiny = {"lr": "1e-8", "batch_size": "1"}
    ratios = sd.select(**tiny)["loss_ratio"]
    bounded = sd.fired("bounded_output_for_targets", ("warn", "error"), output="sigmoid")
    plateau = sd.fired("plateau", **tiny)
    ranges = [(e["evidence"]["target_min"], e["evidence"]["target_max"]) for s in sd.summaries.values()
              for e in s.get("events") or [] if e["type"] == "bounded_output_for_targets" and "target_min" in e.get("evidence", {})]
    targets = (f"targets spanning {ranges[0][0]:.1f} to {ranges[0][1]:.1f}".replace("-", "−") if ranges
               else "targets outside (−1, 1)")
    return (f"On {targets}, a sigmoid output (range 0 to 1) ends at test MAE "
            f"{sd.fmt('final_test_mae', 1, 2, output='sigmoid', **ok)} and a tanh output (−1 to 1) at "
            f"{sd.fmt('final_test_mae', 1, 2, output='tanh', **ok)}, against {sd.fmt('final_test_mae', 1, 2, output='linear', **ok)} "
            f"for a linear output: every prediction is confined to the output's range. "
            f"Learning rate 1e-8 with batch size 1 helps none of them: the training loss ends at "
            f"{span(ratios, 4)} of where it started, so the model is still the initial one, at MAE "
            f"{span(sd.select(**tiny)['final_test_mae'], 2)} (nnlab: a plateau in {share(plateau)} of those trials, and a "
            f"learning rate far below the usual range). "
            f"The doctor flags the bounded output before training, with the error floor it implies ({share(bounded)} "
            f"sigmoid trials), and the fix is a linear output, behind which the tanh hidden units do fine.")


def _range_checks(sd):
    ok = {"lr": "0.01", "batch_size": "16"}
    lin = sd.mean("final_test_mae", output="linear", **ok)
    capped = min(sd.mean("final_test_mae", output="sigmoid", **ok), sd.mean("final_test_mae", output="tanh", **ok))
    tiny = sd.select(lr="1e-8", batch_size="1")["loss_ratio"]
    doctor = sd.fired("bounded_output_for_targets", ("warn", "error"), output="sigmoid")
    return [
        ("the linear output's test MAE is below 0.8 × the best bounded output's", lin < 0.8 * capped),
        ("lr 1e-8 with batch 1 leaves the training loss within 1% of its start", bool(len(tiny)) and bool((abs(tiny - 1) < 0.01).all())),
        ("the doctor flags the sigmoid output for these targets in every sigmoid trial", doctor[0] == doctor[1] > 0),
    ]


# ------------------------------------------------------------------ 5. ReLU collapse

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


CHANCE_PCT = 20        # test accuracy at or below this (10 digits) is "near chance" in the answers and checks
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


# ------------------------------------------------------------------ 6. and 7. batch norm placement

def _bn_figure(fixed: dict):
    def draw(sd, plt):
        fig, (a, b) = two_panels(plt)
        figures.curves(sd, a, "val_acc", ["batchnorm"], fixed=fixed, ylabel="validation accuracy",
                       title="validation accuracy" + (f" ({', '.join(f'{k} {v}' for k, v in fixed.items())})" if fixed else ""))
        a.set_ylim(bottom=max(0.0, min(line.get_ydata()[1:].min() for line in a.lines) - 0.05) if a.lines else None)
        label = (lambda g: f"{g['hidden']} units\nBN {g['batchnorm']}") if "hidden" in sd.columns else (lambda g: f"BN {g['batchnorm']}")
        figures.dots(sd, b, "final_test_acc", 100, label=label, ylabel="test accuracy %",
                     title="final test accuracy (dots: seeds; bar: mean ± 95% CI)")
        return fig
    return draw


def _bn_sentences(sd, where: dict) -> tuple[str, str, Difference, Difference, Difference]:
    """(speed clause, accuracy clause, BN vs none at epoch 1, best BN vs none, after vs before) at one width."""
    def at(bn):
        return {**where, "batchnorm": bn}
    names = {"none": "no BN", "before": "BN before", "after": "BN after"}
    speed = ", ".join(f"{names[bn]} {sd.fmt('val_acc_at_1', 100, **at(bn))}%" for bn in ("none", "before", "after"))
    best = max(("before", "after"), key=lambda bn: sd.mean("final_test_acc", **at(bn)))
    start = sd.diff("val_acc_at_1", at(max(("before", "after"), key=lambda bn: sd.mean("val_acc_at_1", **at(bn)))), at("none"), 100)
    vs_none = sd.diff("final_test_acc", at(best), at("none"), 100)
    before_after = sd.diff("final_test_acc", at("after"), at("before"), 100)
    acc = f"{vs_none.better('BN ' + best, 'no BN')}; {before_after.better('BN after', 'BN before')}"
    return speed, acc, start, vs_none, before_after


def _bn_mlp_answer(sd):
    parts = {w: _bn_sentences(sd, {"hidden": w}) for w in ("5", "50", "100")}
    faster = [w for w, p in parts.items() if p[2].real and p[2].gain > 0]
    helps = [w for w, p in parts.items() if p[3].real and p[3].gain > 0]
    hurts = [w for w, p in parts.items() if p[3].real and p[3].gain < 0]
    place = [w for w, p in parts.items() if p[4].real]
    n = parts["100"][3].n
    width = sd.diff("final_test_acc", {"hidden": "100", "batchnorm": "none"}, {"hidden": "5", "batchnorm": "none"}, 100)
    largest = max([abs(p[k].gain) for p in parts.values() for k in (3, 4) if p[k].real], default=0.0)
    gains = "; ".join(f"{w} units: {parts[w][3].text()}" for w in helps + hurts)
    return (f"After one epoch of Adam the validation accuracy at 100 hidden units is {parts['100'][0]} (at 5 units "
            f"{parts['5'][0]}), and batch norm's faster start is beyond noise at {_widths(faster)}. "
            f"After 6 epochs, over {n} seeds, the better batch-norm placement is ahead of none beyond noise at "
            f"{_widths(helps)}{', behind it at ' + _widths(hurts) if hurts else ''}" + (f" ({gains})" if gains else "")
            + f", and before vs after differs beyond noise at {_widths(place)}"
            + (f" (after − before: {'; '.join(w + ' units ' + parts[w][4].text() for w in place)})" if place else "") + ". "
            + (f"The largest of these real differences is {largest:.1f} points, against {width.text()} between 100 and 5 "
               f"units without batch norm: the width matters far more than where the normalisation goes."
               if largest else f"None of these is a real difference, against {width.text()} between 100 and 5 units: "
                               f"the width matters, the placement does not."))


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


def _bn_checks(where: dict):
    def checks(sd):
        groups = [g for g in sd.groups() if all(g.get(k) == v for k, v in where.items())]
        done = all(sd.count(**g) == len(sd.select(**g)) for g in groups)
        floor = min(sd.mean("final_test_acc", **g) for g in groups) if groups else 0
        def first(bn):
            return sd.mean("val_acc_at_1", **where, batchnorm=bn)
        return [("every trial completes (no divergence) in every placement", done and bool(groups)),
                (f"every placement learns (≥ 80% test accuracy{' with ' + ', '.join(f'{v} {k}' for k, v in where.items()) if where else ''})",
                 floor >= 0.80),
                ("batch norm starts faster: after epoch 1 both placements are ahead of none (mean over seeds)",
                 min(first("before"), first("after")) > first("none"))]
    return checks


# ------------------------------------------------------------------ 8. Keras-style CNN

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


# ------------------------------------------------------------------ 9. XOR 2-2-1

def _xor_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    for k, (seed, (epochs, mae)) in enumerate(sorted(sd.curves("train_mae").items())):
        a.plot(epochs, mae, color=figures.COLORS[k % 9], lw=1, label=f"seed {seed}")
    a.axhline(0.3, color="black", ls=":", lw=1)
    a.set(xlabel="epoch", ylabel="training MAE", title="training MAE per seed (stops below 0.3)")
    a.title.set_fontsize(9)
    a.legend(fontsize=6, ncol=2)
    a.grid(alpha=0.3)
    t = sd.select(False)
    b.bar([str(s) for s in t["seed"]], t["epochs"], color=["#2ca02c" if s else "#c0392b" for s in t["stopped"]])
    b.set(xlabel="seed", ylabel="epochs run", title="epochs run (green: reached MAE < 0.3; red: stopped at 2000)")
    b.title.set_fontsize(9)
    return fig


def _xor_answer(sd):
    t = sd.select(False)
    t = t[t["status"].isin(("complete", "diverged"))]
    won = t[t["stopped"] == 1]
    solved = t[t["solved"] == 1]
    half = won[won["solved"] != 1]
    lost = t[t["stopped"] != 1]
    epochs = (f" in {int(won['epochs'].median())} epochs (median; {int(won['epochs'].min())}–{int(won['epochs'].max())})"
              if len(won) else "")
    plateau = sum(sd.fired("plateau", ("info", "warn", "error"), trial=name)[0] for name in lost["trial"])
    never = (f" {len(lost)} seed{'s' if len(lost) != 1 else ''} never reach{'es' if len(lost) == 1 else ''} MAE 0.3 in "
             f"2000 epochs ({span(lost['final_train_acc'], 0, 100)}% training accuracy; nnlab finds a plateau in "
             f"{plateau} of {len(lost)})." if len(lost) else "")
    return (f"By the rule of the exercise, MAE below 0.3, {len(won)} of {len(t)} seeds converge{epochs}, but only "
            f"{len(solved)} of them classify every training point right; the other {len(half)} stop at "
            f"{span(half['final_train_acc'], 0, 100)}% training accuracy, with one of the four XOR corners still wrong "
            f"or undecided. "
            f"A 2-2-1 sigmoid net readily settles where it separates three corners, and its mean absolute error can dip "
            f"below 0.3 there, so the rule stops such a run as converged{';' + never if never else '.'} "
            f"To count solved seeds, stop on a rule that means solved — `train.stop_when: {{metric: train_acc, above: 0.99}}` "
            f"— and replay any seed with `nnlab run configs/studies/xor_convergence.yaml seed=N`, bit for bit.")


def _xor_checks(sd):
    t = sd.select(False)
    return [("at least one seed solves XOR (100% training accuracy)", bool((t["solved"] == 1).any())),
            ("at least one seed meets MAE < 0.3 without solving XOR", bool(((t["stopped"] == 1) & (t["solved"] != 1)).any()))]


# ------------------------------------------------------------------ 10. cs231n spiral: mean vs sum

def _spiral_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    for k, reduction in enumerate(("mean", "sum")):
        xs, ys, lo, hi, blown = [], [], [], [], []
        for g in (g for g in sd.groups() if g["reduction"] == reduction):
            v = [100 * x for x in sd.pooled("final_train_acc", **g)]
            if sd.fired("divergence", ("error",), **g)[0] or not v:
                blown.append(float(g["lr"]))
                continue
            xs.append(float(g["lr"]))
            ys.append(float(np.mean(v)))
            lo.append(min(v))
            hi.append(max(v))
        a.plot(xs, ys, "o-", color=figures.COLORS[k], label=f"loss {reduction} over the batch")
        a.fill_between(xs, lo, hi, color=figures.COLORS[k], alpha=0.15)
        if blown:
            a.plot(blown, [30] * len(blown), "x", color=figures.COLORS[k], ms=9, mew=2,
                   label=f"{reduction}: diverged (NaN or blow-up)")
    a.set_xscale("log")
    a.set_ylim(25, 102)
    a.set(xlabel="learning rate", ylabel="final training accuracy %", title="training accuracy vs learning rate (band: seeds)")
    a.title.set_fontsize(9)
    a.legend(fontsize=7)
    a.grid(alpha=0.3)
    best = [{"reduction": r, "lr": _best_lr(sd, r)} for r in ("mean", "sum")]
    for k, g in enumerate(best):
        for seed, (epochs, loss) in sorted(sd.curves("train_loss", **g).items()):
            b.plot(epochs, loss, color=figures.COLORS[k], lw=1, label=f"{g['reduction']}, lr {g['lr']}" if seed == min(sd.curves("train_loss", **g)) else None)
    b.set_yscale("log")
    b.set(xlabel="epoch (= step: full batch)", ylabel="training loss", title="training loss at each form's best rate (every seed)")
    b.title.set_fontsize(9)
    b.legend(fontsize=7)
    b.grid(alpha=0.3)
    return fig


def _best_lr(sd, reduction: str) -> str:
    groups = [g for g in sd.groups() if g["reduction"] == reduction]
    return max(groups, key=lambda g: np.nan_to_num(sd.mean("final_train_acc", **g), nan=-1))["lr"]


def _spiral_answer(sd):
    m, s = _best_lr(sd, "mean"), _best_lr(sd, "sum")
    n = next(iter(sd.summaries.values()))["data"]["n_train"]
    diverged = {g["lr"]: sd.fired("divergence", ("error",), **g) for g in sd.groups() if g["reduction"] == "sum"}
    blew = [lr for lr, (h, k) in diverged.items() if h == k > 0]
    stuck = [g["lr"] for g in sd.groups() if g["reduction"] == "mean" and sd.fired("plateau", **g)[0] > sd.fired("plateau", **g)[1] / 2
             and sd.mean("final_train_acc", **g) < 0.9]
    named = any("loss.reduction: sum" in e.get("message", "") for s_ in sd.summaries.values() for e in s_.get("events") or []
                if e["type"] == "divergence")
    norm_sum, norm_mean = _norm(sd, "sum", s), _norm(sd, "mean", m)
    grows = norm_sum > norm_mean
    return (f"With the loss averaged over the {n} training points the best of the four rates is {m} "
            f"(training accuracy {sd.fmt('final_train_acc', 100, reduction='mean', lr=m)}%, test "
            f"{sd.fmt('final_test_acc', 100, reduction='mean', lr=m)}%); summed, it is {s} "
            f"({sd.fmt('final_train_acc', 100, reduction='sum', lr=s)}%, test {sd.fmt('final_test_acc', 100, reduction='sum', lr=s)}%). "
            f"A full-batch summed loss makes every gradient {n} times larger, so the usable rate moves down by about "
            f"that factor: summed, lr {' and '.join(blew) if blew else '(none)'} blow{'s' if len(blew) == 1 else ''} up "
            f"on every seed (nnlab: divergence{', naming loss.reduction: sum and the batch size as the likely cause' if named else ''}), "
            f"while averaged, lr {' and '.join(stuck) if stuck else '(none)'} {'are' if len(stuck) != 1 else 'is'} still "
            f"on a plateau after {int(sd.mean('epochs', reduction='mean', lr=m))} steps "
            f"({', '.join(sd.fmt('final_train_acc', 100, reduction='mean', lr=lr) + '%' for lr in stuck)}). "
            f"The two forms are the same method at rates that differ by the batch size, with one catch: the L2 penalty is "
            f"added once, not per point, so summing weakens it {n}-fold"
            + (f" — at their best rates the first layer's weight norm ends at {norm_sum:.1f} summed against "
               f"{norm_mean:.1f} averaged." if grows else
               f", though here the first layer's weight norm does not end larger ({norm_sum:.1f} summed, {norm_mean:.1f} averaged)."))


def _norm(sd, reduction: str, lr: str) -> float:
    ends = [v[-1] for _, v in sd.curves("weight_norm/0", reduction=reduction, lr=lr).values()]
    return float(np.mean(ends)) if ends else math.nan


def _spiral_checks(sd):
    blown = sd.fired("divergence", ("error",), reduction="sum", lr="1.0")
    return [("summed loss at lr 1.0 diverges on every seed", blown[0] == blown[1] > 0),
            ("averaged loss at lr 1.0 trains (≥ 80% training accuracy)", sd.mean("final_train_acc", reduction="mean", lr="1.0") >= 0.80),
            ("the best summed rate is at least 10× below the best averaged rate",
             float(_best_lr(sd, "sum")) * 10 <= float(_best_lr(sd, "mean")))]


# ------------------------------------------------------------------ 11. autoencoder on raw pixels

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


# ------------------------------------------------------------------ 12. over-confidence

def _overconf_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    none = {"early stopping": "none"}
    figures.curves(sd, a, "val_loss", ["early stopping"], fixed=none, ylabel="validation loss", from_epoch=1,
                   title="no early stopping: validation loss (from epoch 1)")
    figures.curves(sd, b, "val_acc", ["early stopping"], fixed=none, ylabel="validation accuracy", from_epoch=1,
                   title="no early stopping: validation accuracy (from epoch 1)")
    for ax, column in ((a, "best_val_loss_epoch"), (b, "best_val_acc_epoch")):
        for epoch in sd.select(**none)[column]:
            ax.axvline(epoch, color="#c0392b", lw=0.8, ls=":")
    a.text(0.98, 0.05, "dotted: each seed's best epoch", transform=a.transAxes, ha="right", va="bottom", fontsize=7)
    return fig


def _overconf_answer(sd):
    none, on_loss, on_acc = {"early stopping": "none"}, {"early stopping": "on val_loss"}, {"early stopping": "on val_acc"}
    d_loss = sd.diff("final_test_acc", on_loss, none, 100)
    d_acc = sd.diff("final_test_acc", on_acc, none, 100)
    calib = sd.diff("final_test_loss", on_loss, none)
    loss_only = sum(1 for name in sd.select(**none)["trial"]
                    if any(e["type"] == "overfitting" and e.get("evidence", {}).get("loss_only")
                           for e in sd.summaries[name].get("events") or []))
    stops = {k: sd.select(**w) for k, w in (("loss", on_loss), ("acc", on_acc))}
    def when(t):
        hit = t[t["early_stopped"] == 1]
        return (f"{len(hit)} of {len(t)} runs" + (f" (at epoch {span(hit['epochs'], 0)})" if len(hit) else ""))
    return (f"Without early stopping the validation loss is lowest at epoch {span(sd.select(**none)['best_val_loss_epoch'], 0)} "
            f"and ends {sd.fmt('val_rise', 1, 0, **none)}% above that minimum, while the validation accuracy keeps "
            f"improving until epoch {span(sd.select(**none)['best_val_acc_epoch'], 0)}: the net grows over-confident on "
            f"the few images it gets wrong (nnlab: loss-only overfitting in {loss_only} of {len(sd.select(**none))} runs). "
            f"Early stopping on val_loss stops {when(stops['loss'])} and on val_acc {when(stops['acc'])}, and against 25 "
            f"epochs without stopping ({pct(sd, **none)} test accuracy) {d_loss.better('stopping on val_loss', 'no stopping')}, "
            f"{d_acc.better('stopping on val_acc', 'no stopping')}. "
            + (f"What stopping on val_loss does buy is a lower test loss — {sd.fmt('final_test_loss', 1, 3, **on_loss)} "
               f"against {sd.fmt('final_test_loss', 1, 3, **none)}, a difference of {calib.text('{:.3f}', '')} — so "
               f"monitor the quantity you will be judged on."
               if calib.real and calib.gain < 0 else
               f"Its test loss, {sd.fmt('final_test_loss', 1, 3, **on_loss)} against {sd.fmt('final_test_loss', 1, 3, **none)}, "
               f"is no better beyond noise either: on this data the choice of monitor barely matters."))


def _overconf_checks(sd):
    none = sd.select(**{"early stopping": "none"})
    return [("without early stopping the validation loss bottoms out before the validation accuracy peaks (mean over seeds)",
             float(none["best_val_loss_epoch"].mean()) < float(none["best_val_acc_epoch"].mean())),
            ("the validation loss ends ≥ 5% above its minimum", float(none["val_rise"].mean()) >= 5),
            ("early stopping on val_loss stops earlier than on val_acc",
             sd.mean("epochs", **{"early stopping": "on val_loss"}) < sd.mean("epochs", **{"early stopping": "on val_acc"}))]


# ------------------------------------------------------------------ 13. init schemes in a deeper net

INIT_NAMES = {"normal(std=1.0)": "N(0,1)", "normal(std=0.01)": "0.01·N(0,1)", "lecun_normal": "1/√n (LeCun)",
              "glorot_uniform": "Glorot", "he_normal": "He", J(["zeros"] + ["glorot_uniform"] * 6): "zeros in layer 1 only"}


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


# ------------------------------------------------------------------ 14. squared error, dropout scaling

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


# ------------------------------------------------------------------ 15. overfitting and early stopping

def _overfit_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    none = {"early stopping": "none"}
    for column, color, name in (("train_loss", figures.COLORS[0], "training loss"), ("val_loss", figures.COLORS[1], "validation loss")):
        for seed, (epochs, loss) in sorted(sd.curves(column, **none).items()):
            a.plot(epochs, loss, color=color, lw=1, label=name if seed == min(sd.curves(column, **none)) else None)
    for onset in sd.select(**none)["best_val_loss_epoch"]:
        a.axvline(onset, color="#c0392b", lw=0.8, ls=":")
    a.set_yscale("log")
    a.set(xlabel="epoch", ylabel="loss", title="no early stopping: every seed (dotted: lowest validation loss)")
    a.title.set_fontsize(9)
    a.legend(fontsize=7)
    a.grid(alpha=0.3)
    figures.dots(sd, b, "final_val_loss", groups=sd.groups(), label=lambda g: f"early stopping:\n{g['early stopping']}",
                 ylabel="final validation loss (restored weights)", title="final validation loss (dots: seeds; bar: mean ± 95% CI)")
    return fig


def _overfit_answer(sd):
    none, es = {"early stopping": "none"}, {"early stopping": "val_loss, patience 5"}
    onsets = [next((e.get("evidence", {}).get("onset_epoch") for e in sd.summaries[name].get("events") or []
                    if e["type"] == "overfitting"), None) for name in sd.select(**none)["trial"]]
    onsets = [o for o in onsets if o is not None]
    test_loss = sd.diff("final_test_loss", es, none)
    acc = sd.diff("final_test_acc", es, none, 100)
    stopped = sd.select(**es)
    stopped = stopped[stopped["early_stopped"] == 1]
    return (f"On 200 training images the training loss falls to {sd.fmt('final_train_loss', 1, 4, **none)} while the "
            f"validation loss bottoms out at epoch {span(sd.select(**none)['best_val_loss_epoch'], 0)} and ends "
            f"{sd.fmt('val_rise', 1, 0, **none)}% above its minimum; nnlab reports overfitting in {len(onsets)} of "
            f"{len(sd.select(**none))} runs, with its onset at epoch {span(onsets, 0)}. "
            f"Early stopping on val_loss with patience 5 stops {len(stopped)} of {len(sd.select(**es))} runs, at epoch "
            f"{span(stopped['epochs'], 0)}, and restores the weights of the best epoch it saw: their test loss is "
            f"{sd.fmt('final_test_loss', 1, 3, **es)} against {sd.fmt('final_test_loss', 1, 3, **none)}, and "
            f"{test_loss.better('early stopping', 'no stopping', '{:.3f}', '', lower=True)}. "
            f"On test accuracy {acc.better('early stopping', 'no stopping')}: the rise in validation loss is mostly "
            f"over-confidence on images the net gets wrong anyway, so here early stopping buys a lower test loss and a "
            f"shorter run rather than accuracy.")


def _overfit_checks(sd):
    none, es = {"early stopping": "none"}, {"early stopping": "val_loss, patience 5"}
    fired = sd.fired("overfitting", **none)
    return [("without early stopping the validation loss ends ≥ 10% above its minimum", sd.mean("val_rise", **none) >= 10),
            ("the diagnosis reports overfitting in every run without early stopping", fired[0] == fired[1] > 0),
            ("early stopping's restored weights have a lower test loss than the full run's",
             sd.mean("final_test_loss", **es) < sd.mean("final_test_loss", **none))]


# ------------------------------------------------------------------ 16. full-batch GD

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


# ------------------------------------------------------------------ the catalogue

def _keras_arm(values: dict) -> str:
    if values.get("model.batchnorm", "none") == "none":
        return "none"
    return "BN, Keras momentum" if values.get("model.batchnorm_momentum") == 0.01 else "BN, PyTorch momentum"


def _stopping(values: dict, form: str) -> str:
    rule = values.get("train.early_stopping")
    return "none" if not rule else form.format(**{"monitor": "val_loss", "patience": 5, **rule})


LR = {1e-08: "1e-8"}

STUDIES = [
    Study(1, "zero_init", "Zero init: the loss is stuck whatever the learning rate or width",
          "a deep net written from scratch on MNIST, leaky-ReLU hidden layers, sigmoid outputs, every weight initialised to 0",
          "three hidden layers of 32 or 128 units, 3000 training images, 8 epochs of SGD (batch 32) with binary "
          "cross-entropy on the one-hot targets, at three learning rates; He init as the contrast",
          [ACC, Column("final training loss", "final_train_loss", 1, 3), Column("distinct units, layer 1", "distinct_first", 1, 0)],
          _zero_figure, _zero_answer, _zero_checks,
          ["train.epochs=4", "optimizer.lr=0.1,1.0", "seed=0,1"],
          {"init": {"zeros": "zeros", "he_normal": "He"}, "hidden": {J([32] * 3): "3×32", J([128] * 3): "3×128"}}),
    Study(2, "relu_output", "ReLU on the last layer before softmax",
          "a two-layer net on Fashion-MNIST or MNIST whose last layer is ReLU before the softmax: the loss falls a "
          "little but the model does not learn",
          "MNIST (Fashion-MNIST is not on this machine), 784-128-10 with the from-scratch habit of 0.01·N(0,1) "
          "weights, 10 000 training images, 6 epochs of SGD (lr 0.1, batch 64), 5 seeds",
          [ACC, Column("training loss ÷ initial", "loss_ratio", 1, 3)],
          _relu_out_figure, _relu_out_answer, _relu_out_checks,
          ["data.subset=4000", "train.epochs=4", "seed=0,1,2"],
          {"output": {"relu": "ReLU", "linear": "linear"}}),
    Study(3, "ng_ex4", "Andrew Ng's exercise 4 with categorical cross-entropy",
          "Ng's exercise 4: 400-25-10, sigmoid hidden and output units, L2 λ = 1, 5000 20×20 digits, trained with "
          "categorical cross-entropy instead of the exercise's per-class logistic loss: about 10% accuracy",
          "MNIST resized to 20×20 (the exercise's digits are MNIST-derived too), 5000 training images, the "
          "exercise's ±0.12 uniform init and λ/m = 2e-4, plain full-batch gradient descent (lr 1, 300 steps) "
          "instead of fmincg's 50 conjugate-gradient iterations",
          [ACC, Column("final training loss", "final_train_loss", 1, 3)],
          _ng_figure, _ng_answer, _ng_checks,
          ["data.subset=2000", "train.epochs=100", "seed=0,1"]),
    Study(4, "regression_range", "A sigmoid or tanh output on targets outside its range",
          "regression with a sigmoid output (or tanh units) on targets outside (0, 1): every prediction the same or "
          "capped; learning rate 1e-8 and batch size 1 tried as cures",
          "nnlab's 1-D regression set (y = 2 sin 3x + x/2 + noise, 450 training points), 32 tanh hidden units, "
          "Adam for 100 epochs; the cure tried is lr 1e-8 with batch 1 against lr 0.01 with batch 16",
          [Column("test MAE", "final_test_mae", 1, 3), Column("training loss ÷ initial", "loss_ratio", 1, 3)],
          _range_figure, _range_answer, _range_checks,
          ["data.n_samples=300", "train.epochs=30", "seed=0,1"],
          {"lr": LR}),
    Study(5, "relu_collapse", "A ReLU net on 500 examples that collapses after a few good epochs",
          "a ReLU net trained on ~500 examples collapses after ~8 good epochs: learning rate too high, dead units",
          "784-256-256-10 on 500 MNIST images, SGD with batch 16 for 30 epochs, ReLU vs leaky ReLU at lr 0.8, 0.5 and "
          "0.05, 5 seeds. lr 0.5 is the edge: how many seeds collapse there turns on the arithmetic's last bits (3 of 5 "
          "with the Haswell kernels nnlab pins, 0 of 5 with OpenBLAS's AVX-512 kernels, measured), so lr 0.8 is added "
          "as a rate that is clearly too high",
          [ACC, Column("val. accuracy lost from its best (points)", "acc_drop", 1, 1),
           Column("largest dead share of a layer, any epoch %", "dead_peak", 100, 0)],
          _collapse_figure, _collapse_answer, _collapse_checks,
          ["train.epochs=12", "seed=0,1,2"]),
    Study(6, "bn_mlp", "Batch norm before or after the activation, or none, in an MLP",
          "784-H-10 with Adam, batch norm before vs after the activation vs none, for H = 5, 50 and 100, several seeds",
          "10 000 MNIST training images, 6 epochs, batch 64, 5 seeds; speed is the validation accuracy after epoch 1",
          [Column("val. accuracy after epoch 1 %", "val_acc_at_1", 100), ACC],
          _bn_figure({"hidden": "100"}), _bn_mlp_answer, _bn_checks({"hidden": "100"}),
          ["data.subset=4000", "train.epochs=2", "seed=0,1"],
          {"hidden": {J([5]): "5", J([50]): "50", J([100]): "100"}}),
    Study(7, "bn_cnn", "Batch norm before or after the ReLU in a small CNN",
          "a small CNN, Conv → ReLU → BN → Pool vs Conv → BN → ReLU → Pool",
          "two conv blocks (8 and 16 filters, 3×3) on MNIST resized to 14×14, 5000 training images, SGD lr 0.05 for "
          "5 epochs, 5 seeds, and no batch norm as a third arm",
          [Column("val. accuracy after epoch 1 %", "val_acc_at_1", 100), ACC],
          _bn_figure({}), _bn_cnn_answer, _bn_cnn_checks,
          ["data.subset=3000", "seed=0,1"]),
    Study(8, "keras_cnn", "A Keras-style CNN that trains slower with batch norm",
          "a Keras-style CNN with batch norm and heavy dropout that trains slower with BN than without",
          "conv 16 → conv 32 → dense 64 with dropout 0.25 after each conv block and 0.5 after the dense layer, MNIST at "
          "14×14, 5000 images, Adam for 6 epochs; batch norm with Keras' momentum (0.99, i.e. 1% per step) and with "
          "PyTorch's (10% per step) against none",
          [Column("mean val. accuracy over epochs %", "val_acc_mean", 100), ACC],
          _keras_figure, _keras_answer, _keras_checks,
          ["data.subset=3000", "train.epochs=4", "seed=0,1"],
          derived={"batch norm": _keras_arm}),
    Study(9, "xor_convergence", "XOR with a 2-2-1 sigmoid net: how many seeds converge, and when",
          "XOR with a 2-2-1 sigmoid net, squared error, gradient descent until the mean absolute error is below 0.3",
          "200 noisy XOR points (180 for training, 20 for validation), full-batch gradient descent at lr 1 for at most "
          "2000 epochs, Glorot init, 10 seeds",
          [Column("share that reached MAE < 0.3", "stopped", 1, 2), Column("share with 100% training accuracy", "solved", 1, 2),
           Column("epochs run", "epochs", 1, 0), Column("final training MAE", "final_train_mae", 1, 3)],
          _xor_figure, _xor_answer, _xor_checks,
          ["seed=0,1,2,3"]),
    Study(10, "cs231n_spiral", "cs231n's spiral: the gradient averaged or summed over the batch",
          "the cs231n two-layer net (2-100-3 ReLU, softmax, L2 1e-3) on the 3-class spiral with gradient descent, "
          "gradient averaged vs summed over the batch",
          "297 training points (330 of nnlab's spirals at noise 0.2, less a 10% validation split), 0.01·N(0,1) init, full-batch SGD for 1000 steps with the "
          "rate halved every 500, four rates from 0.001 to 1",
          [Column("training accuracy %", "final_train_acc", 100), ACC],
          _spiral_figure, _spiral_answer, _spiral_checks,
          ["train.epochs=300", "optimizer.lr=0.01,1.0", "seed=0,1"]),
    Study(11, "autoencoder_norm", "A sigmoid autoencoder on unnormalised inputs",
          "an autoencoder with sigmoid units on unnormalised inputs: the error barely moves; normalising fixes it",
          "784-64-784 with sigmoid hidden units and a linear output, MSE, Adam for 10 epochs on 5000 MNIST images, "
          "raw pixels (0–255) vs pixels / 255",
          [Column("training MSE ÷ initial", "loss_ratio", 1, 3), Column("saturated hidden activations %", "sat_max", 100, 0)],
          _ae_figure, _ae_answer, _ae_checks,
          ["data.subset=1500", "train.epochs=3", "seed=0,1"]),
    Study(12, "overconfidence", "Validation loss rises while accuracy improves: early stopping on which?",
          "784-300-75-10 ReLU/softmax whose validation loss rises while its accuracy still improves; early stopping on "
          "validation loss vs accuracy",
          "5000 MNIST training images (6000 for validation), Adam 0.001 for up to 25 epochs, patience 5 with the best "
          "weights restored",
          [Column("epochs run", "epochs", 1, 0), ACC, Column("test loss", "final_test_loss", 1, 3)],
          _overconf_figure, _overconf_answer, _overconf_checks,
          ["train.epochs=15", "seed=0,1"],
          derived={"early stopping": lambda v: _stopping(v, "on {monitor}")}),
    Study(13, "init_schemes_deep", "Weight init scales for sigmoid, tanh and ReLU in a deeper net",
          "init N(0,1) vs 0.01·N(0,1) vs 1/√n vs Glorot vs He for sigmoid, tanh and ReLU in deeper nets, and zero "
          "init in the first layer only",
          "six hidden layers of 64 units, 2000 MNIST images, plain SGD lr 0.05 for 6 epochs (no adaptive step to rescue "
          "a bad init); the zero-first-layer net uses Glorot above it",
          [ACC, Column("saturated %", "sat_max", 100, 0), Column("dead %", "dead_max", 100, 0)],
          _init_figure, _init_answer, _init_checks,
          ["seed=0,1"],
          {"init": INIT_NAMES}),
    Study(14, "loss_dropout", "Squared error vs cross-entropy; inverted dropout's scaling",
          "squared error vs cross-entropy for classification, and inverted dropout's scaling (evaluation unscaled)",
          "784-256-10 with softmax outputs and dropout 0.5, 5000 MNIST images, SGD lr 0.1 for 10 epochs; the original "
          "(pre-2014) dropout as the other form",
          [ACC, Column("val. accuracy after epoch 1 %", "val_acc_at_1", 100)],
          _loss_drop_figure, _loss_drop_answer, _loss_drop_checks,
          ["data.subset=2000", "train.epochs=4", "seed=0,1"],
          derived={"loss": lambda v: {"cross_entropy": "cross-entropy", "mse": "squared error"}[v["loss.name"]],
                   "dropout": lambda v: "inverted" if v["model.layers.2.inverted"] else "original"}),
    Study(15, "overfitting_es", "Overfitting, and early stopping that restores the best weights",
          "training loss down, validation loss up; early stopping that restores the best weights",
          "784-512-512-10 on 200 MNIST images (6000 for validation), Adam 0.001 for 40 epochs, patience 5",
          [Column("epochs run", "epochs", 1, 0), Column("final val. loss", "final_val_loss", 1, 3),
           Column("test loss", "final_test_loss", 1, 3), ACC],
          _overfit_figure, _overfit_answer, _overfit_checks,
          ["seed=0,1"],
          derived={"early stopping": lambda v: _stopping(v, "{monitor}, patience {patience}")}),
    Study(16, "fullbatch_spikes", "Full-batch gradient descent: the spiky cost curve",
          "full-batch gradient descent on MNIST with ReLU vs sigmoid vs tanh vs leaky ReLU: a spiky cost curve, and "
          "what the learning rate does to it",
          "784-64-10 with He init on 3000 MNIST images, 150 full-batch steps at lr 0.1, 0.5 and 2",
          [Column("steps where the loss rises %", "loss_rises", 100), ACC, Column("dead %", "dead_max", 100, 0)],
          _fullbatch_figure, _fullbatch_answer, _fullbatch_checks,
          ["data.subset=1000", "train.epochs=60", "seed=0,1"]),
]

BY_NAME = {s.name: s for s in STUDIES}
def at_chance(sd, **where) -> tuple[int, int]:
    """(trials whose plateau was classified 'at chance', finished trials) in a selection."""
    t = sd.select(False, **where)
    t = t[t["status"].isin(("complete", "diverged"))]
    hits = sum(any(e["type"] == "plateau" and (e.get("evidence") or {}).get("classification") == "at_chance"
                   for e in sd.summaries.get(name, {}).get("events") or []) for name in t["trial"])
    return hits, len(t)


def _widths(widths: list[str], all_widths: tuple = ("5", "50", "100")) -> str:
    if not widths:
        return "no width"
    if len(widths) == len(all_widths):
        return "every width"
    return (", ".join(widths[:-1]) + " and " + widths[-1] if len(widths) > 1 else widths[0]) + " units"


