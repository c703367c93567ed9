"""BatchNorm train vs evaluation behaviour, as torch.nn.BatchNorm1d."""

import numpy as np

from nnlab.nn.layers import BatchNorm, Dropout


def make(dim=3):
    layer = BatchNorm(dim)
    layer.initialize(None, np.float64)
    return layer


def test_training_normalises_with_biased_batch_statistics():
    layer = make()
    x = np.random.default_rng(0).normal(5, 3, (64, 3))
    out, _ = layer.forward(x, training=True)
    assert np.allclose(out.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(out.var(axis=0), 1 / (1 + 1e-5 / x.var(axis=0)), rtol=1e-9)


def test_running_statistics_use_momentum_and_unbiased_variance():
    layer = make()
    x = np.random.default_rng(1).normal(2, 4, (10, 3))
    layer.forward(x, training=True)
    assert np.allclose(layer.buffers["running_mean"], 0.1 * x.mean(axis=0))
    assert np.allclose(layer.buffers["running_var"], 0.9 * 1 + 0.1 * x.var(axis=0, ddof=1))


def test_evaluation_uses_running_statistics_and_ignores_the_batch():
    layer = make()
    layer.buffers["running_mean"][:] = [1.0, 2.0, 3.0]
    layer.buffers["running_var"][:] = [4.0, 4.0, 4.0]
    x = np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])
    out, _ = layer.forward(x, training=False)
    expected = (x - [1.0, 2.0, 3.0]) / np.sqrt(4.0 + 1e-5)
    assert np.allclose(out, expected)
    # one example is fine in evaluation; statistics do not move
    single, _ = layer.forward(x[:1], training=False)
    assert np.allclose(single, expected[:1])
    assert layer.buffers["running_mean"].tolist() == [1.0, 2.0, 3.0]


def test_training_and_evaluation_outputs_differ_until_statistics_converge():
    layer = make()
    x = np.random.default_rng(2).normal(3, 2, (256, 3))
    train_out, _ = layer.forward(x, training=True)
    eval_out, _ = layer.forward(x, training=False)
    assert not np.allclose(train_out, eval_out, atol=0.1)
    for _ in range(200):
        layer.forward(x, training=True)
    eval_out, _ = layer.forward(x, training=False)
    assert np.allclose(train_out, eval_out, atol=0.01)


def test_dropout_is_inverted_in_training_and_identity_in_evaluation():
    layer = Dropout(0.25)
    x = np.ones((2000, 50))
    out, _ = layer.forward(x, training=True, rng=np.random.default_rng(0))
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.01
    assert np.allclose(out[kept], 1 / 0.75)
    assert np.array_equal(layer.forward(x, training=False)[0], x)
