"""Detectors of training pathologies over recorded curves and unit statistics.

``diagnose(metrics, steps, context, after_first_step, diverged)`` returns a list of events:
``{type, severity (info|warn|error), where, evidence, message}``. Detectors read raw values
with robust statistics (median, MAD), never a smoothed curve. Thresholds start from
shared/DIAGNOSIS.md; where calibration changed them the reason is beside the number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SEVERITY_ORDER = {"error": 0, "warn": 1, "info": 2}

# init loss: warn when L0 - ln C > 1, error when > 5 (DIAGNOSIS.md)
INIT_WARN, INIT_ERROR = 1.0, 5.0
# spikes: median/MAD over the previous 50 steps; a spike is > m + 6 * 1.4826 MAD and > 2 m
SPIKE_WINDOW, SPIKE_MADS, SPIKE_FACTOR = 50, 6.0, 2.0
# Calibration: a converged BN run on MNIST (median loss 0.002) had 8 "spikes" to ~0.04 in 790
# steps; a spike must also rise by 5% of ln C (the EPOCH_RISE_ABS_SHARE floor) to count.
SPIKY_STEP_SHARE = 0.01
# epoch rule: E_e > 1.5 min(E_{e-5..e-1}). Calibration: late in a healthy Adam run on MNIST
# train loss moves 0.006 -> 0.012 (x2, harmless), so a rise must also exceed 5% of ln C.
EPOCH_RISE, EPOCH_RISE_ABS_SHARE = 1.5, 0.05
# plateau: best-so-far improves by < 1% over W = max(5, ceil(0.1 epochs)) epochs
PLATEAU_REL = 0.01
# "at chance": E > (1 - 3%) H_prior, i.e. no better than the label entropy, and accuracy within
# 0.02 of the largest class share. DIAGNOSIS.md says |E - H_prior| < 2%; a 10-layer sigmoid net
# stuck at chance sat at H_prior + 2.1% on MNIST and + 4.6% on spirals (prior not yet learnt).
CHANCE_REL = 0.03
# A stall only warns while the loss is above 10% of min(E_0, ln C). Calibration: a 120-example
# spirals run (held-out seed 3) stalled at 0.028 with 99% train accuracy: low, not stuck.
STALL_HIGH_SHARE = 0.1
# overfitting: GL = 100 (V_last / V_min - 1); info >= 2, warn >= 5, error >= 20
GL_INFO, GL_WARN, GL_ERROR = 2.0, 5.0, 20.0
OVERFIT_CONFIRM = 5
# Calibration: on a 60-example validation set val loss 0.0166 -> 0.0261 gave GL 57% in a
# healthy run; a rise smaller than 2% of min(initial validation loss, ln C) is reported as
# info whatever its GL.
OVERFIT_ABS_SHARE = 0.02
# units: warn >= 25% of a layer, error >= 50%
UNIT_WARN, UNIT_ERROR = 0.25, 0.50
# Dead ReLUs warn from a third of a layer: healthy runs on 2-D data ended with 16 of 64 (25%)
# dead in the second layer, most already dead at init; every too-high-LR run had >= 48%.
DEAD_WARN = 1 / 3
# A step-loss or gradient burst within this many steps (or consecutive epochs) is one episode:
# one excursion that recovers is info; a spiky run needs two episodes (calibration: a healthy
# spirals seed had one 8x epoch excursion at epoch 54 with 4 gradient jumps inside it).
EPISODE_GAP = SPIKE_WINDOW
# gradients
EXPLODE_FACTOR = 10.0
# Calibration: healthy xor/spirals runs had 1 step over 10x the median once gradients had
# shrunk ~100x near convergence. A jump must also exceed 10% of the median norm over the
# first 50 steps, and it takes max(3, 0.5% of steps) of them for a warning.
EXPLODE_EARLY_SHARE, EXPLODE_MIN_COUNT, EXPLODE_STEP_SHARE = 0.1, 3, 0.005
RATIO_WARN, RATIO_ERROR = 0.1, 1.0
VANISH_RMS = 1e-7
VANISH_RATIO = 1e-3
# Calibration: a 200-example run that reached loss 0 had RMS gradients of 7.5e-8 with nothing
# left to learn; the RMS rule applies only while the loss is above 10% of its start.
VANISH_LOSS_SHARE = 0.1


@dataclass
class Context:
    """What the detectors need to know about the trial besides its curves."""

    kind: str = "classification"      # or regression
    n_classes: int | None = None
    h_prior: float | None = None      # entropy of the training labels (ln C when balanced)
    majority_share: float | None = None
    target_var: float | None = None   # regression: Var(y), the error of predicting the mean
    loss: str = "cross_entropy"
    loss_reads: str = "logits"
    lr: float = 0.001
    optimizer: str = "adam"
    init: str = "he_normal"
    epochs: int = 10
    layers: dict[int, str] = field(default_factory=dict)       # index -> 'layer 1 (relu after dense 0, 256 units)'
    layer_units: dict[int, int] = field(default_factory=dict)  # dense index -> units
    layer_sizes: dict[int, int] = field(default_factory=dict)  # dense index -> W.size
    inputs_nonnegative: bool = False  # e.g. min-max scaled: a zero-bias unit with all-negative weights never fires


def event(type_, severity, message, where=None, **evidence) -> dict:
    return {"type": type_, "severity": severity, "where": where or {}, "evidence": evidence, "message": message}


def _column(rows: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows], dtype=np.float64)


def _layer_keys(rows: list[dict], prefix: str) -> list[int]:
    keys = {k for r in rows for k in r if k.startswith(prefix + "/")}
    return sorted(int(k.split("/")[1]) for k in keys)


# ---------------------------------------------------------------- detectors

def init_loss(metrics, ctx: Context) -> list[dict]:
    if ctx.kind != "classification" or ctx.loss != "cross_entropy" or ctx.loss_reads != "logits" or not metrics:
        return []
    l0 = metrics[0].get("train_loss")
    ln_c = math.log(ctx.n_classes)
    if l0 is None or not math.isfinite(l0):
        return []
    excess = l0 - ln_c
    if excess <= INIT_WARN:
        return []
    severity = "error" if excess > INIT_ERROR else "warn"
    return [event("init_loss", severity,
                  f"Initial loss {l0:.3f} is {excess:.2f} above ln {ctx.n_classes} = {ln_c:.3f}: the network starts "
                  f"with large, confident logits. Likely cause: weights initialised too large ({ctx.init}); "
                  f"try he_normal for ReLU or glorot_uniform for tanh/sigmoid.",
                  {"epoch": 0}, initial_loss=l0, ln_classes=ln_c, excess=excess)]


def divergence(metrics, ctx: Context, diverged: dict | None) -> list[dict]:
    events = []
    if diverged:
        events.append(event("divergence", "error",
                            f"The {diverged['what']} became NaN/Inf at epoch {diverged['epoch']}, step {diverged['step']}; "
                            f"training stopped. Likely cause: a learning rate too high for {ctx.optimizer} "
                            f"(lr={ctx.lr:g}); try lr/10, or normalised inputs.",
                            {"epoch": diverged["epoch"], "step": diverged["step"]}, what=diverged["what"]))
        return events
    losses = _column(metrics, "train_loss")
    if len(losses) < 3:
        return events
    ceiling = 3 * max(losses[0], math.log(ctx.n_classes) if ctx.n_classes else 0.0)
    above = [e for e in range(1, len(losses)) if losses[e] > ceiling]
    for a, b in zip(above, above[1:], strict=False):
        if b == a + 1:
            events.append(event("divergence", "error",
                                f"Training loss rose to {losses[b]:.3g} by epoch {b}, over 3x its starting value "
                                f"{losses[0]:.3g}, two epochs running: the run is diverging without overflowing. "
                                f"Likely cause: learning rate too high (lr={ctx.lr:g}); try lr/10.",
                                {"epochs": [a, b]}, loss=float(losses[b]), start=float(losses[0])))
            break
    return events


def spikes(steps, metrics, ctx: Context) -> list[dict]:
    loss = np.array([s["loss"] for s in steps], dtype=np.float64)
    loss = loss[np.isfinite(loss)]
    events = []
    spike_steps, ratios = [], np.array([])
    if len(loss) > SPIKE_WINDOW:
        windows = np.lib.stride_tricks.sliding_window_view(loss[:-1], SPIKE_WINDOW)
        median = np.median(windows, axis=1)
        mad = np.median(np.abs(windows - median[:, None]), axis=1)
        current = loss[SPIKE_WINDOW:]
        floor = EPOCH_RISE_ABS_SHARE * (math.log(ctx.n_classes) if ctx.n_classes else float(np.median(loss[:SPIKE_WINDOW])))
        hits = ((current > median + SPIKE_MADS * 1.4826 * mad) & (current > SPIKE_FACTOR * median)
                & (current - median > floor))
        spike_steps = (np.flatnonzero(hits) + SPIKE_WINDOW + 1).tolist()  # steps are 1-based
        ratios = (current / median)[hits]
    epoch_loss = _column(metrics, "train_loss")
    floor = EPOCH_RISE_ABS_SHARE * (math.log(ctx.n_classes) if ctx.n_classes else np.nanmax(epoch_loss[:1]))
    rises = []
    for e in range(2, len(epoch_loss)):
        recent = epoch_loss[max(1, e - 5):e]
        if len(recent) and epoch_loss[e] > EPOCH_RISE * np.nanmin(recent) and epoch_loss[e] - np.nanmin(recent) > floor:
            rises.append(e)
    share = len(spike_steps) / max(len(loss), 1)
    if share > SPIKY_STEP_SHARE or _episodes(rises, 1) >= 2:
        parts = []
        if spike_steps:
            parts.append(f"{len(spike_steps)} spikes in {len(loss)} steps ({100 * share:.1f}%), the largest "
                         f"{float(np.max(ratios)):.3g}x the running median")
        if rises:
            parts.append(f"epoch loss jumped above 1.5x its recent minimum in epochs {', '.join(map(str, rises[:6]))}")
        events.append(event("spiky_run", "warn",
                            f"Spiky training: {'; '.join(parts)}. Likely cause: learning rate too high for "
                            f"{ctx.optimizer} (lr={ctx.lr:g}) or batches too small; try lr/3 to lr/10 or a decaying schedule.",
                            {"steps": spike_steps[:20], "epochs": rises}, spike_count=len(spike_steps),
                            spike_share=share, epoch_rises=len(rises)))
    elif spike_steps or rises:
        first = f"step {spike_steps[0]}" if spike_steps else f"epoch {rises[0]}"
        size = f", {float(np.max(ratios)):.3g}x the running median" if spike_steps else ""
        parts = []
        if spike_steps:
            parts.append(f"{len(spike_steps)} step spike(s) in {_episodes(spike_steps, EPISODE_GAP)} burst(s)")
        if rises:
            parts.append(f"{len(rises)} epoch(s) above 1.5x the recent minimum")
        events.append(event("loss_spikes", "info",
                            f"Isolated loss spikes ({', '.join(parts)}; first at {first}{size}); training recovered "
                            f"each time.",
                            {"steps": spike_steps[:20], "epochs": rises}, spike_count=len(spike_steps)))
    return events


def plateau(metrics, ctx: Context) -> list[dict]:
    losses = _column(metrics, "train_loss")
    n = len(losses) - 1
    window = max(5, math.ceil(0.1 * ctx.epochs))
    if n < window or not np.all(np.isfinite(losses)):
        return []
    best = np.minimum.accumulate(losses)
    flat = [e for e in range(window, n + 1) if best[e - window] - best[e] < PLATEAU_REL * abs(best[e - window])]
    if not flat:
        return []
    start = flat[0] - window
    # the plateau lasts while consecutive windows stay flat
    end = flat[0]
    while end + 1 in flat:
        end += 1
    level = float(losses[end])
    acc_key = "train_acc" if "train_acc" in metrics[-1] else None
    acc = float(metrics[end][acc_key]) if acc_key else None
    where = {"epochs": [start, end]}
    evidence = {"loss": level, "window": window}
    if ctx.kind == "classification" and ctx.h_prior and level > (1 - CHANCE_REL) * ctx.h_prior \
            and acc is not None and abs(acc - ctx.majority_share) < 0.02:
        return [event("plateau", "error",
                      f"Loss plateaued at {level:.4f}, no better than chance (label entropy {ctx.h_prior:.4f}), from epoch {start}, "
                      f"with accuracy {acc:.3f} = the largest class share: the network predicts the class prior and "
                      f"learns nothing from the inputs.",
                      where, classification="at_chance", accuracy=acc, h_prior=ctx.h_prior, **evidence)]
    if ctx.kind == "regression" and ctx.loss == "mse" and ctx.target_var and abs(level - ctx.target_var) < 0.05 * ctx.target_var:
        return [event("plateau", "error",
                      f"Loss plateaued at {level:.4g} = Var(y) {ctx.target_var:.4g} from epoch {start}: no better than "
                      f"predicting the mean.", where, classification="at_chance", target_var=ctx.target_var, **evidence)]
    converged = level < 0.01 * losses[0] or (acc is not None and acc >= 0.999)
    if converged:
        return [event("plateau", "info", f"Training loss converged at {level:.4g} from epoch {start} "
                      f"({'accuracy ' + format(acc, '.3f') if acc is not None else 'below 1% of its start'}).",
                      where, classification="converged", **evidence)]
    if end < n:
        return [event("plateau", "info", f"Training loss stalled at {level:.4g} in epochs {start}-{end}, then "
                      f"improved again.", where, classification="stalled_then_escaped", **evidence)]
    reference = min(losses[0], math.log(ctx.n_classes)) if ctx.n_classes else losses[0]
    if level < STALL_HIGH_SHARE * reference:
        return [event("plateau", "info", f"Training loss levelled off at {level:.4g} from epoch {start}, a low "
                      f"level (under 10% of where it started).", where, classification="stalled_low", **evidence)]
    return [event("plateau", "warn",
                  f"Training loss stalled at {level:.4g} from epoch {start} to the end (less than 1% better over "
                  f"{window} epochs) while still far from zero. Likely cause: learning rate too small or too large "
                  f"(lr={ctx.lr:g}), or too little capacity; check the unit events below.",
                  where, classification="stalled", **evidence)]


def overfitting(metrics, ctx: Context) -> list[dict]:
    val = _column(metrics, "val_loss")
    train = _column(metrics, "train_loss")
    if len(val) < 2 or np.all(np.isnan(val)):
        return []
    trained = val[1:]
    e_star = int(np.nanargmin(trained)) + 1
    v_min = float(val[e_star])
    last = len(val) - 1
    if last - e_star < OVERFIT_CONFIRM or np.any(val[e_star + 1:] < v_min * (1 - 0.001)):
        return []
    if not train[last] < train[e_star]:
        return []
    gl = 100 * (float(val[last]) / v_min - 1)
    if gl < GL_INFO:
        return []
    severity = "error" if gl >= GL_ERROR else "warn" if gl >= GL_WARN else "info"
    scale = min(val[0], math.log(ctx.n_classes)) if ctx.n_classes else val[0]
    small = val[last] - v_min < OVERFIT_ABS_SHARE * scale
    if small:
        severity = "info"
    acc_key = "val_acc" if "val_acc" in metrics[-1] else None
    detail, loss_only = "", None
    if acc_key:
        acc_best, acc_last = float(metrics[e_star][acc_key]), float(metrics[last][acc_key])
        loss_only = acc_last >= acc_best - 0.005
        detail = (f" Validation accuracy did not drop ({acc_best:.4f} -> {acc_last:.4f}): loss-only overfitting "
                  f"(the model grows over-confident on what it gets wrong)." if loss_only else
                  f" Validation accuracy fell from {acc_best:.4f} to {acc_last:.4f}.")
    gap = float(val[last] - train[last])
    return [event("overfitting", severity,
                  f"Overfitting from epoch {e_star}: validation loss bottomed out at {v_min:.4f} and ended {gl:.1f}% "
                  f"higher ({val[last]:.4f}) while training loss kept falling ({train[e_star]:.4f} -> {train[last]:.4f})."
                  f"{detail}{' The rise is small in absolute terms (a small validation set is noisy).' if small else ''}"
                  f" Try early stopping (train.early_stopping), dropout, weight decay or more data.",
                  {"epoch": e_star}, onset_epoch=e_star, generalization_loss=gl, val_min=v_min,
                  val_last=float(val[last]), train_val_gap=gap, loss_only=loss_only)]


def unit_events(metrics, ctx: Context, after_first_step: dict) -> list[dict]:
    events = []
    for j in _layer_keys(metrics, "dead_frac"):
        frac = _column(metrics, f"dead_frac/{j}")
        final, initial = float(frac[-1]), float(frac[0])
        if final < DEAD_WARN:
            continue
        units = _units_of(ctx, j)
        severity = "error" if final >= UNIT_ERROR else "warn"
        cause = (("they were dead from initialisation: the inputs are all non-negative, so a zero-bias unit "
                  "with all-negative weights never fires (data.normalize: standard centres them)"
                  if ctx.inputs_nonnegative and initial < 1.0 else
                  "they were dead from initialisation (no input makes them positive): an init that does not "
                  "break symmetry or a negative bias") if initial >= 0.5 * final else
                 f"large updates pushed them into the negative region (lr={ctx.lr:g}); once dead they get no "
                 f"gradient and never recover")
        events.append(event("dead_units", severity,
                            f"{round(final * units) if units else ''}{' of ' + str(units) + ' units' if units else ''} "
                            f"({100 * final:.0f}%) in {ctx.layers.get(j, f'layer {j}')} never activate on the probe set "
                            f"at the end ({100 * initial:.0f}% at init): dead ReLUs. Likely cause: {cause}. Try a lower "
                            f"learning rate, leaky_relu, or he_normal init.",
                            {"layer": j, "epoch": len(frac) - 1}, dead_fraction=final, at_init=initial))
    for j in _layer_keys(metrics, "sat_frac"):
        frac = _column(metrics, f"sat_frac/{j}")
        worst = int(np.nanargmax(frac))
        peak = float(frac[worst])
        if peak < UNIT_WARN:
            continue
        severity = "error" if peak >= UNIT_ERROR else "warn"
        events.append(event("saturated_units", severity,
                            f"{100 * peak:.0f}% of the activations in {ctx.layers.get(j, f'layer {j}')} are saturated "
                            f"(pinned near the output limits on the probe) at epoch {worst} "
                            f"({100 * float(frac[0]):.0f}% at init, {100 * float(frac[-1]):.0f}% at the end); their "
                            f"gradients are ~0. Likely cause: pre-activations too large: weights too big ({ctx.init}) "
                            f"or unscaled inputs; try glorot_uniform, input normalisation, or batch norm.",
                            {"layer": j, "epoch": worst}, saturated_fraction=peak, at_init=float(frac[0]),
                            at_end=float(frac[-1])))
    for i in _layer_keys(metrics, "distinct"):
        units = ctx.layer_units.get(i)
        at_init = metrics[0].get(f"distinct/{i}")
        after = after_first_step.get(f"distinct/{i}", at_init)
        if units and units > 1 and at_init is not None and at_init <= 1 and (after is None or after <= 1):
            end = metrics[-1].get(f"distinct/{i}")
            events.append(event("duplicate_units", "error",
                                f"All {units} units of {ctx.layers.get(i, f'layer {i}')} are identical at init and after "
                                f"the first step ({end} distinct at the end): symmetry was never broken ({ctx.init} "
                                f"init), so the layer computes one function {units} times. Use he_normal or glorot_uniform.",
                                {"layer": i}, distinct_at_init=at_init, distinct_after_step_1=after,
                                distinct_at_end=end, units=units))
    return events


def gradient_events(metrics, steps, ctx: Context, skip_vanishing: bool = False) -> list[dict]:
    events = []
    norms = np.array([s.get("grad_norm", np.nan) for s in steps], dtype=np.float64)
    norms = norms[np.isfinite(norms)]
    if len(norms) > SPIKE_WINDOW:
        windows = np.lib.stride_tricks.sliding_window_view(norms[:-1], SPIKE_WINDOW)
        median = np.median(windows, axis=1)
        current = norms[SPIKE_WINDOW:]
        early = float(np.median(norms[:SPIKE_WINDOW]))
        hits = np.flatnonzero((current > EXPLODE_FACTOR * median) & (current > EXPLODE_EARLY_SHARE * early)) + SPIKE_WINDOW + 1
        if len(hits) >= max(EXPLODE_MIN_COUNT, EXPLODE_STEP_SHARE * len(norms)) and _episodes(hits.tolist(), EPISODE_GAP) >= 2:
            events.append(event("exploding_gradients", "warn",
                                f"The gradient norm jumped over 10x its trailing 50-step median on {len(hits)} step(s) "
                                f"(first at step {int(hits[0])}). Likely cause: a learning rate too high "
                                f"(lr={ctx.lr:g}) or a sharp region of the loss; try a lower lr or gradient-friendly init.",
                                {"steps": hits[:20].tolist()}, count=int(len(hits))))
    for i in _layer_keys(metrics, "update_ratio"):
        ratio = _column(metrics, f"update_ratio/{i}")
        if np.all(np.isnan(ratio)):
            continue
        worst = int(np.nanargmax(ratio))
        peak = float(ratio[worst])
        if peak > RATIO_WARN:
            events.append(event("large_updates", "error" if peak > RATIO_ERROR else "warn",
                                f"Updates to {ctx.layers.get(i, f'layer {i}')} averaged {peak:.2g} of the weights' norm "
                                f"in epoch {worst} (healthy is about 1e-3): each step rewrites the layer. Likely cause: "
                                f"learning rate too high (lr={ctx.lr:g}); try lr/10.",
                                {"layer": i, "epoch": worst}, update_ratio=peak))
    dense = _layer_keys(metrics, "grad_norm")
    if len(dense) >= 2 and not skip_vanishing:  # after an overflow the gradients mean nothing
        first, last = dense[0], dense[-1]
        g_first, g_last = _column(metrics, f"grad_norm/{first}"), _column(metrics, f"grad_norm/{last}")
        losses = _column(metrics, "train_loss")
        for e in range(1, len(metrics)):
            if not (np.isfinite(g_first[e]) and np.isfinite(g_last[e])) or g_last[e] == 0:
                continue
            ratio = g_first[e] / g_last[e]
            rms = g_first[e] / math.sqrt(ctx.layer_sizes.get(first, 1))
            learning = losses[e] > VANISH_LOSS_SHARE * losses[0]
            if ratio < VANISH_RATIO or (rms < VANISH_RMS and learning):
                events.append(event("vanishing_gradients", "warn",
                                    f"Gradients vanish toward the input: in epoch {e} the first layer's gradient norm "
                                    f"is {ratio:.2g} x the last layer's (RMS per weight {rms:.2g}), so the early layers "
                                    f"barely learn. Likely cause: saturating activations stacked deep; try relu with "
                                    f"he_normal, batch norm, or fewer layers.",
                                    {"epoch": e, "layer": first}, ratio_first_to_last=float(ratio), rms_first=float(rms)))
                break
    return events


def _episodes(positions: list[int], gap: int) -> int:
    """Bursts in a sorted list of steps or epochs: members closer than ``gap`` share a burst."""
    return sum(1 for i, p in enumerate(positions) if i == 0 or p - positions[i - 1] > gap)


def _units_of(ctx: Context, activation_index: int) -> int | None:
    dense = [i for i in ctx.layer_units if i < activation_index]
    return ctx.layer_units[max(dense)] if dense else None


def diagnose(metrics: list[dict], steps: list[dict], ctx: Context, after_first_step: dict | None = None,
             diverged: dict | None = None) -> list[dict]:
    """All events for one trial, errors first."""
    after_first_step = after_first_step or {}
    events = (init_loss(metrics, ctx) + divergence(metrics, ctx, diverged) + spikes(steps, metrics, ctx)
              + plateau(metrics, ctx) + overfitting(metrics, ctx) + unit_events(metrics, ctx, after_first_step)
              + gradient_events(metrics, steps, ctx, skip_vanishing=bool(diverged)))
    _explain_plateau(events)
    return sorted(events, key=lambda e: SEVERITY_ORDER[e["severity"]])


def _explain_plateau(events: list[dict]) -> None:
    """A plateau at chance names its likely cause from the unit events found beside it."""
    plateaus = [e for e in events if e["type"] == "plateau" and e["evidence"].get("classification") == "at_chance"]
    if not plateaus:
        return
    causes = {e["type"] for e in events}
    if "duplicate_units" in causes:
        reason = "Likely cause: symmetric (zero or constant) init, see duplicate_units; use he_normal or glorot_uniform."
    elif "dead_units" in causes:
        reason = "Likely cause: dead ReLUs pass no signal, see dead_units."
    elif "saturated_units" in causes:
        reason = "Likely cause: saturated units pass no gradient, see saturated_units."
    elif "vanishing_gradients" in causes:
        reason = "Likely cause: vanishing gradients, see vanishing_gradients."
    else:
        reason = "Likely cause: a learning rate too small or too large, or an output layer that cannot express the classes."
    plateaus[0]["message"] += " " + reason
