"""Optimizers against steps computed by hand from torch.optim's documented update rules."""

import math

import numpy as np
import pytest

from nnlab.nn.optim import make_optimizer
from nnlab.nn.schedules import CosineLR, ExponentialLR, StepLR, make_schedule

W0 = [1.0, -2.0]
GRADS = [[0.5, -1.0], [0.1, 0.3], [-0.2, 0.4]]


def run(name, steps=3, **kwargs):
    opt = make_optimizer(name, **kwargs)
    w = np.array(W0)
    for g in GRADS[:steps]:
        opt.step({"layers.0.W": w}, {"layers.0.W": np.array(g)})
    return w


def test_sgd_first_step_by_hand():
    # w - lr * g = [1 - 0.1 * 0.5, -2 + 0.1 * 1.0]
    assert run("sgd", steps=1, lr=0.1).tolist() == pytest.approx([0.95, -1.9])


def test_sgd_weight_decay_adds_l2_to_gradient():
    # g + wd * w = [0.5 + 0.1, -1.0 - 0.2]; w - 0.1 * that
    assert run("sgd", steps=1, lr=0.1, weight_decay=0.1).tolist() == pytest.approx([0.94, -1.88])


def scalar_reference(name, w, grads, **h):
    """The same rules written out per scalar, straight from the PyTorch docs."""
    m = v = buf = acc = 0.0
    for t, g in enumerate(grads, start=1):
        if name == "momentum":
            buf = g if t == 1 else h["mu"] * buf + g
            w -= h["lr"] * buf
        elif name == "nesterov":
            buf = g if t == 1 else h["mu"] * buf + g
            w -= h["lr"] * (g + h["mu"] * buf)
        elif name in ("adam", "adamw"):
            if name == "adamw":
                w *= 1 - h["lr"] * h["wd"]
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            w -= h["lr"] * (m / (1 - 0.9 ** t)) / (math.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        elif name == "rmsprop":
            v = 0.99 * v + 0.01 * g * g
            w -= h["lr"] * g / (math.sqrt(v) + 1e-8)
        elif name == "adagrad":
            acc += g * g
            w -= h["lr"] * g / (math.sqrt(acc) + 1e-10)
    return w


@pytest.mark.parametrize("name, kwargs, hyper", [
    pytest.param("momentum", {"lr": 0.1}, {"lr": 0.1, "mu": 0.9}, id="momentum"),
    pytest.param("nesterov", {"lr": 0.1}, {"lr": 0.1, "mu": 0.9}, id="nesterov"),
    pytest.param("adam", {"lr": 0.01}, {"lr": 0.01}, id="adam"),
    pytest.param("adamw", {"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.01, "wd": 0.1}, id="adamw"),
    pytest.param("rmsprop", {"lr": 0.01}, {"lr": 0.01}, id="rmsprop"),
    pytest.param("adagrad", {"lr": 0.1}, {"lr": 0.1}, id="adagrad"),
])
def test_three_steps_match_the_documented_rule(name, kwargs, hyper):
    got = run(name, **kwargs)
    expected = [scalar_reference(name, w, [g[i] for g in GRADS], **hyper) for i, w in enumerate(W0)]
    assert got.tolist() == pytest.approx(expected, rel=1e-12)


def test_adam_first_step_moves_each_weight_by_lr():
    # m_hat = g and v_hat = g^2 after one step, so the update is lr * g / (|g| + eps) ~ lr * sign(g)
    assert run("adam", steps=1, lr=0.01).tolist() == pytest.approx([0.99, -1.99], abs=1e-9)


def test_rmsprop_first_step_by_hand():
    # v = 0.01 g^2, so the step is lr * g / (0.1 |g| + eps) = 10 lr sign(g)
    assert run("rmsprop", steps=1, lr=0.01).tolist() == pytest.approx([0.9, -1.9], abs=1e-6)


def test_adagrad_first_step_by_hand():
    assert run("adagrad", steps=1, lr=0.1).tolist() == pytest.approx([0.9, -1.9], abs=1e-9)


def test_float32_parameters_stay_float32():
    opt = make_optimizer("adam", lr=0.01)
    w = np.ones(3, np.float32)
    opt.step({"w": w}, {"w": np.full(3, 0.5, np.float32)})
    assert w.dtype == np.float32


@pytest.mark.parametrize("schedule, kwargs, expected", [
    pytest.param(StepLR, {"every": 2, "gamma": 0.5}, [1.0, 1.0, 0.5, 0.5, 0.25], id="step"),
    pytest.param(ExponentialLR, {"gamma": 0.5}, [1.0, 0.5, 0.25, 0.125, 0.0625], id="exponential"),
    pytest.param(CosineLR, {"t_max": 4, "eta_min": 0.0}, [1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0], id="cosine"),
])
def test_schedules_set_the_optimizers_rate_per_epoch(schedule, kwargs, expected):
    optimizer = make_optimizer("sgd", lr=1.0)
    bound = schedule(optimizer, **kwargs)
    seen = []
    for epoch in range(1, 6):
        bound.start_epoch(epoch)
        seen.append(optimizer.lr)
    assert seen == pytest.approx(expected)
    assert bound.base_lr == 1.0  # the base rate is kept apart from the live one


def test_no_schedule_keeps_the_rate():
    optimizer = make_optimizer("adam", lr=0.003)
    schedule = make_schedule(optimizer)
    assert [schedule.start_epoch(e) for e in (1, 2, 50)] == [0.003, 0.003, 0.003]
