"""Training one experiment: seeded NumPy, plain records out.

``Trainer(exp)`` loads the data and builds the model (raising ConfigError / DataError
before anything is trained); ``fit()`` returns a :class:`TrialRecords`. Randomness comes
from one ``SeedSequence(seed)`` spawned into independent streams, so changing, say, the
batch size does not change the initial weights or the validation split.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .config import Experiment
from .diagnose import Context, diagnose
from .data import Dataset, load_dataset
from .errors import DivergedError
from .nn.losses import make_loss
from .nn.model import Sequential, build_model, output_activation
from .nn.optim import make_optimizer
from .nn.layers import Dense
from .nn.schedules import SCHEDULES, constant
from .stats import describe_layer, probe_indices, probe_stats

STREAMS = ("init", "split", "shuffle", "dropout", "probe")
EVAL_CHUNK = 8192  # rows per evaluation forward pass: bounded memory, few Python iterations
UPDATE_RATIO_EVERY = 10  # sample ||dW|| / ||W|| on step 1 and every 10th step: it needs a copy of W


def spawn_streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per purpose, from SeedSequence(seed).spawn(len(STREAMS))."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children)}


@dataclass
class TrialRecords:
    """Everything a trial produced, as plain data; the store writes it to disk."""

    config: dict
    metrics: list[dict] = field(default_factory=list)   # one row per epoch, epoch 0 first
    steps: list[dict] = field(default_factory=list)     # one row per optimizer step
    summary: dict = field(default_factory=dict)
    weights: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # init / final / best
    after_first_step: dict = field(default_factory=dict)  # probe statistics after optimizer step 1


class Trainer:
    def __init__(self, exp: Experiment, dataset: Dataset | None = None, download: bool = True):
        self.exp = exp
        self.streams = spawn_streams(exp.seed)
        self.dtype = np.dtype(exp.train.dtype)
        self.data = dataset if dataset is not None else load_dataset(exp.data, self.streams["split"], download)
        self.n_outputs = self._n_outputs()
        self.model: Sequential = build_model(exp.model.layer_specs(self.n_outputs), self.data.input_dim)
        self.model.initialize(self.streams["init"], self.dtype)
        self.loss, self.fused = make_loss(exp.loss.name, output_activation(self.model), exp.loss.reduction)
        # Epoch metrics are means over a split whatever the training reduction.
        self.eval_loss, _ = make_loss(exp.loss.name, output_activation(self.model), "mean")
        opt = exp.optimizer.model_dump()
        name = opt.pop("name")
        self.optimizer = make_optimizer(name, **opt)
        self.base_lr = exp.optimizer.lr
        self.splits = {split: (x.astype(self.dtype), self._targets(y)) for split, x, y in self.data.splits()}
        self.labels = {split: y for split, _, y in self.data.splits()}
        self.unit_stats = exp.train.unit_stats
        probe = probe_indices(len(self.splits["train"][0]), self.streams["probe"])
        self.probe, self.probe_targets = self.splits["train"][0][probe], self.splits["train"][1][probe]
        self.dense_indices = [i for i, layer in enumerate(self.model.layers) if isinstance(layer, Dense)]
        self._epoch_grad_sq: dict[int, float] = {}
        self._epoch_steps = 0
        self._ratios: dict[int, list[float]] = {}

    # ------------------------------------------------------------ setup helpers

    def _n_outputs(self) -> int:
        if self.data.kind == "regression":
            return self.data.y_train.shape[1]
        if self.exp.loss.name == "binary_cross_entropy" and self.data.n_classes == 2:
            return 1
        return self.data.n_classes

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """Labels as the loss wants them: int labels for CE, one-hot or a column otherwise."""
        if self.data.kind == "regression":
            return y.astype(self.dtype)
        if self.exp.loss.name == "cross_entropy":
            return y
        if self.n_outputs == 1:
            return y.astype(self.dtype)[:, None]
        return np.eye(self.n_outputs, dtype=self.dtype)[y]

    def lr_at(self, epoch: int) -> float:
        sched = self.exp.schedule
        if sched is None:
            return constant(self.base_lr, epoch)
        kwargs = sched.model_dump()
        kwargs.pop("name")
        return SCHEDULES[sched.name](self.base_lr, epoch, **kwargs)

    # ------------------------------------------------------------ evaluation

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Model outputs in evaluation mode (after the output activation)."""
        return np.concatenate([self.model.forward(x[i:i + EVAL_CHUNK])[0] for i in range(0, len(x), EVAL_CHUNK)])

    def evaluate(self, split: str) -> dict[str, float]:
        """Mean loss and accuracy (or MAE) over a split, evaluation mode."""
        x, t = self.splits[split]
        stop = -1 if self.fused else None
        total, metric = 0.0, 0.0
        for i in range(0, len(x), EVAL_CHUNK):
            out, _ = self.model.forward(x[i:i + EVAL_CHUNK], stop=stop)
            target = t[i:i + EVAL_CHUNK]
            loss, _ = self.eval_loss.forward(out, target)
            total += loss * len(out)
            if self.data.kind == "regression":
                metric += float(np.sum(np.abs(out - target), dtype=np.float64)) / out.shape[1]
            else:
                metric += float(np.sum(self._predicted_class(out) == self.labels[split][i:i + EVAL_CHUNK]))
        n = len(x)
        name = "mae" if self.data.kind == "regression" else "acc"
        return {f"{split}_loss": total / n, f"{split}_{name}": metric / n}

    def _predicted_class(self, out: np.ndarray) -> np.ndarray:
        if out.shape[1] == 1:
            threshold = 0.0 if self.loss.reads == "logits" else 0.5
            return (out[:, 0] > threshold).astype(np.int64)
        return out.argmax(axis=1)

    def epoch_row(self, epoch: int, step: int, lr: float, grad_norm: float | None) -> dict:
        row = {"epoch": epoch, "step": step}
        for split in self.splits:
            row.update(self.evaluate(split))
        row["lr"] = lr
        row["grad_norm"] = grad_norm
        if self.unit_stats:
            for i in self.dense_indices:
                # root-mean-square over the epoch's steps of the layer's ||dW||
                row[f"grad_norm/{i}"] = (math.sqrt(self._epoch_grad_sq[i] / self._epoch_steps)
                                         if self._epoch_steps else None)
                ratios = self._ratios.get(i)
                row[f"update_ratio/{i}"] = float(np.mean(ratios)) if ratios else None
            row.update(probe_stats(self.model, self.probe))
        self._epoch_grad_sq, self._epoch_steps, self._ratios = {}, 0, {}
        return row

    # ------------------------------------------------------------ training

    def train_step(self, xb: np.ndarray, tb: np.ndarray, sample_ratio: bool = False) -> tuple[float, float]:
        """One optimizer step; returns (mini-batch loss before the update, global grad norm).

        Per-layer gradient norms come free from the global norm's per-parameter terms; the
        update/weight norm ratio is measured only when ``sample_ratio`` (it needs a copy of W)."""
        stop = -1 if self.fused else None
        out, caches = self.model.forward(xb, training=True, rng=self.streams["dropout"], stop=stop)
        loss, cache = self.loss.forward(out, tb)
        self.model.backward(self.loss.backward(cache), caches)
        grads = self.model.grads
        squares = {key: float(np.vdot(g, g)) for key, g in grads.items()}
        grad_norm = math.sqrt(sum(squares.values()))
        if not (math.isfinite(loss) and math.isfinite(grad_norm)):
            return loss, grad_norm
        if self.unit_stats:
            self._epoch_steps += 1
            for i in self.dense_indices:
                self._epoch_grad_sq[i] = self._epoch_grad_sq.get(i, 0.0) + squares[f"{i}.W"]
        before = ({i: self.model.layers[i].params["W"].copy() for i in self.dense_indices}
                  if sample_ratio and self.unit_stats else None)
        self.optimizer.step(self.model.params, grads)
        if before:
            for i, w_old in before.items():
                w = self.model.layers[i].params["W"]
                norm = float(np.linalg.norm(w_old))
                if norm > 0:
                    self._ratios.setdefault(i, []).append(float(np.linalg.norm(w - w_old)) / norm)
        return loss, grad_norm

    def fit(self, on_step: Callable | None = None, on_epoch: Callable | None = None) -> TrialRecords:
        """Train for train.epochs; records every step and epoch. Never raises for a NaN loss."""
        exp = self.exp
        records = TrialRecords(config=exp.resolved())
        records.weights["init"] = self.model.state_dict()
        x_train, t_train = self.splits["train"]
        n = len(x_train)
        batch = n if exp.train.batch_size == "full" else min(exp.train.batch_size, n)
        steps_per_epoch = math.ceil(n / batch)
        stopper = _EarlyStopper(exp.train.early_stopping) if exp.train.early_stopping else None
        start = time.perf_counter()
        row = self.epoch_row(0, 0, self.lr_at(1), None)
        row["time_s"] = 0.0
        records.metrics.append(row)
        if on_epoch:
            on_epoch(row)
        step, diverged, epoch_times = 0, None, []
        for epoch in range(1, exp.train.epochs + 1):
            epoch_start = time.perf_counter()
            lr = self.lr_at(epoch)
            self.optimizer.lr = lr
            order = self.streams["shuffle"].permutation(n) if exp.train.shuffle else np.arange(n)
            norms = []
            for b in range(steps_per_epoch):
                idx = order[b * batch:(b + 1) * batch]
                sample = step == 0 or (step + 1) % UPDATE_RATIO_EVERY == 0
                loss, grad_norm = self.train_step(x_train[idx], t_train[idx], sample_ratio=sample)
                step += 1
                if step == 1 and self.unit_stats:
                    records.after_first_step = probe_stats(self.model, self.probe)
                records.steps.append({"step": step, "epoch": epoch, "loss": loss, "lr": lr, "grad_norm": grad_norm})
                if not (math.isfinite(loss) and math.isfinite(grad_norm)):
                    what = "loss" if not math.isfinite(loss) else "gradient"
                    diverged = DivergedError(what, epoch, step)
                    break
                norms.append(grad_norm)
                if on_step:
                    on_step(epoch, b + 1, steps_per_epoch, loss)
            if diverged:
                break
            row = self.epoch_row(epoch, step, lr, float(np.mean(norms)))
            epoch_times.append(time.perf_counter() - epoch_start)
            row["time_s"] = time.perf_counter() - start
            if not all(math.isfinite(v) for k, v in row.items() if k.endswith("_loss")):
                records.metrics.append(row)
                diverged = DivergedError("evaluation loss", epoch, step)
                break
            records.metrics.append(row)
            if on_epoch:
                on_epoch(row)
            if stopper and stopper.update(epoch, row[stopper.monitor], self.model):
                break
        if stopper and stopper.best_state is not None:
            records.weights["best"] = stopper.best_state
            if stopper.config.restore_best:
                self.model.load_state_dict(stopper.best_state)
        records.weights["final"] = self.model.state_dict()
        records.summary = self._summary(records, diverged, stopper, epoch_times, time.perf_counter() - start)
        return records

    def _summary(self, records, diverged, stopper, epoch_times, total_time) -> dict:
        metrics = records.metrics
        kind_metric = "mae" if self.data.kind == "regression" else "acc"
        monitor = stopper.monitor if stopper else ("val_loss" if "val" in self.splits else "train_loss")
        better = min if (not stopper or stopper.mode == "min") else max
        trained = [r for r in metrics if r["epoch"] > 0 and math.isfinite(r.get(monitor, math.nan))] or metrics[:1]
        best = better(trained, key=lambda r: r[monitor])
        summary = {
            "status": "diverged" if diverged else "complete",
            "epochs_run": metrics[-1]["epoch"],
            "steps": len(records.steps),
            "best": {"monitor": monitor, **_public(best)},
            "final": _public(metrics[-1]),
            "diverged": None if not diverged else {"what": diverged.what, "epoch": diverged.epoch, "step": diverged.step},
            "stopped_early": bool(stopper and stopper.stopped_epoch),
            "model": {"layers": self.model.describe(), "n_params": self.model.n_params(),
                      "loss": f"{self.loss.name} on {self.loss.reads}" + (" (fused with the output activation)" if self.fused else "")},
            "data": {"name": self.data.name, "kind": self.data.kind, "classes": self.data.n_classes,
                     **{f"n_{s}": len(x) for s, (x, _) in self.splits.items()}},
            "time_s": total_time,
            "epoch_time_s": float(np.mean(epoch_times)) if epoch_times else None,
        }
        if stopper and stopper.config.restore_best and "test" in self.splits and stopper.best_state is not None:
            summary["test_after_restore"] = self.evaluate("test")
        summary["metric"] = kind_metric
        if records.after_first_step:
            summary["after_first_step"] = records.after_first_step
        try:
            summary["events"] = diagnose(records.metrics, records.steps, self.context(),
                                         records.after_first_step, summary["diverged"])
        except Exception as exc:  # a detector's bug must never cost the user a trained trial
            summary["events"] = [{"type": "diagnosis_error", "severity": "warn", "where": {}, "evidence": {},
                                  "message": f"The diagnosis itself failed ({type(exc).__name__}: {exc}); the "
                                             f"trial's numbers are unaffected. Please report this."}]
        return summary

    def context(self) -> Context:
        """Facts about this trial that the detectors need besides its curves."""
        exp, data = self.exp, self.data
        ctx = Context(kind=data.kind, n_classes=data.n_classes, loss=exp.loss.name, loss_reads=self.loss.reads,
                      lr=exp.optimizer.lr, optimizer=exp.optimizer.name, init=exp.model.init, epochs=exp.train.epochs,
                      inputs_nonnegative=bool(np.min(data.x_train) >= 0))
        if data.kind == "classification":
            shares = np.bincount(data.y_train, minlength=data.n_classes) / len(data.y_train)
            nonzero = shares[shares > 0]
            ctx.h_prior = float(-np.sum(nonzero * np.log(nonzero)))
            ctx.majority_share = float(shares.max())
        else:
            ctx.target_var = float(np.mean(np.var(data.y_train, axis=0)))
        for i, layer in enumerate(self.model.layers):
            ctx.layers[i] = describe_layer(self.model, i)
            if isinstance(layer, Dense):
                ctx.layer_units[i] = layer.units
                ctx.layer_sizes[i] = layer.params["W"].size
        return ctx


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "time_s"}




class _EarlyStopper:
    """Keras-style early stopping: stop after ``patience`` epochs without an improvement
    of at least ``min_delta``; keep a copy of the best weights."""

    def __init__(self, config):
        self.config = config
        self.monitor = config.monitor
        self.mode = config.resolved_mode()
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_state = None
        self.stopped_epoch = 0

    def update(self, epoch: int, value: float, model: Sequential) -> bool:
        improved = (value < self.best - self.config.min_delta if self.mode == "min"
                    else value > self.best + self.config.min_delta)
        if improved:
            self.best, self.best_epoch = value, epoch
            self.best_state = model.state_dict()
        elif epoch - self.best_epoch >= self.config.patience:
            self.stopped_epoch = epoch
            return True
        return False
