"""The training loop: forward, loss, backward, optimizer step; one row per epoch.

``fit(setup, callbacks)`` returns :class:`FitResult`: the records and the one reason training
ended (:class:`~.callbacks.Stop`). Observers (unit statistics, progress bars) and the
callbacks that stop training (``train.stop_when``, ``train.early_stopping``) are
:class:`~.callbacks.Callback` objects; the loop itself stops only for divergence (a NaN/Inf
loss or gradient) or when the epochs run out. It never raises for a diverging run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..nn.model import key as param_key
from .callbacks import Callback, EarlyStopping, Stop, StopWhen, TrainingState
from .checkpoint import CheckpointStore, restore, take
from .evaluate import evaluate_all
from .records import TrialRecords
from .setup import TrialSetup


@dataclass
class FitResult:
    records: TrialRecords
    stop: Stop                         # why and where training ended (one reason)
    epoch_times: list[float]
    total_time: float
    early_stopping: EarlyStopping | None = None   # its monitor, best epoch and whether it restored
    exploded: dict | None = None       # the loss rose past the limit: where first, and whether it ended there

    @property
    def divergence(self) -> dict | None:
        """{what, epoch, step} when training diverged (summary.json's ``diverged``): a NaN/Inf
        loss or gradient stopped it, or it ended with a finite loss past :data:`EXPLODED` x
        max(its start, 1) (then also where it first passed that ``limit`` and the loss it
        ``exploded`` to, and what it ``ended`` at)."""
        stop = self.stop
        if stop.reason == "diverged":   # in summary.json's order since it was first written: what, epoch, step
            return {"what": stop.detail["what"], "epoch": stop.epoch, "step": stop.step}
        if self.exploded and self.exploded["ended"] > self.exploded["limit"]:
            return dict(self.exploded)
        return None


# A loss that ends this many times above max(its start, 1) has diverged as surely as a NaN:
# the weights have left any useful range (Adam at lr 1e30 on XOR ends at a training loss of
# 5.5e28 with finite numbers). Training is not stopped when a loss passes it, only judged at
# the end: full-batch leaky ReLU at lr 2.0 rises past it and recovers to 60-80% accuracy
# (docs/studies.md §16), which is spiky, not diverged.
EXPLODED = 1e6


def batch_size(setup: TrialSetup) -> int:
    n = len(setup.splits["train"][0])
    size = setup.exp.train.batch_size
    return n if size == "full" else min(size, n)


def steps_per_epoch(setup: TrialSetup) -> int:
    return math.ceil(len(setup.splits["train"][0]) / batch_size(setup))


def train_step(setup: TrialSetup, xb: np.ndarray, tb: np.ndarray, step: int,
               callbacks: list[Callback]) -> tuple[float, float]:
    """One optimizer step; returns (mini-batch loss before the update, global gradient norm).
    A non-finite loss or gradient skips the update."""
    model, objective = setup.model, setup.objective
    out, caches = objective.outputs(model, xb, training=True, rng=setup.streams["dropout"])
    loss, cache = objective.loss.forward(out, tb)
    model.backward(objective.loss.backward(cache), caches)
    params, grads = model.trainable()
    if setup.l2:
        loss += l2_penalty(setup)
        for i, strength in setup.l2.items():
            key = param_key(i, "W")
            if key in grads:
                grads[key] += grads[key].dtype.type(strength) * params[key]
    # ||g||² per parameter, frozen layers included (their statistics still say something);
    # the global norm is over what the optimizer updates.
    squares = {key: float(np.vdot(g, g)) for key, g in model.grads.items()}
    grad_norm = math.sqrt(sum(squares[key] for key in grads))
    if not (math.isfinite(loss) and math.isfinite(grad_norm)):
        return loss, grad_norm
    clip = setup.exp.train.clip_grad_norm
    if clip is not None and grad_norm > clip:
        # torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1;
        # the recorded grad_norm is the norm before clipping, as torch returns it
        scale = clip / (grad_norm + 1e-6)
        for g in grads.values():
            g *= g.dtype.type(scale)
    for callback in callbacks:
        callback.on_gradients(step, squares)
    setup.optimizer.step(params, grads)
    for callback in callbacks:
        callback.on_update(step)
    return loss, grad_norm


def l2_penalty(setup: TrialSetup) -> float:
    """sum over weight layers of l2_i / 2 * ||W_i||^2 (biases excluded), as the textbook cost
    J = data loss + lambda/2 ||W||^2; l2_i is the layer's own ``l2`` or regularization.l2.
    Its gradient l2_i * W_i is added in train_step. Layers sharing a strength are summed
    first, so one global strength computes l2/2 * (sum of squares) exactly as before."""
    by_strength: dict[float, float] = {}
    for i, strength in setup.l2.items():
        w = setup.model.layers[i].params["W"]
        by_strength[strength] = by_strength.get(strength, 0) + float(np.vdot(w, w))
    return sum(0.5 * strength * total for strength, total in by_strength.items())


def _epoch_row(setup: TrialSetup, epoch: int, step: int, lr: float, grad_norm: float | None,
               callbacks: list[Callback]) -> dict:
    row: dict = {"epoch": epoch, "step": step, **evaluate_all(setup), "lr": lr, "grad_norm": grad_norm}
    if setup.l2:  # the reported training loss is the cost being minimised
        row["train_loss"] += l2_penalty(setup)
    for callback in callbacks:
        row.update(callback.epoch_columns(epoch))
    return row


def fit(setup: TrialSetup, callbacks: list[Callback] | tuple = (), checkpoints: CheckpointStore | None = None,
        stop_at: int | None = None) -> FitResult:
    """Train for train.epochs, recording every step, and a metrics row for epoch 0, every
    ``train.eval_every``-th epoch and the last one. With ``checkpoints``, a snapshot left by an
    interrupted run of this trial is resumed (the bytes are those of an uninterrupted run) and
    new ones are taken as training goes (``train/checkpoint.py``); ``stop_at``: a budget of
    epochs (successive halving) after which training stops, with a snapshot to go on from."""
    exp, model = setup.exp, setup.model
    stopper = EarlyStopping(exp.train.early_stopping) if exp.train.early_stopping else None
    # observers first, then the rule, then early stopping: a rule that ends training in an
    # epoch is judged before early stopping looks at that epoch
    callbacks = list(callbacks) + ([StopWhen(exp.train.stop_when)] if exp.train.stop_when else []) + \
        ([stopper] if stopper else [])
    state = TrainingState(model, exp.train.epochs)
    records = TrialRecords(config=exp.resolved())
    records.weights["init"] = model.state_dict()
    x_train, t_train = setup.splits["train"]
    n, batch, per_epoch = len(x_train), batch_size(setup), steps_per_epoch(setup)
    per_example = 1.0 / batch if exp.loss.reduction == "sum" else 1.0   # steps.csv holds a sum then
    resume = checkpoints.load() if checkpoints is not None else None
    if resume is not None:
        restore(resume, setup, state, records, callbacks)
        loop = dict(resume.loop)
        start = time.perf_counter() - loop["elapsed"]
        train_time, eval_time, limit = loop["train_time"], loop["eval_time"], loop["limit"]
        exploded, epoch_times = loop["exploded"], list(loop["epoch_times"])
    else:
        start = time.perf_counter()
        row = _epoch_row(setup, 0, 0, setup.schedule.lr_at(1), None, callbacks)
        train_time, eval_time = 0.0, time.perf_counter() - start   # optimizer steps; evaluation rows
        row.update(train_time_s=0.0, eval_time_s=eval_time, time_s=0.0)
        records.metrics.append(row)
        for callback in callbacks:
            callback.on_epoch_end(row, state)
        limit = EXPLODED * max(row["train_loss"], 1.0) if math.isfinite(row["train_loss"]) else math.inf
        exploded, epoch_times = None, []
    norms: list[float] = []
    for epoch in range(state.epoch + 1, exp.train.epochs + 1):
        if state.stop is not None:
            break
        state.epoch = epoch
        epoch_start = time.perf_counter()
        lr = setup.schedule.start_epoch(epoch)
        order = setup.streams["shuffle"].permutation(n) if exp.train.shuffle else np.arange(n)
        for b in range(per_epoch):
            idx = order[b * batch:(b + 1) * batch]
            loss, grad_norm = train_step(setup, x_train[idx], t_train[idx], state.step + 1, callbacks)
            state.step += 1
            for callback in callbacks:
                callback.after_step(state.step)
            records.steps.append({"step": state.step, "epoch": epoch, "loss": loss, "lr": lr, "grad_norm": grad_norm})
            if not (math.isfinite(loss) and math.isfinite(grad_norm)):
                state.stop = Stop("diverged", epoch, state.step, {"what": "loss" if not math.isfinite(loss) else "gradient"})
                break
            if loss * per_example > limit and exploded is None:
                exploded = {"what": "loss", "epoch": epoch, "step": state.step, "exploded": loss * per_example,
                            "limit": limit}
            norms.append(grad_norm)
            for callback in callbacks:
                callback.on_step_end(epoch, b + 1, per_epoch, state.step, loss)
        steps_done = time.perf_counter()
        train_time += steps_done - epoch_start
        if state.stop is not None:
            break
        if epoch % exp.train.eval_every and epoch != exp.train.epochs:  # no evaluation row this epoch
            epoch_times.append(time.perf_counter() - epoch_start)
            continue
        row = _epoch_row(setup, epoch, state.step, lr, float(np.mean(norms)), callbacks)
        norms = []   # grad_norm in a row: the mean over the steps since the row before
        epoch_times.append(time.perf_counter() - epoch_start)
        eval_time += time.perf_counter() - steps_done
        row.update(train_time_s=train_time, eval_time_s=eval_time, time_s=time.perf_counter() - start)
        records.metrics.append(row)
        if not all(math.isfinite(v) for k, v in row.items() if k.endswith("_loss")):
            state.stop = Stop("diverged", epoch, state.step, {"what": "evaluation loss"})
            break
        for callback in callbacks:
            callback.on_epoch_end(row, state)
        if state.stop is not None or epoch == exp.train.epochs:
            continue
        budget_ends = stop_at is not None and epoch >= stop_at
        if checkpoints is not None and (budget_ends or checkpoints.due()):
            loop = {"elapsed": time.perf_counter() - start, "train_time": train_time, "eval_time": eval_time,
                    "limit": limit, "exploded": exploded, "epoch_times": epoch_times}
            checkpoints.save(take(setup, state, records, callbacks, loop))
        if budget_ends:
            state.stop = Stop("budget", epoch, state.step, {"epochs": stop_at})
    if state.stop is None:
        state.stop = Stop("epochs", state.epoch, state.step)
    for callback in callbacks:
        callback.on_train_end(state)
    records.weights.update(state.weights)
    records.weights["final"] = model.state_dict()
    if exploded is not None:
        exploded["ended"] = records.metrics[-1]["train_loss"]
    return FitResult(records, state.stop, epoch_times, time.perf_counter() - start, stopper, exploded)
