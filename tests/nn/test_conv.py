"""Image layers: forward against plain-loop references written from PyTorch's definitions,
float64 finite-difference gradients (stride, padding, ties, train and eval), and
the strided-memory views they pass on."""

import numpy as np
import pytest

from nnlab.nn.conv import AvgPool2d, BatchNorm2d, Conv2d, Flatten, MaxPool2d, same_padding
from nnlab.nn.gradcheck import numerical_gradient, rel_error

TOL = 1e-6


def _x(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def _conv(c=2, f=3, kernel=(3, 3), stride=(1, 1), pads=(0, 0, 0, 0), bias=True):
    layer = Conv2d(c, f, kernel, stride, pads, init=("glorot_uniform", {}),
                   bias_init=("uniform", {"a": -0.5, "b": 0.5}), bias=bias)
    layer.initialize(np.random.default_rng(3), np.float64)
    return layer


def naive_conv(x, w, b, stride, pads):
    """y[n,f,i,j] = b[f] + sum_{c,u,v} xpad[n,c,i*sh+u,j*sw+v] * w[f,c,u,v] (cross-correlation)."""
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, _, h, wd = xp.shape
    f, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride[0] + 1, (wd - kw) // stride[1] + 1
    y = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
            y[:, :, i, j] = np.einsum("ncuv,fcuv->nf", patch, w) + (0 if b is None else b)
    return y


def naive_pool(x, k, s, pad, how):
    value = -np.inf if how == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=value)
    oh, ow = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
    y = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * s:i * s + k, j * s:j * s + k]
            y[:, :, i, j] = patch.max(axis=(2, 3)) if how == "max" else patch.mean(axis=(2, 3))
    return y


CONV_CASES = [
    pytest.param((3, 3), (1, 1), (0, 0, 0, 0), True, id="3x3-valid"),
    pytest.param((3, 3), (1, 1), same_padding((3, 3)), True, id="3x3-same"),
    pytest.param((2, 2), (1, 1), same_padding((2, 2)), True, id="2x2-same-asymmetric"),
    pytest.param((3, 3), (2, 2), (1, 1, 1, 1), True, id="3x3-stride2-pad1"),
    pytest.param((3, 2), (2, 1), (2, 2, 0, 0), False, id="3x2-stride2x1-pad2x0-no-bias"),
    pytest.param((5, 5), (3, 3), (0, 0, 0, 0), True, id="5x5-stride3"),
]


@pytest.mark.parametrize("kernel, stride, pads, bias", CONV_CASES)
def test_conv_forward_matches_the_definition(kernel, stride, pads, bias):
    layer = _conv(kernel=kernel, stride=stride, pads=pads, bias=bias)
    x = _x((2, 2, 7, 6))
    out, _ = layer.forward(x)
    expected = naive_conv(x, layer.params["W"], layer.params.get("b"), stride, pads)
    assert out.shape == expected.shape == (2, 3) + layer.output_shape((2, 7, 6))[1:]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def check_layer(layer, x, training=True):
    dout = _x(layer.forward(x, training)[0].shape, seed=5)

    def f():
        return float(np.sum(layer.forward(x, training)[0] * dout))

    _, cache = layer.forward(x, training)
    dx = layer.backward(dout, cache)
    errors = {"x": rel_error(dx, numerical_gradient(f, x))}
    for name, param in layer.params.items():
        errors[name] = rel_error(layer.grads[name], numerical_gradient(f, param))
    return errors


@pytest.mark.parametrize("kernel, stride, pads, bias", CONV_CASES)
def test_conv_gradients(kernel, stride, pads, bias):
    errors = check_layer(_conv(kernel=kernel, stride=stride, pads=pads, bias=bias), _x((2, 2, 7, 6)))
    assert max(errors.values()) < TOL, errors


def test_conv_weight_has_torch_shape_and_fans():
    layer = Conv2d(3, 8, (5, 5), init=("he_uniform", {}))
    layer.initialize(np.random.default_rng(0), np.float32)
    w = layer.params["W"]
    assert w.shape == (8, 3, 5, 5) and w.dtype == np.float32 and layer.params["b"].shape == (8,)
    # kaiming_uniform with fan_in = C*kh*kw = 75: U(-sqrt(6/75), sqrt(6/75))
    assert np.abs(w).max() <= np.sqrt(6 / 75) and np.abs(w).max() > 0.9 * np.sqrt(6 / 75)
    glorot = Conv2d(3, 8, (5, 5), init=("glorot_normal", {}))
    glorot.initialize(np.random.default_rng(0), np.float64)
    # xavier_normal: std = sqrt(2 / (fan_in + fan_out)), fan_out = 8*25
    assert abs(glorot.params["W"].std() - np.sqrt(2 / (75 + 200))) < 0.1 * np.sqrt(2 / (75 + 200))


def test_first_layer_skips_the_input_gradient_and_keeps_the_weight_gradient():
    layer, x = _conv(), _x((2, 2, 6, 6))
    out, cache = layer.forward(x)
    dout = _x(out.shape, seed=4)
    layer.backward(dout, cache)
    expected = layer.grads["W"].copy()
    layer.skip_input_grad = True
    assert layer.backward(dout, cache) is None
    np.testing.assert_array_equal(layer.grads["W"], expected)


POOLS = [
    pytest.param(MaxPool2d, (2, 2), None, 0, id="max-2"),
    pytest.param(MaxPool2d, (3, 3), (2, 2), 1, id="max-3-stride2-pad1"),
    pytest.param(MaxPool2d, (3, 3), (1, 1), 0, id="max-3-overlapping"),
    pytest.param(AvgPool2d, (2, 2), None, 0, id="avg-2"),
    pytest.param(AvgPool2d, (3, 3), (2, 2), 1, id="avg-3-stride2-pad1"),
]


@pytest.mark.parametrize("cls, kernel, stride, padding", POOLS)
def test_pool_forward_and_gradients(cls, kernel, stride, padding):
    layer = cls(kernel, stride, padding)
    x = _x((2, 3, 7, 6))
    how = "max" if cls is MaxPool2d else "avg"
    expected = naive_pool(x, kernel[0], (stride or kernel)[0], padding, how)
    np.testing.assert_allclose(layer.forward(x)[0], expected, rtol=1e-12)
    assert layer.output_shape((3, 7, 6)) == expected.shape[1:]
    errors = check_layer(layer, x)
    assert max(errors.values()) < TOL, errors


def test_maxpool_ties_send_the_gradient_to_the_first_maximum():
    x = np.ones((1, 1, 2, 2))
    layer = MaxPool2d((2, 2))
    out, cache = layer.forward(x)
    dx = layer.backward(np.full_like(out, 3.0), cache)
    assert dx[0, 0].tolist() == [[3.0, 0.0], [0.0, 0.0]]


def _bn2d():
    layer = BatchNorm2d(3)
    layer.initialize(None, np.float64)
    layer.params["gamma"][:] = [0.5, 1.0, 1.5]
    layer.params["beta"][:] = [-0.2, 0.0, 0.2]
    return layer


def test_batchnorm2d_normalises_each_channel_over_batch_and_positions():
    layer, x = _bn2d(), _x((4, 3, 5, 5)) * 3 + 1
    out, _ = layer.forward(x, training=True)
    per_channel = out.transpose(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_allclose(per_channel.mean(axis=1), [-0.2, 0.0, 0.2], atol=1e-12)
    np.testing.assert_allclose(per_channel.std(axis=1), [0.5, 1.0, 1.5], rtol=1e-4)  # eps 1e-5 in the denominator
    channel0 = x[:, 0].ravel()
    # running statistics: momentum 0.1, unbiased variance over N*H*W = 100 values (torch.nn.BatchNorm2d)
    assert layer.buffers["running_mean"][0] == pytest.approx(0.1 * channel0.mean())
    assert layer.buffers["running_var"][0] == pytest.approx(0.9 + 0.1 * channel0.var(ddof=1))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batchnorm2d_gradients(training):
    layer = _bn2d()
    layer.buffers["running_mean"][:] = [0.3, -0.1, 0.0]
    layer.buffers["running_var"][:] = [2.0, 0.5, 1.0]
    errors = check_layer(layer, _x((3, 3, 4, 4)), training=training)
    assert max(errors.values()) < TOL, errors


def test_flatten_orders_features_channel_first_and_accepts_strided_views():
    x = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    strided = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # NHWC memory
    out, cache = Flatten().forward(strided)
    np.testing.assert_array_equal(out, x.reshape(2, 12))
    assert check_layer(Flatten(), _x((2, 3, 2, 2)))["x"] < TOL


def test_layers_accept_the_channel_last_views_a_conv_hands_on():
    """A conv's output is an (N, H, W, C)-ordered view; the next layers compute the same numbers."""
    conv, x = _conv(), _x((2, 2, 8, 8))
    out, _ = conv.forward(x)
    assert not out.flags.c_contiguous
    for layer in (MaxPool2d((2, 2)), AvgPool2d((2, 2)), _bn2d(), _conv(c=3, f=2)):
        a, _ = layer.forward(out, training=True)
        b, _ = layer.forward(np.ascontiguousarray(out), training=True)
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("batchnorm", ["none", "before", "after"])
def test_whole_cnn_gradients_through_the_compact_form(batchnorm):
    """conv -> [BN2d] -> relu -> [BN2d] -> pool, twice, flatten, dense, softmax cross-entropy: every parameter."""
    from nnlab.config import validate
    from nnlab.nn.build import build_model, layer_specs
    from nnlab.nn.losses import SoftmaxCrossEntropy

    exp = validate({"data": {"name": "mnist", "resize": [8, 8]}, "model": {
        "conv": [3, 2], "hidden": [4], "batchnorm": batchnorm, "init": "glorot_normal", "bias_init": "uniform(0.05, 0.2)"}})
    specs = layer_specs(exp.model, 3)
    model = build_model(specs, (1, 8, 8), explicit=False)
    assert model.layers[0].skip_input_grad
    model.initialize(np.random.default_rng(0), np.float64)
    x, y = _x((4, 1, 8, 8), seed=4), np.array([0, 2, 1, 2])
    loss = SoftmaxCrossEntropy()

    def f():
        return loss.forward(model.forward(x, training=True, stop=-1)[0], y)[0]

    out, caches = model.forward(x, training=True, stop=-1)
    model.backward(loss.backward(loss.forward(out, y)[1]), caches)
    for i, layer in enumerate(model.layers):
        feeds_bn = i + 1 < len(model.layers) and model.layers[i + 1].name.startswith("batchnorm")
        for name, param in layer.params.items():
            numerical = numerical_gradient(f, param)
            if name == "b" and feeds_bn:  # the batch mean cancels a bias right before batch norm
                assert np.abs(layer.grads[name]).max() < 1e-10 and np.abs(numerical).max() < 1e-8
            else:
                assert rel_error(layer.grads[name], numerical) < TOL, f"{i}.{name}"


def test_per_layer_l2_gradient_and_reported_loss():
    """regularization.l2 for every weight layer, a layer's own l2 overriding it (conv included)."""
    from nnlab.config import validate
    from nnlab.data.datasets import Dataset
    from nnlab.train.loop import l2_penalty
    from nnlab.train.setup import prepare

    from conftest import l2_gradient_errors

    x, y = (_x((12, 36), seed=2) > 0).astype(float), np.arange(12) % 2
    data = Dataset("mnist", "classification", x, y, x[:0], y[:0], x[:4], y[:4], 2, (1, 6, 6))
    exp = validate({"data": {"name": "mnist", "validation": 0}, "regularization": {"l2": 0.2}, "train": {"dtype": "float64"},
                    "model": {"layers": [{"conv2d": 2, "l2": 0.5}, "tanh", "flatten", {"dense": 3, "l2": 0}, "tanh",
                                         {"dense": 2}]}})
    setup = prepare(exp, dataset=data)
    assert setup.l2 == {0: 0.5, 5: 0.2}      # the dense layer with l2: 0 is not penalised
    errors = l2_gradient_errors(setup, setup.splits["train"][0][:6], setup.splits["train"][1][:6])
    assert set(errors) == {0, 3, 5} and max(errors.values()) < TOL, errors
    w0, w5 = setup.model.layers[0].params["W"], setup.model.layers[5].params["W"]
    assert l2_penalty(setup) == pytest.approx(0.25 * np.sum(w0 ** 2) + 0.1 * np.sum(w5 ** 2))


def test_dead_channels_are_counted_per_channel_and_named_as_channels():
    from nnlab.nn.build import build_model
    from nnlab.train.probes import describe_layer, probe_stats

    specs = [{"type": "conv2d", "filters": 3, "kernel": 3, "stride": 1, "padding": "same", "init": ("he_normal", {}),
              "bias_init": ("zeros", {})},
             {"type": "activation", "activation": ("relu", {})}, {"type": "flatten"},
             {"type": "dense", "units": 2, "init": ("he_normal", {}), "bias_init": ("zeros", {})}]
    model = build_model(specs, (1, 5, 5))
    model.initialize(np.random.default_rng(0), np.float64)
    np.abs(model.layers[0].params["W"], out=model.layers[0].params["W"])   # positive weights: every channel fires...
    model.layers[0].params["b"][:] = [-100.0, 0.0, 0.0]   # ...but channel 0, which never can on inputs in [0, 1]
    stats = probe_stats(model, np.random.default_rng(1).random((20, 1, 5, 5)))
    assert stats["dead_frac/1"] == pytest.approx(1 / 3)
    assert stats["distinct/0"] == 3 and stats["weight_norm/0"] > 0
    assert describe_layer(model, 1) == "layer 1 (relu after conv2d 0, 3 channels)"
    assert describe_layer(model, 0) == "layer 0 (conv2d 1->3 channels)"


def test_cnn_evaluation_runs_in_bounded_chunks():
    from nnlab.config import validate
    from nnlab.nn.build import EVAL_FLOATS, build_model, layer_specs

    exp = validate({"data": {"name": "mnist"}, "model": {"conv": [16, 32], "hidden": [8]}})
    model = build_model(layer_specs(exp.model, 10), (1, 28, 28), explicit=False)
    # conv 2 gathers 14*14 windows of 16*3*3 values per image: the largest intermediate
    assert model.eval_chunk == EVAL_FLOATS // (14 * 14 * 16 * 9)
    mlp = build_model(layer_specs(validate({"data": {"name": "mnist"}}).model, 10), 784)
    assert mlp.eval_chunk == 8192


@pytest.mark.parametrize("kernel, stride", [((2, 2), None), ((3, 3), (1, 1))], ids=["tiled", "overlapping"])
def test_maxpool_routes_the_gradient_to_a_nan_as_pytorch_does(kernel, stride):
    x = _x((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    layer = MaxPool2d(kernel, stride)
    out, cache = layer.forward(x)
    dx = layer.backward(np.ones_like(out), cache)
    assert np.isnan(out[0, 0, 0, 0]) and dx[0, 0, 1, 1] >= 1
