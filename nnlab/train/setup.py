"""Everything one trial trains with, assembled from its config: ``prepare(exp) -> TrialSetup``.

Randomness comes from one ``SeedSequence(seed)`` spawned into independent streams, so
changing, say, the batch size does not change the initial weights or the validation
split. Building raises ConfigError / DataError before anything is trained.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config import Experiment
from ..data.datasets import Dataset, load_dataset
from ..diagnose import Context
from ..errors import ConfigError
from ..nn.build import build_model, layer_specs, output_activation, uses_images
from ..nn.conv import Conv2d
from ..nn.layers import Dense
from ..nn.losses import Objective
from ..nn.model import Sequential
from ..nn.optim import Optimizer, make_optimizer
from ..nn.schedules import Schedule, make_schedule
from .probes import describe_layer, probe_indices

STREAMS = ("init", "split", "shuffle", "dropout", "probe")


def spawn_streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per purpose, from SeedSequence(seed).spawn(len(STREAMS))."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)}


def n_outputs(kind: str, n_classes: int | None, loss: str, y_train: np.ndarray, asked: int | None = None) -> int:
    """Output units the task needs: one per regression target; one for binary BCE (or when
    ``model.outputs: 1`` asks for it on a binary task); else one per class."""
    if kind == "regression":
        return y_train.shape[1]
    if (loss == "binary_cross_entropy" or asked == 1) and n_classes == 2:
        return 1
    assert n_classes is not None
    return n_classes


@dataclass
class TrialSetup:
    """Data (cast to the run's dtype, targets as the loss wants them), model, objective,
    optimizer with its schedule, the random streams and the probe for unit statistics."""

    exp: Experiment
    streams: dict[str, np.random.Generator]
    data: Dataset
    model: Sequential
    objective: Objective
    optimizer: Optimizer
    schedule: Schedule
    splits: dict[str, tuple[np.ndarray, np.ndarray]]   # split -> (x, targets)
    labels: dict[str, np.ndarray]                      # split -> raw labels (classification accuracy)
    probe: np.ndarray
    probe_targets: np.ndarray
    weight_indices: list[int] = field(default_factory=list)   # dense and conv layers: those with a weight W
    l2: dict[int, float] = field(default_factory=dict)        # weight layer -> its L2 strength, where not 0

    @property
    def metric(self) -> str:
        """'mae' for regression, 'acc' for classification: the metrics.csv column suffix."""
        return "mae" if self.data.kind == "regression" else "acc"

    def context(self) -> Context:
        """Facts about this trial that the detectors need besides its curves."""
        exp, data = self.exp, self.data
        ctx = Context(kind=data.kind, n_classes=data.n_classes, loss=exp.loss.name, loss_reads=self.objective.reads,
                      lr=exp.optimizer.lr, optimizer=exp.optimizer.name, init=exp.model.init_label(), epochs=exp.train.epochs,
                      inputs_nonnegative=bool(np.min(data.x_train) >= 0), eval_every=exp.train.eval_every,
                      batch_size=len(data.x_train) if exp.train.batch_size == "full" else exp.train.batch_size,
                      reduction=exp.loss.reduction, weight_decay=getattr(exp.optimizer, "weight_decay", 0.0) or 0.0,
                      l2=exp.regularization.l2, n_val=len(self.splits["val"][0]) if "val" in self.splits else 0)
        if data.kind == "classification":
            shares = np.bincount(data.y_train, minlength=data.n_classes) / len(data.y_train)
            nonzero = shares[shares > 0]
            ctx.majority_share = float(shares.max())
            if exp.loss.name == "binary_cross_entropy" and self.splits["train"][1].ndim == 2 and self.splits["train"][1].shape[1] > 1:
                # one sigmoid/BCE output per class: the loss is a mean over C binary problems, and
                # predicting the prior costs the mean binary entropy, not the C-class entropy
                binary = shares[(shares > 0) & (shares < 1)]
                ctx.h_prior = float(np.sum(-(binary * np.log(binary) + (1 - binary) * np.log(1 - binary)))) / len(shares)
            else:
                ctx.h_prior = float(-np.sum(nonzero * np.log(nonzero)))
        else:
            ctx.target_var = float(np.mean(np.var(data.y_train, axis=0)))
        for i, layer in enumerate(self.model.layers):
            ctx.layers[i] = describe_layer(self.model, i)
            if isinstance(layer, (Dense, Conv2d)):
                ctx.layer_units[i] = layer.units
                ctx.layer_sizes[i] = layer.params["W"].size
        return ctx


def _targets(y: np.ndarray, kind: str, loss: str, outputs: int, dtype) -> np.ndarray:
    """Labels as the loss wants them: int labels for CE, one-hot or a column otherwise."""
    if kind == "regression":
        return y.astype(dtype, copy=False)   # an autoencoder's targets are its inputs: no second copy
    if loss == "cross_entropy":
        return y
    if outputs == 1:
        return y.astype(dtype)[:, None]
    return np.eye(outputs, dtype=dtype)[y]


def prepare(exp: Experiment, dataset: Dataset | None = None, download: bool = True) -> TrialSetup:
    """Load the data and build model, objective, optimizer and schedule for ``exp``."""
    streams = spawn_streams(exp.seed)
    dtype = np.dtype(exp.train.dtype)
    data = dataset if dataset is not None else load_dataset(exp.data, streams["split"], download, dtype)
    outputs = n_outputs(data.kind, data.n_classes, exp.loss.name, data.y_train, exp.model.outputs)
    specs = layer_specs(exp.model, outputs)
    images = uses_images(specs)
    model = build_model(specs, data.input_shape(images), explicit=exp.model.layers is not None)
    model.initialize(streams["init"], dtype)
    objective = Objective(exp.loss.name, output_activation(specs), exp.loss.reduction)
    optimizer_kwargs = exp.optimizer.model_dump()
    optimizer = make_optimizer(optimizer_kwargs.pop("name"), **optimizer_kwargs)
    schedule_kwargs = exp.schedule.model_dump() if exp.schedule is not None else {"name": None}
    schedule = make_schedule(optimizer, **schedule_kwargs)
    # a model that starts on images gets (N, C, H, W) views of the flat rows; targets stay flat
    splits = {split: (_shaped(x.astype(dtype, copy=False), data, images), _targets(y, data.kind, exp.loss.name, outputs, dtype))
              for split, x, y in data.splits()}
    labels = {split: y for split, _, y in data.splits()}
    for what, metric in (("train.stop_when.metric", exp.train.stop_when and exp.train.stop_when.metric),
                         ("train.early_stopping.monitor", exp.train.early_stopping and exp.train.early_stopping.monitor)):
        if metric and metric.split("_")[0] not in splits:
            raise ConfigError(f"{what}: '{metric}' reads the {metric.split('_')[0]} split, which is empty here "
                              f"({len(data.x_train)} training examples; raise data.validation)")
    probe = probe_indices(len(splits["train"][0]), streams["probe"])
    return TrialSetup(exp=exp, streams=streams, data=data, model=model, objective=objective, optimizer=optimizer,
                      schedule=schedule, splits=splits, labels=labels,
                      probe=splits["train"][0][probe], probe_targets=splits["train"][1][probe],
                      weight_indices=[i for i, layer in enumerate(model.layers) if isinstance(layer, (Dense, Conv2d))],
                      l2=l2_strengths(specs, exp.regularization.l2))


def l2_strengths(specs: list[dict], default: float) -> dict[int, float]:
    """Layer index -> L2 strength for each dense or conv layer whose strength is not 0
    (a layer's own ``l2``, else regularization.l2); specs and built layers share indices."""
    strengths = {i: spec.get("l2") if spec.get("l2") is not None else default
                 for i, spec in enumerate(specs) if spec["type"] in ("dense", "conv2d")}
    return {i: float(v) for i, v in strengths.items() if v}


def _shaped(x: np.ndarray, data: Dataset, images: bool) -> np.ndarray:
    return x.reshape(len(x), *data.image_shape) if images and data.image_shape is not None else x
