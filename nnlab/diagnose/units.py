"""Detectors over unit and gradient statistics: dead, saturated and duplicate units,
exploding gradients, large updates, vanishing gradients."""

from __future__ import annotations

import math

import numpy as np

from .context import Context, column, episodes, layer_keys
from .events import event
from .thresholds import (
    DEAD_WARN,
    EPISODE_GAP,
    EXPLODE_EARLY_SHARE,
    EXPLODE_FACTOR,
    EXPLODE_MIN_COUNT,
    EXPLODE_STEP_SHARE,
    RATIO_ERROR,
    RATIO_WARN,
    SPIKE_WINDOW,
    UNIT_ERROR,
    UNIT_WARN,
    VANISH_LOSS_SHARE,
    VANISH_RATIO,
    VANISH_RMS,
)


def unit_events(metrics, ctx: Context, after_first_step: dict) -> list[dict]:
    events = []
    for j in layer_keys(metrics, "dead_frac"):
        frac = column(metrics, f"dead_frac/{j}")
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
                            {"layer": j, "epoch": ctx.at(len(frac) - 1)}, dead_fraction=final, at_init=initial))
    for j in layer_keys(metrics, "sat_frac"):
        frac = column(metrics, f"sat_frac/{j}")
        worst = int(np.nanargmax(frac))
        peak = float(frac[worst])
        if peak < UNIT_WARN:
            continue
        severity = "error" if peak >= UNIT_ERROR else "warn"
        events.append(event("saturated_units", severity,
                            f"{100 * peak:.0f}% of the activations in {ctx.layers.get(j, f'layer {j}')} are saturated "
                            f"(pinned near the output limits on the probe) at epoch {ctx.at(worst)} "
                            f"({100 * float(frac[0]):.0f}% at init, {100 * float(frac[-1]):.0f}% at the end); their "
                            f"gradients are ~0. Likely cause: pre-activations too large: weights too big ({ctx.init}) "
                            f"or unscaled inputs; try glorot_uniform, input normalisation, or batch norm.",
                            {"layer": j, "epoch": ctx.at(worst)}, saturated_fraction=peak, at_init=float(frac[0]),
                            at_end=float(frac[-1])))
    for i in layer_keys(metrics, "distinct"):
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
        if len(hits) >= max(EXPLODE_MIN_COUNT, EXPLODE_STEP_SHARE * len(norms)) and episodes(hits.tolist(), EPISODE_GAP) >= 2:
            events.append(event("exploding_gradients", "warn",
                                f"The gradient norm jumped over 10x its trailing 50-step median on {len(hits)} step(s) "
                                f"(first at step {int(hits[0])}). Likely cause: {ctx.step_cause()}; or a sharp region "
                                f"of the loss (gradient clipping, train.clip_grad_norm, caps such steps).",
                                {"steps": hits[:20].tolist()}, count=int(len(hits))))
    for i in layer_keys(metrics, "update_ratio"):
        ratio = column(metrics, f"update_ratio/{i}")
        if np.all(np.isnan(ratio)):
            continue
        worst = int(np.nanargmax(ratio))
        peak = float(ratio[worst])
        if peak > RATIO_WARN:
            events.append(event("large_updates", "error" if peak > RATIO_ERROR else "warn",
                                f"Updates to {ctx.layers.get(i, f'layer {i}')} averaged {peak:.2g} of the weights' norm "
                                f"in epoch {ctx.at(worst)} (healthy is about 1e-3): each step rewrites the layer. Likely cause: "
                                f"{ctx.step_cause()}.",
                                {"layer": i, "epoch": ctx.at(worst)}, update_ratio=peak))
    dense = layer_keys(metrics, "grad_norm")
    if len(dense) >= 2 and not skip_vanishing:  # after an overflow the gradients mean nothing
        first, last = dense[0], dense[-1]
        g_first, g_last = column(metrics, f"grad_norm/{first}"), column(metrics, f"grad_norm/{last}")
        losses = column(metrics, "train_loss")
        for e in range(1, len(metrics)):
            if not (np.isfinite(g_first[e]) and np.isfinite(g_last[e])) or g_last[e] == 0:
                continue
            ratio = g_first[e] / g_last[e]
            rms = g_first[e] / math.sqrt(ctx.layer_sizes.get(first, 1))
            learning = losses[e] > VANISH_LOSS_SHARE * losses[0]
            if ratio < VANISH_RATIO or (rms < VANISH_RMS and learning):
                events.append(event("vanishing_gradients", "warn",
                                    f"Gradients vanish toward the input: in epoch {ctx.at(e)} the first layer's gradient norm "
                                    f"is {ratio:.2g} x the last layer's (RMS per weight {rms:.2g}), so the early layers "
                                    f"barely learn. Likely cause: saturating activations stacked deep; try relu with "
                                    f"he_normal, batch norm, or fewer layers.",
                                    {"epoch": ctx.at(e), "layer": first}, ratio_first_to_last=float(ratio), rms_first=float(rms)))
                break
    return events


def _units_of(ctx: Context, activation_index: int) -> int | None:
    dense = [i for i in ctx.layer_units if i < activation_index]
    return ctx.layer_units[max(dense)] if dense else None
