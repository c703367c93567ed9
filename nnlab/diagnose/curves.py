"""Detectors over the loss curves: initial loss, divergence, spikes, plateaus, overfitting.

Each takes the recorded rows and the trial's :class:`Context` and returns a list of
events; raw values, robust statistics (median, MAD), never a smoothed curve.
"""

from __future__ import annotations

import math

import numpy as np

from .context import Context, column, episodes
from .events import event
from .thresholds import (
    CHANCE_HIGH,
    CHANCE_REL,
    EPISODE_GAP,
    EPOCH_RISE,
    EPOCH_RISE_ABS_SHARE,
    GL_ERROR,
    GL_INFO,
    GL_WARN,
    INIT_ERROR,
    INIT_WARN,
    MIN_SPIKE_BATCH,
    OVERFIT_CONFIRM,
    PLATEAU_REL,
    SPIKE_FACTOR,
    SPIKE_MADS,
    SPIKE_WINDOW,
    SPIKY_STEP_SHARE,
    STALL_HIGH_SHARE,
    STILL_UPDATE_RATIO,
    VAL_LOSS_SPREAD,
    VAL_NOISE_NATS,
    VAL_NOISE_SES,
)


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
        if diverged.get("ended") is not None:   # finite all along, but astronomically large at the end
            what = (f"The training loss passed {diverged['limit']:.3g} (a million times its start, or 1 if it started "
                    f"lower) at epoch {diverged['epoch']}, step {diverged['step']}, and ended at {diverged['ended']:.3g}: "
                    f"the run diverged with finite numbers.")
        else:
            what = (f"The {diverged['what']} became NaN/Inf at epoch {diverged['epoch']}, step {diverged['step']}; "
                    f"training stopped.")
        events.append(event("divergence", "error", f"{what} Likely cause: {ctx.step_cause()}; or unnormalised inputs.",
                            {"epoch": diverged["epoch"], "step": diverged["step"]}, what=diverged["what"],
                            **{k: diverged[k] for k in ("exploded", "ended", "limit") if k in diverged}))
        return events
    losses = column(metrics, "train_loss")
    if len(losses) < 3:
        return events
    ceiling = 3 * max(losses[0], math.log(ctx.n_classes) if ctx.n_classes else 0.0)
    above = [e for e in range(1, len(losses)) if losses[e] > ceiling]
    for a, b in zip(above, above[1:], strict=False):
        if b == a + 1:
            events.append(event("divergence", "error",
                                f"Training loss rose to {losses[b]:.3g} by epoch {ctx.at(b)}, over 3x its starting value "
                                f"{losses[0]:.3g}, two epochs running: the run is diverging without overflowing. "
                                f"Likely cause: {ctx.step_cause()}.",
                                {"epochs": [ctx.at(a), ctx.at(b)]}, loss=float(losses[b]), start=float(losses[0])))
            break
    return events


def spikes(steps, metrics, ctx: Context) -> list[dict]:
    loss = np.array([s["loss"] for s in steps], dtype=np.float64)
    loss = loss[np.isfinite(loss)]
    events = []
    spike_steps, ratios = [], np.array([])
    if len(loss) > SPIKE_WINDOW and ctx.batch_size >= MIN_SPIKE_BATCH:
        windows = np.lib.stride_tricks.sliding_window_view(loss[:-1], SPIKE_WINDOW)
        median = np.median(windows, axis=1)
        mad = np.median(np.abs(windows - median[:, None]), axis=1)
        current = loss[SPIKE_WINDOW:]
        floor = EPOCH_RISE_ABS_SHARE * (math.log(ctx.n_classes) if ctx.n_classes else float(np.median(loss[:SPIKE_WINDOW])))
        hits = ((current > median + SPIKE_MADS * 1.4826 * mad) & (current > SPIKE_FACTOR * median)
                & (current - median > floor))
        spike_steps = (np.flatnonzero(hits) + SPIKE_WINDOW + 1).tolist()  # steps are 1-based
        ratios = (current / median)[hits]
    epoch_loss = column(metrics, "train_loss")
    floor = EPOCH_RISE_ABS_SHARE * (math.log(ctx.n_classes) if ctx.n_classes else np.nanmax(epoch_loss[:1]))
    rises = []
    for e in range(2, len(epoch_loss)):
        recent = epoch_loss[max(1, e - 5):e]
        if len(recent) and epoch_loss[e] > EPOCH_RISE * np.nanmin(recent) and epoch_loss[e] - np.nanmin(recent) > floor:
            rises.append(e)
    rises = [ctx.at(e) for e in rises]   # rows -> epochs, for messages and marks
    share = len(spike_steps) / max(len(loss), 1)
    ratio = max_update_ratio(metrics)
    if (share > SPIKY_STEP_SHARE or episodes(rises, ctx.eval_every) >= 2) and ratio is not None and ratio < STILL_UPDATE_RATIO:
        events.append(event("loss_spikes", "info",
                            f"The step loss swings ({len(spike_steps)} spikes, {len(rises)} epoch rises) but the weights "
                            f"barely move (largest update ratio {ratio:.2g} of their norm per step): the swings are the "
                            f"batches' own spread, not an unstable optimizer.",
                            {"steps": spike_steps[:20], "epochs": rises}, spike_count=len(spike_steps), update_ratio=ratio))
    elif share > SPIKY_STEP_SHARE or episodes(rises, ctx.eval_every) >= 2:
        parts = []
        if spike_steps:
            parts.append(f"{len(spike_steps)} spikes in {len(loss)} steps ({100 * share:.1f}%), the largest "
                         f"{float(np.max(ratios)):.3g}x the running median")
        if rises:
            parts.append(f"epoch loss jumped above 1.5x its recent minimum in epochs {', '.join(map(str, rises[:6]))}")
        events.append(event("spiky_run", "warn",
                            f"Spiky training: {'; '.join(parts)}. Likely cause: {ctx.step_cause()}; or batches too "
                            f"small; a decaying schedule also helps.",
                            {"steps": spike_steps[:20], "epochs": rises}, spike_count=len(spike_steps),
                            spike_share=share, epoch_rises=len(rises)))
    elif spike_steps or rises:
        first = f"step {spike_steps[0]}" if spike_steps else f"epoch {rises[0]}"
        size = f", {float(np.max(ratios)):.3g}x the running median" if spike_steps else ""
        parts = []
        if spike_steps:
            parts.append(f"{len(spike_steps)} step spike(s) in {episodes(spike_steps, EPISODE_GAP)} burst(s)")
        if rises:
            parts.append(f"{len(rises)} epoch(s) above 1.5x the recent minimum")
        events.append(event("loss_spikes", "info",
                            f"Isolated loss spikes ({', '.join(parts)}; first at {first}{size}); training recovered "
                            f"each time.",
                            {"steps": spike_steps[:20], "epochs": rises}, spike_count=len(spike_steps)))
    return events


def plateau(metrics, ctx: Context) -> list[dict]:
    losses = column(metrics, "train_loss")
    n = len(losses) - 1
    window = max(5, math.ceil(0.1 * ctx.epochs))          # epochs
    if ctx.eval_every > 1:                                   # ... as metrics rows
        window = max(2, math.ceil(window / ctx.eval_every))
    if not np.all(np.isfinite(losses)):
        return []
    if n < window:   # too short to call flat; ending at chance after 3+ epochs is stuck all the same
        return _ended_at_chance(metrics, losses, ctx) if n >= 3 else []
    best = np.minimum.accumulate(losses)
    flat = [e for e in range(window, n + 1) if best[e - window] - best[e] < PLATEAU_REL * abs(best[e - window])]
    if not flat:
        return _ended_at_chance(metrics, losses, ctx)
    start = flat[0] - window
    # the plateau lasts while consecutive windows stay flat
    end = flat[0]
    while end + 1 in flat:
        end += 1
    level = float(losses[end])
    acc_key = "train_acc" if "train_acc" in metrics[-1] else None
    acc = float(metrics[end][acc_key]) if acc_key else None
    where = {"epochs": [ctx.at(start), ctx.at(end)]}
    evidence = {"loss": level, "window": window}
    end_row, start, end = end, ctx.at(start), ctx.at(end)
    if ctx.kind == "classification" and _at_chance(level, acc, ctx):
        return [event("plateau", "error",
                      f"Loss plateaued at {level:.4f}, no better than chance (the loss of predicting the class prior is "
                      f"{ctx.h_prior:.4f}), from epoch {start}, with accuracy {acc:.3f} against a largest class share of "
                      f"{ctx.majority_share:.3f}: the network predicts the class prior and learns nothing from the inputs.",
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
    if end_row < n:
        return [event("plateau", "info", f"Training loss stalled at {level:.4g} in epochs {start}-{end}, then "
                      f"improved again.", where, classification="stalled_then_escaped", **evidence)]
    reference = min(losses[0], math.log(ctx.n_classes)) if ctx.n_classes else losses[0]
    if level < STALL_HIGH_SHARE * reference:
        return [event("plateau", "info", f"Training loss levelled off at {level:.4g} from epoch {start}, a low "
                      f"level (under 10% of where it started).", where, classification="stalled_low", **evidence)]
    return [event("plateau", "warn",
                  f"Training loss stalled at {level:.4g} from epoch {start} to the end (less than 1% better over "
                  f"{window * ctx.eval_every} epochs) while still far from zero. Likely cause: learning rate too small or too large "
                  f"(lr={ctx.lr:g}), or too little capacity; check the unit events below.",
                  where, classification="stalled", **evidence)]


def _at_chance(loss: float, acc: float | None, ctx: Context) -> bool:
    """No better than predicting the class prior: the loss at the prior's level or above, and
    accuracy no higher than the largest class share (+ 0.02); below it is no better either."""
    return bool(ctx.h_prior and (1 - CHANCE_REL) * ctx.h_prior < loss < CHANCE_HIGH * ctx.h_prior
                and acc is not None and acc < (ctx.majority_share or 0) + 0.02)


def _ended_at_chance(metrics, losses, ctx: Context) -> list[dict]:
    """A run still moving (no flat window) that ends no better than chance is stuck all the same."""
    if ctx.kind != "classification" or "train_acc" not in metrics[-1]:
        return []
    acc = float(metrics[-1]["train_acc"])
    if not _at_chance(float(losses[-1]), acc, ctx):
        return []
    return [event("plateau", "error",
                  f"Training ended with loss {losses[-1]:.4f}, no better than chance (the loss of predicting the "
                  f"class prior is {ctx.h_prior:.4f}), "
                  f"and accuracy {acc:.3f} against a largest class share of {ctx.majority_share:.3f}: after "
                  f"{ctx.at(len(losses) - 1)} epochs the network has learnt nothing from the inputs.",
                  {"epochs": [0, ctx.at(len(losses) - 1)]}, classification="at_chance", accuracy=acc,
                  h_prior=ctx.h_prior, loss=float(losses[-1]))]


def max_update_ratio(metrics) -> float | None:
    """The largest per-layer mean update ratio recorded over training (None without statistics)."""
    keys = [k for k in metrics[-1] if k.startswith("update_ratio/")] if metrics else []
    values = [float(r[k]) for r in metrics[1:] for k in keys if r.get(k) is not None and math.isfinite(float(r[k]))]
    return max(values) if values else None


def overfitting(metrics, ctx: Context) -> list[dict]:
    val = column(metrics, "val_loss")
    train = column(metrics, "train_loss")
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
    rise = float(val[last] - v_min)
    if ctx.kind == "classification" and ctx.n_val and ctx.loss in ("cross_entropy", "binary_cross_entropy"):
        # in nats summed over the set: under VAL_NOISE_NATS it is one or two examples turning wrong
        small, noise_text = rise * ctx.n_val < VAL_NOISE_NATS, (
            f" The rise ({rise:.3g}) adds up to {rise * ctx.n_val:.2g} nats over the {ctx.n_val} validation examples: "
            f"one or two examples turning confidently wrong, not a trend.")
    else:
        spread = ctx.val_loss_spread if ctx.val_loss_spread is not None else VAL_LOSS_SPREAD * v_min
        noise = VAL_NOISE_SES * spread / math.sqrt(ctx.n_val) if ctx.n_val else 0.0
        small, noise_text = rise < noise, (f" The rise ({rise:.3g}) is within the noise of a {ctx.n_val}-example "
                                            f"validation set (2 standard errors: about {noise:.3g}).")
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
    restored = ""
    if ctx.restored_epoch is not None:   # early stopping kept the best weights: the rise is not in the model
        severity, restored = "info", (f" Early stopping restored the weights of epoch {ctx.restored_epoch}, so the "
                                      f"final model does not carry the rise.")
    return [event("overfitting", severity,
                  f"Overfitting from epoch {ctx.at(e_star)}: validation loss bottomed out at {v_min:.4f} and ended {gl:.1f}% "
                  f"higher ({val[last]:.4f}) while training loss kept falling ({train[e_star]:.4f} -> {train[last]:.4f})."
                  f"{detail}{noise_text if small else ''}{restored}"
                  f" Try early stopping (train.early_stopping), dropout, weight decay or more data.",
                  {"epoch": ctx.at(e_star)}, onset_epoch=ctx.at(e_star), generalization_loss=gl, val_min=v_min,
                  val_last=float(val[last]), train_val_gap=gap, loss_only=loss_only)]
