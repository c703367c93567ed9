"""Optimizers, step for step as torch.optim defines them, and the registry of their facts.

An optimizer holds hyperparameters; its state (momentum buffers, moments, step count) is a
dict keyed like the model's params (``"layers.0.W"``), kept apart. ``step(params, grads)``
updates the arrays in place: for each parameter, :meth:`Optimizer.update` prepares its state
and returns its update rule, an element-wise function of the parameter, its gradient and
its state arrays; the rules of every parameter then run together through
``ops.elementwise`` (one handoff when a trial's threads are in use; the bytes do not depend
on it). ``lr`` may be changed between steps by a schedule. ``weight_decay`` is L2 added to
the gradient (g += wd * w), except AdamW, which decays the weights directly (w -= lr * wd * w).

To add an optimizer: a subclass with its ``update``, an :class:`OptimizerInfo` in
:data:`OPTIMIZERS` (its usual learning rates and the other facts the doctor, the diagnosis,
``nnlab fix`` and the memory estimate read), a config model in ``config/optim_schema.py``
and a row in ``tests/nn/test_optim.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..runtime import kernels
from . import ops


class Optimizer:
    name = "optimizer"
    fused = False   # whether its update runs as a compiled kernel (runtime/kernels.py)
    decays_into_gradient = True

    def __init__(self, lr: float, weight_decay: float = 0.0):
        self.lr = lr
        self.weight_decay = weight_decay
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.steps += 1
        jobs = []
        for key, w in params.items():
            g = grads[key]
            if self.weight_decay and self.decays_into_gradient:
                g = g + w.dtype.type(self.weight_decay) * w
            jobs.append(self.update(w, g, self.state.setdefault(key, {})))
        ops.elementwise(jobs)

    def update(self, w: np.ndarray, g: np.ndarray, state: dict) -> ops.Job:  # pragma: no cover - abstract
        """Prepare ``state`` for this step and return ``(rule, arrays)``: ``rule(*arrays)``
        updates ``w`` (the first array) in place, element by element."""
        raise NotImplementedError


class SGD(Optimizer):
    """torch.optim.SGD: with momentum mu and dampening tau,
    b_1 = g_1, b_t = mu b_{t-1} + (1 - tau) g_t; Nesterov g <- g + mu b_t, else g <- b_t;
    w <- w - lr g."""

    name = "sgd"

    def __init__(self, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.momentum, self.dampening, self.nesterov = momentum, dampening, nesterov

    def update(self, w, g, state):
        dtype = w.dtype.type
        if not self.momentum:
            return partial(_sgd_rule, dtype(self.lr)), (w, g)
        first = "momentum_buffer" not in state
        if first:
            state["momentum_buffer"] = g.copy()
        constants = (dtype(self.lr), dtype(self.momentum), dtype(1 - self.dampening), self.nesterov, first)
        return partial(_momentum_rule, constants), (w, g, state["momentum_buffer"])


def _sgd_rule(lr, w, g) -> None:
    w -= lr * g


def _momentum_rule(constants, w, g, buf) -> None:
    lr, momentum, one_minus_dampening, nesterov, first = constants
    if not first:   # the first step's buffer is the gradient itself
        buf *= momentum
        buf += one_minus_dampening * g
    w -= lr * (g + momentum * buf if nesterov else buf)


class Adam(Optimizer):
    """torch.optim.Adam: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
    w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)  (eps outside the sqrt).
    Computed as ``_adam_update`` orders it, in one compiled pass where Numba is there
    (``runtime/kernels.py``; same bytes)."""

    name = "adam"

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.fused = kernels.enabled()   # compile or load the fused update now, not in the first step

    def update(self, w, g, state):
        dtype = w.dtype.type
        if not state:
            state["exp_avg"] = np.zeros_like(w)
            state["exp_avg_sq"] = np.zeros_like(w)
        t = self.steps
        constants = (dtype(self.beta1), dtype(1 - self.beta1), dtype(self.beta2), dtype(1 - self.beta2),
                     dtype(np.sqrt(1 - self.beta2 ** t)), dtype(self.eps), dtype(self.lr / (1 - self.beta1 ** t)))
        g = np.ascontiguousarray(g)
        fused = kernels.kernel("adam") if _fusable(w, g) else None
        if fused is not None:    # the same operations in one pass (runtime/kernels.py)
            return partial(_adam_fused, fused, constants), (w, g, state["exp_avg"], state["exp_avg_sq"])
        if "_scratch" not in state:
            state["_scratch"] = np.empty_like(w)   # not saved: a buffer, not state
        return partial(_adam_update, constants), (w, g, state["exp_avg"], state["exp_avg_sq"], state["_scratch"])


def _fusable(w: np.ndarray, g: np.ndarray) -> bool:
    """Whether the compiled kernel takes these arrays (float32 or float64 alike, same shape,
    C-contiguous, w writable); anything else (a float16 or Fortran-ordered parameter from the
    Python API) runs the NumPy code, which handles it."""
    return (w.dtype in (np.float32, np.float64) and g.dtype == w.dtype and g.shape == w.shape
            and w.flags.c_contiguous and g.flags.c_contiguous and w.flags.writeable)


def _adam_fused(fused, constants, w, g, m, v) -> None:
    fused(*(x.reshape(-1) for x in (w, g, m, v)), *constants)   # views: the arrays are C-contiguous


def _adam_update(constants, w, g, m, v, tmp) -> None:
    """Adam's update in place, one scratch array, the operations of the formula in its order:
    m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; denom = sqrt(v) / sqrt(1 - b2^t) + eps;
    w -= lr / (1 - b1^t) * (m / denom). Element-wise, so it may run on pieces in parallel."""
    b1, one_minus_b1, b2, one_minus_b2, root_correction2, eps, step = constants
    m *= b1
    np.multiply(g, one_minus_b1, out=tmp)
    m += tmp
    v *= b2
    np.multiply(g, g, out=tmp)
    tmp *= one_minus_b2
    v += tmp
    np.sqrt(v, out=tmp)
    tmp /= root_correction2
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= step
    w -= tmp


class AdamW(Adam):
    """torch.optim.AdamW: w <- w (1 - lr wd), then the Adam step without L2 in g.
    Default weight_decay 0.01 as in PyTorch."""

    name = "adamw"
    decays_into_gradient = False

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(lr, betas, eps, weight_decay)

    def update(self, w, g, state):
        w *= w.dtype.type(1 - self.lr * self.weight_decay)
        return super().update(w, g, state)


class RMSprop(Optimizer):
    """torch.optim.RMSprop: s = alpha s + (1 - alpha) g^2; centered: a = b1 avg of g,
    denom = sqrt(s - a^2) + eps else sqrt(s) + eps; with momentum mu:
    buf = mu buf + g / denom, w <- w - lr buf; else w <- w - lr g / denom."""

    name = "rmsprop"

    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, centered=False, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.alpha, self.eps, self.momentum, self.centered = alpha, eps, momentum, centered

    def update(self, w, g, state):
        dtype = w.dtype.type
        if not state:
            state["square_avg"] = np.zeros_like(w)
            if self.centered:
                state["grad_avg"] = np.zeros_like(w)
            if self.momentum:
                state["momentum_buffer"] = np.zeros_like(w)
        arrays = (w, g, state["square_avg"]) + tuple(state[k] for k in ("grad_avg", "momentum_buffer") if k in state)
        constants = (dtype(self.lr), dtype(self.alpha), dtype(1 - self.alpha), dtype(self.eps), dtype(self.momentum),
                     self.centered, bool(self.momentum))
        return partial(_rmsprop_rule, constants), arrays


def _rmsprop_rule(constants, w, g, s, *extra) -> None:
    lr, alpha, one_minus_alpha, eps, momentum, centered, with_momentum = constants
    s *= alpha
    s += one_minus_alpha * (g * g)
    if centered:
        a = extra[0]
        a *= alpha
        a += one_minus_alpha * g
        denom = np.sqrt(s - a * a) + eps
    else:
        denom = np.sqrt(s) + eps
    if with_momentum:
        buf = extra[-1]
        buf *= momentum
        buf += g / denom
        w -= lr * buf
    else:
        w -= lr * (g / denom)


class Adagrad(Optimizer):
    """torch.optim.Adagrad: clr = lr / (1 + (t - 1) lr_decay), s += g^2,
    w <- w - clr g / (sqrt(s) + eps)."""

    name = "adagrad"

    def __init__(self, lr=0.01, lr_decay=0.0, eps=1e-10, initial_accumulator_value=0.0, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.lr_decay, self.eps, self.initial_accumulator_value = lr_decay, eps, initial_accumulator_value

    def update(self, w, g, state):
        dtype = w.dtype.type
        if not state:
            state["sum"] = np.full_like(w, self.initial_accumulator_value)
        clr = self.lr / (1 + (self.steps - 1) * self.lr_decay)
        return partial(_adagrad_rule, dtype(clr), dtype(self.eps)), (w, g, state["sum"])


def _adagrad_rule(clr, eps, w, g, s) -> None:
    s += g * g
    w -= clr * (g / (np.sqrt(s) + eps))


# ---------------------------------------------------------------- the registry

@dataclass(frozen=True)
class OptimizerInfo:
    """One optimizer as the rest of nnlab knows it: how to build it, and its facts."""

    build: Callable[..., Optimizer]
    usual_lr: tuple[float, float]   # the doctor warns far outside it; `fix` never raises lr above its top
    state_arrays: int               # parameter-sized arrays its state (and update) keeps: the memory estimate
    plain_steps: bool               # the step is lr x gradient (SGD family): a summed loss or an L2 term scales it
    decay_shrinks_weights: bool     # weight_decay multiplies the weights by 1 - lr*wd each step (SGD family, AdamW)


# Usual learning-rate ranges: Adam >= 0.03 and SGD >= 1 gave spiky runs with 37-80% dead
# ReLUs on a small MNIST MLP. Adam's state is its two moments and one scratch array.
OPTIMIZERS: dict[str, OptimizerInfo] = {
    "sgd": OptimizerInfo(SGD, (1e-4, 0.5), 1, True, True),
    "momentum": OptimizerInfo(partial(SGD, momentum=0.9), (1e-4, 0.3), 1, True, True),
    "nesterov": OptimizerInfo(partial(SGD, momentum=0.9, nesterov=True), (1e-4, 0.3), 1, True, True),
    "adam": OptimizerInfo(Adam, (1e-5, 0.01), 3, False, False),
    "adamw": OptimizerInfo(AdamW, (1e-5, 0.01), 3, False, True),
    "rmsprop": OptimizerInfo(RMSprop, (1e-5, 0.01), 3, False, False),
    "adagrad": OptimizerInfo(Adagrad, (1e-4, 0.1), 1, False, False),
}


def optimizer_info(name: str) -> OptimizerInfo:
    """The registry entry of ``name`` (KeyError with the valid names when there is none)."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise KeyError(f"no optimizer '{name}' in the registry; known: {', '.join(OPTIMIZERS)}") from None


def make_optimizer(name: str, **kwargs) -> Optimizer:
    """The optimizer ``name`` with these hyperparameters (``momentum`` and ``nesterov`` are
    SGD with momentum 0.9 unless given)."""
    return optimizer_info(name).build(**kwargs)
