"""Float64 centred finite-difference checks of every differentiable piece (rel. error < 1e-6)."""

import numpy as np
import pytest

from nnlab.config import Experiment
from nnlab.nn.activations import ACTIVATIONS
from nnlab.nn.build import build_model, layer_specs
from nnlab.nn.gradcheck import numerical_gradient, rel_error
from nnlab.nn.layers import BatchNorm, Dense, Dropout
from nnlab.nn.losses import (
    LogitBinaryCrossEntropy,
    MeanAbsoluteError,
    MeanSquaredError,
    ProbabilityBinaryCrossEntropy,
    ProbabilityCrossEntropy,
    SoftmaxCrossEntropy,
)

TOL = 1e-6


def check_layer(layer, x, seed=0, training=True):
    """Compare backward with finite differences of sum(out * dout) for x and every param."""
    rng = np.random.default_rng(seed)
    out, _ = layer.forward(x, training, np.random.default_rng(99))
    dout = rng.standard_normal(out.shape)

    def f():
        return float(np.sum(layer.forward(x, training, np.random.default_rng(99))[0] * dout))

    _, cache = layer.forward(x, training, np.random.default_rng(99))
    dx = layer.backward(dout, cache)
    errors = {"x": rel_error(dx, numerical_gradient(f, x))}
    for name, param in layer.params.items():
        errors[name] = rel_error(layer.grads[name], numerical_gradient(f, param))
    return errors


def _x(shape=(6, 5), seed=1, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _dense():
    layer = Dense(5, 4, init=("glorot_uniform", {}), bias_init=("uniform", {"a": -0.5, "b": 0.5}))
    layer.initialize(np.random.default_rng(3), np.float64)
    return layer


def _bn():
    layer = BatchNorm(5)
    layer.initialize(None, np.float64)
    layer.params["gamma"][:] = np.linspace(0.5, 1.5, 5)
    layer.params["beta"][:] = np.linspace(-0.2, 0.2, 5)
    return layer


def _dense_without_bias():
    layer = Dense(5, 4, init=("glorot_uniform", {}), bias=False)
    layer.initialize(np.random.default_rng(3), np.float64)
    return layer


# the classes themselves are the factories (a lambda here would late-bind `name`)
LAYERS = [pytest.param(ACTIVATIONS[name], id=name) for name in ACTIVATIONS]
LAYERS += [
    pytest.param(lambda: ACTIVATIONS["leaky_relu"](alpha=0.2), id="leaky_relu(0.2)"),
    pytest.param(lambda: ACTIVATIONS["elu"](alpha=0.7), id="elu(0.7)"),
    pytest.param(_dense, id="dense"),
    pytest.param(_bn, id="batchnorm-train"),
    pytest.param(lambda: Dropout(0.3), id="dropout-train"),
    pytest.param(lambda: Dropout(0.3, inverted=False), id="dropout-not-inverted-train"),
    pytest.param(_dense_without_bias, id="dense-no-bias"),
]


@pytest.mark.parametrize("make", LAYERS)
def test_layer_gradients(make):
    layer = make()
    x = _x()
    # keep inputs away from kinks (relu, leaky_relu, elu at 0) so finite differences are valid
    x[np.abs(x) < 1e-3] = 0.1
    errors = check_layer(layer, x)
    assert max(errors.values()) < TOL, errors


def test_dropout_not_inverted_scales_at_evaluation():
    layer = Dropout(0.3, inverted=False)
    errors = check_layer(layer, _x(), training=False)
    assert max(errors.values()) < TOL, errors
    x = _x()
    assert np.allclose(layer.forward(x, training=False)[0], 0.7 * x)        # E[train output] = 0.7 x
    assert np.array_equal(Dropout(0.3).forward(x, training=False)[0], x)    # inverted: identity


def test_l2_penalty_gradient_matches_finite_differences():
    """train_step adds l2 * W to each dense layer's gradient for the cost l2/2 * sum ||W||^2."""
    from nnlab.config import validate
    from nnlab.train.setup import prepare

    from conftest import l2_gradient_errors

    exp = validate({"data": {"name": "blobs", "n_samples": 40}, "model": {"hidden": [5], "activation": "tanh"},
                    "regularization": {"l2": 0.3}, "train": {"dtype": "float64"}})
    setup = prepare(exp)
    errors = l2_gradient_errors(setup, setup.splits["train"][0][:8], setup.splits["train"][1][:8])
    assert max(errors.values()) < TOL, errors


def test_batchnorm_eval_gradient():
    layer = _bn()
    layer.buffers["running_mean"][:] = 0.3
    layer.buffers["running_var"][:] = 2.0
    errors = check_layer(layer, _x(), training=False)
    assert max(errors.values()) < TOL, errors


def _labels(n=6, c=4, seed=2):
    return np.random.default_rng(seed).integers(0, c, n)


def _probs(shape=(6, 4), seed=3):
    return np.random.default_rng(seed).uniform(0.05, 0.95, shape)


LOSSES = [
    pytest.param(SoftmaxCrossEntropy(), _x((6, 4)), _labels(), id="cross_entropy-logits"),
    pytest.param(SoftmaxCrossEntropy("sum"), _x((6, 4)), _labels(), id="cross_entropy-logits-sum"),
    pytest.param(ProbabilityCrossEntropy(), _probs(), _labels(), id="cross_entropy-probabilities"),
    pytest.param(LogitBinaryCrossEntropy(), _x((6, 3)), _probs((6, 3), 5).round(), id="bce-logits"),
    pytest.param(ProbabilityBinaryCrossEntropy(), _probs((6, 3)), _probs((6, 3), 5).round(), id="bce-probabilities"),
    pytest.param(MeanSquaredError(), _x((6, 3)), _x((6, 3), 7), id="mse"),
    pytest.param(MeanSquaredError("sum"), _x((6, 3)), _x((6, 3), 7), id="mse-sum"),
    pytest.param(MeanAbsoluteError(), _x((6, 3)), _x((6, 3), 7), id="mae"),
]


@pytest.mark.parametrize("loss, output, target", LOSSES)
def test_loss_gradients(loss, output, target):
    output = output.copy()

    def f():
        return loss.forward(output, target)[0]

    _, cache = loss.forward(output, target)
    assert rel_error(loss.backward(cache), numerical_gradient(f, output)) < TOL


@pytest.mark.parametrize("loss, output, target", LOSSES)
def test_per_example_losses_add_up_to_the_loss(loss, output, target):
    """per_example (the spread of the validation loss, for the overfitting noise test) averages
    to the mean-reduced loss, the one evaluation reports."""
    per = loss.per_example(output, target)
    assert per.shape == (len(output),) and per.dtype == np.float64
    assert per.mean() == pytest.approx(type(loss)("mean").forward(output, target)[0], rel=1e-12)


@pytest.mark.parametrize("batchnorm", ["none", "before", "after"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_whole_model_gradients(batchnorm, activation):
    """The model with a BN placement, end to end through fused softmax cross-entropy."""
    exp = Experiment.model_validate({"data": {"name": "blobs"}, "model": {
        "hidden": [5, 4], "activation": activation, "batchnorm": batchnorm, "init": "glorot_normal",
        # a non-zero bias keeps pre-activations off ReLU's kink at exactly 0
        "bias_init": "uniform(0.05, 0.2)"}})
    model = build_model(layer_specs(exp.model, 3), 3)
    model.initialize(np.random.default_rng(0), np.float64)
    x = _x((8, 3), seed=4)
    y = _labels(8, 3)
    loss = SoftmaxCrossEntropy()

    def f():
        return loss.forward(model.forward(x, training=True, stop=-1)[0], y)[0]

    out, caches = model.forward(x, training=True, stop=-1)
    _, cache = loss.forward(out, y)
    model.backward(loss.backward(cache), caches)
    for i, layer in enumerate(model.layers):
        feeds_bn = i + 1 < len(model.layers) and model.layers[i + 1].name == "batchnorm"
        for name, param in layer.params.items():
            numerical = numerical_gradient(f, param)
            if name == "b" and feeds_bn:
                # BatchNorm subtracts the batch mean: the bias before it has no effect at all
                assert np.abs(layer.grads[name]).max() < 1e-12 and np.abs(numerical).max() < 1e-8
            else:
                assert rel_error(layer.grads[name], numerical) < TOL, f"{i}.{name}"
