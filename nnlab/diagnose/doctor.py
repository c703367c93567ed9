"""Checks before training: known mistakes in a config, each explained in a sentence.

``static_checks(exp, facts)`` needs only the config and a few facts about the data, so a
sweep can check every trial cheaply; ``init_checks(setup)`` runs one forward pass of the
initialised model on the probe set (exploding, collapsing, saturated or dead activations
and the initial loss). Events have the same shape as the diagnosis's, with
``where: {"stage": "before training"}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config import Experiment
from ..data.datasets import Dataset
from ..nn.build import dense_inits, hidden_activations, layer_specs, output_activation
from ..nn.optim import optimizer_info
from ..train.probes import probe_stats
from ..train.setup import TrialSetup
from .events import BEFORE_TRAINING, event, ordered, severity_rank
from .thresholds import DEAD_WARN, INIT_ERROR, INIT_WARN, UNIT_ERROR, UNIT_WARN

LR_SLACK = 2.0   # a learning rate this factor outside the optimizer's usual range (nn/optim.py) is likely wrong
OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, math.inf)}
INPUT_SCALE = 5.0         # |x| beyond this (far from unit scale) into sigmoid/tanh saturates the first layer
EXPLODE_STD, COLLAPSE_STD = 1e3, 1e-3
NONNEGATIVE_HINT = ("The inputs are all non-negative, so with a zero bias a first-layer unit whose weights are "
                    "all negative never fires (likely with few input features); data.normalize: standard centres "
                    "the inputs.")


@dataclass
class DataFacts:
    kind: str
    n_classes: int | None
    n_train: int
    input_absmax: float
    y_train: np.ndarray
    input_min: float = -1.0

    @classmethod
    def of(cls, data: Dataset) -> DataFacts:
        # max |x| as max(max x, -min x): np.abs would copy the training set (162 MB for MNIST)
        low, high = float(np.min(data.x_train)), float(np.max(data.x_train))
        absmax = high if math.isnan(high) else max(high, -low)
        return cls(data.kind, data.n_classes, len(data.x_train), absmax, data.y_train, low)


def _flat_batchnorm(specs: list[dict]) -> bool:
    """Whether some batch norm normalises flat features (BatchNorm1d: needs 2+ examples per batch)."""
    image = any(spec["type"] in ("conv2d", "maxpool2d", "avgpool2d") for spec in specs)
    for spec in specs:
        if spec["type"] == "flatten" or spec["type"] == "dense":
            image = False
        if spec["type"] == "batchnorm" and not image:
            return True
    return False


def _event(type_, severity, message, **evidence) -> dict:
    return event(type_, severity, message, BEFORE_TRAINING, **evidence)


def static_checks(exp: Experiment, facts: DataFacts) -> list[dict]:
    events = []
    specs = layer_specs(exp.model, None)  # the structure train/setup.py will build
    hidden, output = hidden_activations(specs), output_activation(specs)
    loss = exp.loss.name
    if loss == "cross_entropy" and output == "sigmoid" and (facts.n_classes or 0) > 2:
        events.append(_event("sigmoid_output_with_cross_entropy", "error",
                             f"Sigmoid outputs trained with categorical cross-entropy on {facts.n_classes} classes: the "
                             f"loss only pushes the true class's output up, so every output drifts to 1 and accuracy "
                             f"stays near chance. Use output: softmax.", output=output, classes=facts.n_classes))
    elif loss == "cross_entropy" and output not in ("softmax", "linear"):
        events.append(_event("output_activation_with_cross_entropy", "warn",
                             f"The {output} output layer feeds softmax cross-entropy: the logits pass through {output} "
                             f"first ({'negatives clamp to 0, so some classes can never win' if output == 'relu' else 'their range is squeezed'}). "
                             f"Use output: softmax (or linear).", output=output))
    if facts.kind == "regression" and output in OUTPUT_RANGES:
        lo, hi = OUTPUT_RANGES[output]
        y = facts.y_train
        floor = float(np.mean((y - np.clip(y, lo, hi)) ** 2))
        var = float(np.mean(np.var(y, axis=0)))
        if floor > 0.01 * var:
            severity = "error" if floor >= var else "warn"
            events.append(_event("bounded_output_for_targets", severity,
                                 f"A {output} output can only produce values in [{lo:g}, {hi:g}] but the targets span "
                                 f"[{float(y.min()):.3g}, {float(y.max()):.3g}]: the squared error cannot fall below "
                                 f"{floor:.3g}, which is {floor / var:.0%} of Var(y) = {var:.3g}"
                                 f"{' (worse than predicting the mean)' if floor >= var else ''}. Use output: linear.",
                                 output=output, error_floor=floor, target_variance=var, target_min=float(y.min()),
                                 target_max=float(y.max())))
    for layer, init, stuck, why in _symmetric_layers(specs):
        if stuck:
            events.append(_event("symmetric_init", "error",
                                 f"{init} init in weight layer {layer}: every unit of the layer starts identical and {why}; "
                                 f"the units stay identical and the layer acts as one unit. Use he_normal (ReLU) or "
                                 f"glorot_uniform (tanh, sigmoid).", init=init, layer=layer))
        else:
            events.append(_event("symmetric_init", "info",
                                 f"{init} init in weight layer {layer}: its units start identical, but {why}, so the "
                                 f"first step already sets them apart. It works, though a random init (he_normal, "
                                 f"glorot_uniform) starts them from useful, different features.", init=init, layer=layer))
    if loss == "mse" and facts.kind == "classification" and output == "linear" and (facts.n_classes or 0) > 2:
        events.append(_event("squared_error_for_classification", "info",
                             "Squared error on linear outputs against one-hot targets (a least-squares classifier): "
                             "it works, but cross-entropy on the same logits usually learns faster and gives "
                             "probabilities. loss: cross_entropy.", output=output))
    if loss == "mse" and facts.kind == "classification" and output == "softmax":
        events.append(_event("squared_error_for_classification", "warn",
                             "Squared error on softmax outputs: its gradient passes through the softmax Jacobian, "
                             "p_k (d_k - sum_j p_j d_j), which is small whenever the outputs are confident, right or "
                             "wrong, so learning is slower than with cross-entropy, whose gradient on the logits is "
                             "p - y. Use loss: cross_entropy.", output=output))
    decay = _decay_per_step(exp)
    if decay is not None and decay >= 1:
        events.append(_event("weight_decay_too_large", "error",
                             f"lr x weight decay = {decay:g} >= 1: each step multiplies the weights by 1 - {decay:g} = "
                             f"{1 - decay:g}, which flips their sign (and grows them when above 2) instead of shrinking "
                             f"them; training diverges whatever the learning rate alone. Keep lr x decay well below 1 "
                             f"(typically 1e-5 to 1e-3).", lr_times_decay=decay))
    if hidden and hidden[0] in ("sigmoid", "tanh") and facts.input_absmax > INPUT_SCALE:
        events.append(_event("unscaled_inputs", "warn",
                             f"Inputs reach |x| = {facts.input_absmax:.4g} and feed {hidden[0]} units: their "
                             f"pre-activations start far in the flat tails, so they saturate and learn slowly. Use "
                             f"data.normalize: scale or standard.", input_absmax=facts.input_absmax))
    if _flat_batchnorm(specs):  # per-channel batch norm has H*W values per example: batch 1 is fine
        batch = facts.n_train if exp.train.batch_size == "full" else exp.train.batch_size
        if batch == 1:
            events.append(_event("batchnorm_batch_size_1", "error",
                                 "BatchNorm with batch_size 1: one example has no batch variance to normalise by "
                                 "(PyTorch refuses it too). Use batch_size >= 16, or no batchnorm.", batch_size=batch))
        elif facts.n_train % batch == 1:
            events.append(_event("batchnorm_last_batch_1", "error",
                                 f"{facts.n_train} training examples in batches of {batch} leave a last batch of 1 "
                                 f"example, which BatchNorm cannot train on; change batch_size.",
                                 n_train=facts.n_train, batch_size=batch))
    low, high = optimizer_info(exp.optimizer.name).usual_lr
    lr = exp.optimizer.lr
    if lr > high * LR_SLACK or lr < low / LR_SLACK:
        direction = "high" if lr > high else "low"
        events.append(_event("learning_rate_range", "warn",
                             f"lr={lr:g} is far {'above' if direction == 'high' else 'below'} the usual range for "
                             f"{exp.optimizer.name} ({low:g} to {high:g}): expect "
                             f"{'spiky or diverging loss and dead ReLUs' if direction == 'high' else 'very slow progress'}.",
                             lr=lr, usual_low=low, usual_high=high))
    return events


def init_checks(setup: TrialSetup) -> list[dict]:
    """One forward pass of the initialised model over the probe set."""
    events = []
    stats = probe_stats(setup.model, setup.probe)
    ctx = setup.context()
    exp = setup.exp
    stds = [(int(k.split("/")[1]), v) for k, v in stats.items() if k.startswith("act_std/")]
    if stds:
        deepest_index, deepest = stds[-1]
        if deepest > EXPLODE_STD:
            events.append(_event("exploding_activations", "error",
                                 f"At init the activations grow layer by layer to std {deepest:.3g} in "
                                 f"{ctx.layers[deepest_index]}: the weights are too large for this depth "
                                 f"({exp.model.init_label()}). Use he_normal (ReLU) or glorot_uniform (tanh).",
                                 std_by_layer=dict(stds)))
        elif 0 < deepest < COLLAPSE_STD or (deepest == 0 and not _inits_symmetric(exp)):
            events.append(_event("collapsing_activations", "warn",
                                 f"At init the activations shrink layer by layer to std {deepest:.3g} in "
                                 f"{ctx.layers[deepest_index]}: the weights are too small for this depth "
                                 f"({exp.model.init_label()}), so the signal (and the gradient) fades.",
                                 std_by_layer=dict(stds)))
    for prefix, type_, threshold, what, advice in (
            ("sat_frac/", "saturated_at_init", UNIT_WARN, "of the activations {where} are saturated",
             "their gradient is ~0 from the first step. Use glorot_uniform or smaller inputs."),
            ("dead_frac/", "dead_at_init", DEAD_WARN, "of the ReLUs {where} are never active on the probe",
             "they get no gradient. " + (NONNEGATIVE_HINT if ctx.inputs_nonnegative else
                                         "Check the init scale and the bias."))):
        if type_ == "dead_at_init" and _inits_symmetric(exp):
            continue  # symmetric_init already explains it
        flagged = {int(k.split("/")[1]): v for k, v in stats.items() if k.startswith(prefix) and v >= threshold}
        if flagged:
            worst = max(flagged, key=flagged.get)
            where = (f"in {ctx.layers[worst]}" if len(flagged) == 1 else
                     f"in {ctx.layers[worst]} ({len(flagged)} layers at >= {threshold:.0%})")
            events.append(_event(type_, "error" if flagged[worst] >= UNIT_ERROR else "warn",
                                 f"At init {100 * flagged[worst]:.0f}% {what.format(where=where)}: {advice}",
                                 layers=flagged))
    if ctx.kind == "classification" and exp.loss.name == "cross_entropy" and setup.objective.reads == "logits":
        out, _ = setup.objective.outputs(setup.model, setup.probe)
        loss, _ = setup.objective.eval_loss.forward(out, setup.probe_targets)
        excess = loss - math.log(ctx.n_classes)
        if excess > INIT_WARN:
            events.append(_event("init_loss", "error" if excess > INIT_ERROR else "warn",
                                 f"The loss at init is {loss:.3f}, {excess:.2f} above ln {ctx.n_classes} = "
                                 f"{math.log(ctx.n_classes):.3f}: the logits start large and confident. Use a smaller "
                                 f"init ({exp.model.init_label()} now).", initial_loss=loss))
    return events


def _decay_per_step(exp: Experiment) -> float | None:
    """lr x the decay that multiplies the weights each step: weight_decay where the optimizer
    shrinks the weights by it (SGD family, AdamW; Adam's L2 in the gradient is rescaled by its
    second moment), regularization.l2 where steps are plain lr x gradient (SGD family)."""
    info, lr = optimizer_info(exp.optimizer.name), exp.optimizer.lr
    wd = getattr(exp.optimizer, "weight_decay", 0.0) or 0.0
    decay = max(wd if info.decay_shrinks_weights else 0.0, exp.regularization.l2 if info.plain_steps else 0.0)
    return lr * decay if decay else None


def _symmetric_layers(specs: list[dict]) -> list[tuple[int, str, bool, str]]:
    """(weight layer, init, stuck, why) for each hidden weight layer with a symmetric init.
    Stuck: the symmetry can never break, because the next weight layer is symmetric too (every
    unit then gets the same gradient) or the activation after it has zero slope at 0 (ReLU:
    zero pre-activations give zero gradients). A single symmetric layer before a random one,
    with sigmoid, tanh or leaky units, breaks symmetry in the first step: the next layer's
    different weights send each unit a different gradient."""
    weights = [i for i, s in enumerate(specs) if s["type"] in ("dense", "conv2d")]
    inits = dense_inits(specs)
    found = []
    for k, i in enumerate(weights[:-1]):
        if not _is_symmetric(inits[k]):
            continue
        activation = next((s["activation"][0] for s in specs[i + 1:weights[k + 1]] if s["type"] == "activation"), "linear")
        if _is_symmetric(inits[k + 1]):
            found.append((k, inits[k], True, f"the next weight layer is {inits[k + 1]} too, so every unit gets the same gradient"))
        elif activation in ("relu",) and inits[k].split("(")[0] == "zeros":
            found.append((k, inits[k], True, "its zero pre-activations give ReLU zero output and zero gradient"))
        else:
            found.append((k, inits[k], False, f"the next weight layer is random ({inits[k + 1]}) and {activation} "
                                               f"passes a gradient at 0"))
    return found


def _is_symmetric(init: str) -> bool:
    """zeros and constant(value) give every unit of a layer the same weights."""
    return init.split("(")[0] in ("zeros", "constant")


def _inits_symmetric(exp: Experiment) -> bool:
    return any(_is_symmetric(name) for name in dense_inits(layer_specs(exp.model, None)))


def check(setup: TrialSetup) -> list[dict]:
    """Everything `nnlab doctor` reports for a prepared trial, errors first."""
    events = static_checks(setup.exp, DataFacts.of(setup.data)) + init_checks(setup)
    return ordered(events)


def study_checks(plan) -> list[tuple[dict, list[str]]]:
    """Static checks for every trial of a plan, grouped: [(finding, [trial ids])].

    The data is loaded once per distinct data section and seed, with the trial's own split
    stream, so the facts (target range, input scale) are the ones `nnlab run` sees."""
    import json as _json

    from ..data.datasets import load_dataset
    from ..train.setup import spawn_streams

    facts_by_data: dict[str, DataFacts] = {}
    grouped: dict[tuple, tuple[dict, list[str]]] = {}
    for trial in plan.trials:
        exp = trial.experiment
        key = _json.dumps([exp.data.model_dump(mode="json"), exp.seed], sort_keys=True)
        if key not in facts_by_data:
            facts_by_data[key] = DataFacts.of(load_dataset(exp.data, spawn_streams(exp.seed)["split"]))
        for finding in static_checks(trial.experiment, facts_by_data[key]):
            group = (finding["type"], finding["message"])
            grouped.setdefault(group, (finding, []))[1].append(trial.id)
    return sorted(grouped.values(), key=lambda item: severity_rank(item[0]))
