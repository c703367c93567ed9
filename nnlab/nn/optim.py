"""Optimizers, step for step as torch.optim defines them.

An optimizer holds hyperparameters; its state (momentum buffers, moments, step count)
is a dict keyed like the model's params (``"0.W"``), kept apart. ``step(params, grads)``
updates the arrays in place. ``lr`` may be changed between steps by a schedule.
``weight_decay`` is L2 added to the gradient (g += wd * w), except AdamW, which decays
the weights directly (w -= lr * wd * w).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..runtime import kernels
from ..runtime.threads import elementwise_jobs


class Optimizer:
    name = "optimizer"
    fused = False   # whether its update runs as a compiled kernel (nn/kernels.py)

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
            job = self.update(w, g, self.state.setdefault(key, {}))
            if job is not None:
                jobs.append(job)
        elementwise_jobs(jobs)

    decays_into_gradient = True

    def update(self, w, g, state):  # pragma: no cover - abstract
        """Update ``w`` in place, or return an element-wise job ``(fn, arrays)`` that does;
        ``step`` runs the jobs of every parameter together (``parallel.elementwise_jobs``)."""
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
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= dtype(self.momentum)
                buf += dtype(1 - self.dampening) * g
            g = g + dtype(self.momentum) * buf if self.nesterov else buf
        w -= dtype(self.lr) * g


class Adam(Optimizer):
    """torch.optim.Adam: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
    w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)  (eps outside the sqrt).
    Computed as ``_adam_update`` orders it, in one compiled pass where Numba is there
    (``nn/kernels.py``; same bytes)."""

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
        if fused is not None:    # the same operations in one pass (nn/kernels.py)
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
        s = state["square_avg"]
        s *= dtype(self.alpha)
        s += dtype(1 - self.alpha) * (g * g)
        if self.centered:
            a = state["grad_avg"]
            a *= dtype(self.alpha)
            a += dtype(1 - self.alpha) * g
            denom = np.sqrt(s - a * a) + dtype(self.eps)
        else:
            denom = np.sqrt(s) + dtype(self.eps)
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= dtype(self.momentum)
            buf += g / denom
            w -= dtype(self.lr) * buf
        else:
            w -= dtype(self.lr) * (g / denom)


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
        s = state["sum"]
        s += g * g
        clr = self.lr / (1 + (self.steps - 1) * self.lr_decay)
        w -= dtype(clr) * (g / (np.sqrt(s) + dtype(self.eps)))


def make_optimizer(name: str, **kwargs) -> Optimizer:
    """``momentum`` and ``nesterov`` are SGD with momentum 0.9 unless given."""
    if name == "momentum":
        kwargs.setdefault("momentum", 0.9)
        return SGD(**kwargs)
    if name == "nesterov":
        kwargs.setdefault("momentum", 0.9)
        return SGD(nesterov=True, **kwargs)
    return OPTIMIZERS[name](**kwargs)


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}
