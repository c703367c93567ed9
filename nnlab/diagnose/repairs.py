"""The repair table: for each warning or error the diagnosis can raise, the candidate fixes
to try, in order, each with its reason. ``nnlab fix`` runs them; nothing else reads this.

A repair is a function ``(experiment) -> overrides | None``: the ``key=value`` overrides
that apply the fix to this trial's config, or None when it does not apply (the config
already has it, or uses the explicit ``layers`` form the compact keys cannot change). The
order within an event follows the usual advice for that symptom; AUTOTRAINER (ICSE 2021)
tries batch norm, another activation, gradient clipping, another initializer, batch size
x2 or /2, learning rate x10 or /10 and another optimizer in a fixed order for every problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..config import Experiment
from ..nn.activations import ACTIVATIONS
from ..nn.optim import optimizer_info


@dataclass
class Repair:
    name: str
    reason: str
    make: Callable[[Experiment], list[str] | None]


@dataclass
class Candidate:
    """A repair made concrete for one config: its overrides and the events it answers."""

    name: str
    overrides: list[str]
    reason: str
    targets: list[str] = field(default_factory=list)


def _compact(exp: Experiment) -> bool:
    return exp.model.layers is None


def _activation(exp: Experiment) -> str:
    act = exp.model.activation
    return act if isinstance(act, str) else str(act).split("(")[0]


def _matched_init(exp: Experiment) -> list[str] | None:
    if not _compact(exp):
        return None
    want = ACTIVATIONS[_activation(exp).split("(")[0]].matched_init
    return None if str(exp.model.init) == want else [f"model.init={want}"]


def _set(key: str, value, current) -> list[str] | None:
    return None if current == value else [f"{key}={value}"]


def _lr(factor: float) -> Callable[[Experiment], list[str]]:
    return lambda exp: [f"optimizer.lr={exp.optimizer.lr * factor:.6g}"]


def _lr_up(exp: Experiment) -> list[str] | None:
    """x10, unless the rate is already at or above the top of the optimizer's usual range
    (a plateau at SGD lr 5 is a dead net, not a slow one: lr 50 only wasted a slot)."""
    return None if exp.optimizer.lr >= optimizer_info(exp.optimizer.name).usual_lr[1] else _lr(10.0)(exp)


def _lr_into_range(exp: Experiment) -> list[str] | None:
    low, high = optimizer_info(exp.optimizer.name).usual_lr
    middle = (low * high) ** 0.5
    return None if low <= exp.optimizer.lr <= high else [f"optimizer.lr={middle:.3g}"]


def _smaller_decay(exp: Experiment) -> list[str] | None:
    wd = getattr(exp.optimizer, "weight_decay", 0.0) or 0.0
    out = []
    if wd and exp.optimizer.lr * wd >= 0.01:
        out.append(f"optimizer.weight_decay={1e-3 / exp.optimizer.lr:.3g}")
    if exp.regularization.l2 and exp.optimizer.lr * exp.regularization.l2 >= 0.01:
        out.append(f"regularization.l2={1e-3 / exp.optimizer.lr:.3g}")
    return out or None


def _batch(factor: float) -> Callable[[Experiment], list[str] | None]:
    def make(exp: Experiment) -> list[str] | None:
        size = exp.train.batch_size
        if size == "full":
            return None
        new = max(1, int(size * factor))
        return None if new == size else [f"train.batch_size={new}"]
    return make


def _compact_set(key: str, value) -> Callable[[Experiment], list[str] | None]:
    def make(exp: Experiment) -> list[str] | None:
        if not _compact(exp):
            return None
        return _set(f"model.{key}", value, getattr(exp.model, key))
    return make


def _relu_he(exp: Experiment) -> list[str] | None:
    if not _compact(exp) or _activation(exp) == "relu":
        return None
    return ["model.activation=relu", "model.init=he_normal"]


def _leaky(exp: Experiment) -> list[str] | None:
    return ["model.activation=leaky_relu"] if _compact(exp) and _activation(exp) == "relu" else None


def _adam(exp: Experiment) -> list[str] | None:
    return None if exp.optimizer.name in ("adam", "adamw") else ["optimizer={name: adam, lr: 0.001}"]


def _output(exp: Experiment) -> str:
    """The output activation the model is built with (model.output may be left to the loss)."""
    from ..nn.build import layer_specs, output_activation

    return output_activation(layer_specs(exp.model, None))


def _softmax_logits(exp: Experiment) -> list[str] | None:
    if not _compact(exp) or exp.loss.name != "cross_entropy":
        return None
    return _set("model.output", "softmax", _output(exp))


REPAIRS: dict[str, Repair] = {r.name: r for r in [
    Repair("softmax on linear logits", "softmax cross-entropy on linear logits: every class can win and the "
           "gradient is p - y", _softmax_logits),
    Repair("standardised inputs", "zero-mean, unit-variance inputs keep pre-activations in the units' "
           "useful range and centre them for zero-bias units",
           lambda exp: _set("data.normalize", "standard", exp.data.normalize)),
    Repair("init matched to the activation", "He (ReLU family) or Glorot (tanh, sigmoid) init keeps the "
           "activations' variance steady through the layers", _matched_init),
    Repair("learning rate / 10", "smaller steps: no overshooting, fewer units pushed dead", _lr(0.1)),
    Repair("learning rate x 10", "larger steps for a run that moves too slowly", _lr_up),
    Repair("learning rate into the usual range", "the optimizer's usual range", _lr_into_range),
    Repair("gradient clipping", "train.clip_grad_norm caps the rare huge step and keeps the others",
           lambda exp: None if exp.train.clip_grad_norm else ["train.clip_grad_norm=1.0"]),
    Repair("batch norm before the activation", "normalised pre-activations: no saturation, no dead start, "
           "larger usable learning rates", _compact_set("batchnorm", "before")),
    Repair("leaky ReLU", "a leaky unit still passes gradient when negative, so it can come back", _leaky),
    Repair("ReLU with He init", "non-saturating units pass the gradient back through deep stacks", _relu_he),
    Repair("Adam", "per-parameter step sizes cope with badly scaled gradients", _adam),
    Repair("batch size x 2", "less noisy gradient steps", _batch(2)),
    Repair("mean loss reduction", "a mean over the batch keeps the step size independent of the batch size",
           lambda exp: _set("loss.reduction", "mean", exp.loss.reduction)
           if optimizer_info(exp.optimizer.name).plain_steps else None),   # Adam's steps ignore the scale
    Repair("smaller weight decay", "lr x decay far below 1 shrinks the weights a little each step", _smaller_decay),
    Repair("linear output", "a linear output can reach any target value",
           lambda exp: _set("model.output", "linear", _output(exp)) if _compact(exp) else None),
    Repair("cross-entropy loss", "cross-entropy's gradient on the logits is p - y, large when wrong",
           lambda exp: ["loss=cross_entropy", "model.output=softmax"] if _compact(exp) else ["loss=cross_entropy"]),
    Repair("early stopping", "stop when validation loss stops improving and keep the best weights",
           lambda exp: None if exp.train.early_stopping else ["train.early_stopping={monitor: val_loss, patience: 5}"]),
    Repair("dropout 0.2", "dropout regularises a network that memorises its training set",
           _compact_set("dropout", 0.2)),
]}

# event -> repairs to try, most likely first
TABLE: dict[str, list[str]] = {
    "output_activation_with_cross_entropy": ["softmax on linear logits"],
    "sigmoid_output_with_cross_entropy": ["softmax on linear logits"],
    "classes_never_predicted": ["softmax on linear logits", "init matched to the activation", "learning rate / 10"],
    "symmetric_init": ["init matched to the activation"],
    "duplicate_units": ["init matched to the activation"],
    "plateau": ["init matched to the activation", "softmax on linear logits", "batch norm before the activation",
                "learning rate x 10", "Adam", "standardised inputs"],
    "dead_units": ["learning rate / 10", "leaky ReLU", "init matched to the activation", "batch norm before the activation"],
    "dead_at_init": ["standardised inputs", "init matched to the activation", "leaky ReLU"],
    "saturated_units": ["init matched to the activation", "standardised inputs", "batch norm before the activation"],
    "saturated_at_init": ["init matched to the activation", "standardised inputs"],
    "init_loss": ["init matched to the activation", "batch norm before the activation"],
    "exploding_activations": ["init matched to the activation", "batch norm before the activation"],
    "collapsing_activations": ["init matched to the activation", "batch norm before the activation"],
    "spiky_run": ["learning rate / 10", "gradient clipping", "batch size x 2"],
    "large_updates": ["mean loss reduction", "learning rate / 10", "gradient clipping"],
    "exploding_gradients": ["gradient clipping", "learning rate / 10"],
    "divergence": ["mean loss reduction", "smaller weight decay", "learning rate / 10", "gradient clipping"],
    "vanishing_gradients": ["ReLU with He init", "batch norm before the activation"],
    "unscaled_inputs": ["standardised inputs"],
    "bounded_output_for_targets": ["linear output"],
    "squared_error_for_classification": ["cross-entropy loss"],
    "learning_rate_range": ["learning rate into the usual range"],
    "weight_decay_too_large": ["smaller weight decay"],
    "overfitting": ["early stopping", "dropout 0.2"],
}


def candidates(exp: Experiment, symptoms: list[str], budget: int) -> list[Candidate]:
    """Up to ``budget`` distinct fixes for ``symptoms`` (event types, most serious first),
    each listing every symptom it was proposed for."""
    found: dict[tuple[str, ...], Candidate] = {}
    for symptom in symptoms:
        for name in TABLE.get(symptom, []):
            repair = REPAIRS[name]
            overrides = repair.make(exp)
            if not overrides:
                continue
            key = tuple(overrides)
            if key in found:
                if symptom not in found[key].targets:
                    found[key].targets.append(symptom)
                continue
            if len(found) < budget:
                found[key] = Candidate(repair.name, overrides, repair.reason, [symptom])
    return list(found.values())
