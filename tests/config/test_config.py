"""Bad input: one clear line, exit code 2, no traceback, nothing written."""

import pytest

from conftest import write

BASE = "name: t\ndata: {name: xor, n_samples: 40, n_test: 20}\nmodel: {hidden: [4]}\ntrain: {epochs: 1}\n"

BAD = [
    # (yaml text, extra CLI args, expected fragments of the one-line message)
    pytest.param("model: {hidden: [4]\n", [], ["c.yaml:2", "YAML syntax error"], id="malformed-yaml"),
    pytest.param("- a\n- b\n", [], ["top level must be a mapping"], id="top-level-list"),
    pytest.param("optimiser: {name: adam}\n", [], ["unknown key 'optimiser'", "did you mean 'optimizer'"], id="misspelt-top-key"),
    pytest.param("model:\n  activaton: relu\n", [], ["c.yaml:2", "model", "did you mean 'activation'"], id="misspelt-nested-key"),
    pytest.param("model: {activation: relux}\n", [], ["model.activation", "unknown activation 'relux'", "did you mean 'relu'"], id="unknown-activation"),
    pytest.param("optimizer: {name: adamm}\n", [], ["unknown optimizer 'adamm'", "did you mean 'adam'"], id="unknown-optimizer"),
    pytest.param("optimizer: adam\nloss: crossentropy\n", [], ["c.yaml:2: loss:", "did you mean 'cross_entropy'"], id="unknown-loss"),
    pytest.param("train: {epochs: ten}\n", [], ["train.epochs", "integer", "'ten'"], id="wrong-type"),
    pytest.param("optimizer: {name: sgd, lr: -0.1}\n", [], ["optimizer.lr", "greater than 0"], id="negative-lr"),
    pytest.param("model: {dropout: 1.5}\n", [], ["model.dropout", "less than 1"], id="dropout-out-of-range"),
    pytest.param("model: {batchnorm: middle}\n", [], ["model.batchnorm", "'before'", "'after'"], id="bad-batchnorm-place"),
    pytest.param("data: {name: mnits}\n", [], ["data.name", "did you mean 'mnist'"], id="unknown-dataset"),
    pytest.param("data: {name: xor, validation: 1.5}\n", [], ["data.validation", "[0, 1)"], id="validation-fraction"),
    pytest.param("model: {init: 'normal(stdev=0.1)'}\n", [], ["model.init", "no parameter 'stdev'", "did you mean 'std'"], id="bad-init-parameter"),
    pytest.param("model: {init: 'uniform(1, 2, 3)'}\n", [], ["model.init", "takes 2 argument"], id="too-many-init-args"),
    pytest.param("optimizer: {name: adam, momentum: 0.9}\n", [], ["optimizer", "unknown key 'momentum'", "valid keys"], id="key-of-another-optimizer"),
    pytest.param("data: {name: regression}\nloss: cross_entropy\n", [], ["needs class labels", "use mse or mae"], id="ce-on-regression"),
    pytest.param("data: {name: xor, validation: 0}\ntrain: {early_stopping: {monitor: val_loss}}\n", [],
                 ["needs a validation split"], id="early-stop-without-validation"),
    pytest.param("model:\n  hidden: [4]\n  layers: [{dense: 2}]\n", [], ["either model.layers or the compact form (hidden)"], id="both-model-forms"),
    pytest.param("data: {name: xor, n_samples: 40}\nmodel:\n  layers: [{dense: 4}, relu, {dense: 5}, softmax]\n", [],
                 ["last dense layer has 5 units", "needs 2 outputs"], id="layers-wrong-output-width"),
    pytest.param("model:\n  layers: [{dense: 4, dropout: 0.1}]\n", [], ["exactly one of"], id="layer-with-two-types"),
    pytest.param("schedule: {name: cosin}\n", [], ["unknown schedule 'cosin'", "did you mean 'cosine'"], id="unknown-schedule"),
    pytest.param("train: {batch_size: 0}\n", [], ["train.batch_size", ">= 1 or 'full'"], id="zero-batch"),
    pytest.param("name: a/b\n", [], ["name", "names a folder"], id="unsafe-name"),
    pytest.param("seed: 1\nseed: 2\n", [], ["duplicate key 'seed'"], id="duplicate-key"),
    pytest.param(BASE, ["optimizer.lr"], ["write key.path=value"], id="override-without-equals"),
    pytest.param(BASE, ["optimizer.lrr=0.1"], ["override optimizer", "did you mean 'lr'"], id="override-misspelt"),
    pytest.param(BASE, ["optimizer.lr=0.1,0.01"], ["sweep axis", "nnlab sweep"], id="override-list-in-run"),
    pytest.param(BASE, ["train.epochs=-3"], ["train.epochs", "greater than or equal to 0"], id="override-out-of-range"),
    pytest.param("data: {name: mnist}\n", [], ["mnist not found", "NNLAB_DATA"], id="missing-dataset"),
    # values accepted before that should not be
    pytest.param(BASE + "optimizer: {name: sgd, momentum: .inf}\n", [], ["optimizer.momentum"], id="momentum-inf"),
    pytest.param(BASE + "optimizer: {name: sgd, momentum: 1.0e9}\n", [], ["optimizer.momentum", "less than 1"], id="momentum-huge"),
    pytest.param(BASE + "optimizer: {name: momentum, momentum: 1.0}\n", [], ["optimizer.momentum", "less than 1"], id="momentum-one"),
    pytest.param(BASE + "optimizer: {name: adam, lr: .inf}\n", [], ["optimizer.lr", "finite"], id="lr-inf"),
    pytest.param(BASE + "optimizer: {name: adam, lr: .nan}\n", [], ["optimizer.lr", "finite"], id="lr-nan"),
    pytest.param(BASE + "optimizer: {name: adam, betas: [0.9, 1.5]}\n", [], ["optimizer.betas", "[0, 1)"], id="beta-above-one"),
    pytest.param(BASE, ["model.init=normal(std=-1)"], ["model.init", "std must be > 0"], id="negative-std"),
    pytest.param(BASE, ["model.init=uniform(1, -1)"], ["model.init", "a < b"], id="uniform-reversed"),
    pytest.param(BASE, ["model.activation=leaky_relu(1e999)"], ["model.activation", "finite"], id="activation-inf"),
    pytest.param(BASE, ["train.epochs=true"], ["train.epochs", "a number", "boolean"], id="bool-as-epochs"),
    pytest.param(BASE, ["optimizer.lr=false"], ["optimizer.lr", "a number", "boolean"], id="bool-as-lr"),
    pytest.param(BASE, ["seed=1", "seed=2"], ["seed", "given twice"], id="duplicate-override"),
    pytest.param(BASE + "sweep: {grid: {model.activaton: [relu, tanh]}}\n", [], ["model.activaton", "did you mean 'activation'"],
                 id="typo-axis-in-run"),
    pytest.param("name: " + "x" * 300 + "\n", [], ["name", "at most 100 characters"], id="name-300-chars"),
    pytest.param("data: {name: xor, n_samples: 1.0e12}\n", [], ["data.n_samples", "less than or equal to"], id="n-samples-1e12"),
    pytest.param(BASE, ["model.hidden=[100000000]"], ["model.hidden", "memory"], id="hidden-1e8"),
    pytest.param(BASE, ["model.batchnorm_momentum=0.01"], ["model.batchnorm_momentum", "give model.batchnorm too"],
                 id="bn-momentum-without-bn"),
    pytest.param(BASE, ["model.conv_dropout=0.25"], ["model.conv_dropout shapes the conv blocks", "give model.conv"],
                 id="conv-dropout-without-conv"),
    pytest.param(BASE, ["model.init=[zeros,he_normal,he_normal]"], ["model.init lists 3 initializers", "2 weight layers"],
                 id="init-list-wrong-length"),
    pytest.param("model:\n  layers: [{dense: 4}, relu, {dense: 2}, softmax]\n", ["model.init=[zeros,he_normal]"],
                 ["list of initializers is for the compact form"], id="init-list-with-layers"),
    pytest.param("model:\n  layers: [{dense: 4}, relu, {dense: 2}, softmax]\n", ["model.layers.4.units=3"],
                 ["model.layers has 4 items (positions 0 to 3)"], id="layer-index-out-of-range"),
    pytest.param("model:\n  layers: [{dense: 4}, relu, {dense: 2}, softmax]\n", ["model.layers.first.units=3"],
                 ["model.layers is a list", "model.layers.0"], id="layer-index-not-a-number"),
    pytest.param("model:\n  layers: [{dense: 4}, relu, {dense: 2}, softmax]\n", ["model.layers.1.activation=tanh"],
                 ["model.layers.1 is written as 'relu'", "replace the whole item"], id="layer-index-into-shorthand"),
    pytest.param(BASE, ["model.hidden=[100000000000]"], ["model.hidden"], id="hidden-1e11"),
    pytest.param("data: {name: xor, n_samples: 100000000}\nmodel: {hidden: [1000]}\ntrain: {batch_size: full}\n", [],
                 ["train.batch_size", "memory", "is available"], id="full-batch-of-1e8"),
    # YAML that is not a plain config
    pytest.param("", [], ["c.yaml", "empty"], id="empty-file"),
    pytest.param("# only a comment\n", [], ["c.yaml", "empty"], id="comment-only"),
    pytest.param("model: !!python/object:os.system {}\n", [], ["c.yaml:1", "unsupported YAML tag", "python/object"], id="python-tag"),
    pytest.param("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                 "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                 "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                 "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n", [],
                 ["c.yaml", "aliases"], id="alias-bomb"),
    pytest.param("a: " + "[" * 5000 + "]" * 5000 + "\n", [], ["c.yaml", "nested"], id="deep-nesting"),
    # found by a fault probe of 212 broken inputs (the rest already failed cleanly)
    pytest.param(BASE + "[a]: b\n", [], ["c.yaml:5", "a key must be a plain name, got a list"], id="list-as-key"),
    pytest.param(BASE + "? {a: 1}\n: 2\n", [], ["c.yaml:5", "got a dict"], id="mapping-as-key"),
    pytest.param("seed: 2020-01-01\n", [], ["c.yaml:1: seed", "valid integer", "2020-01-01"], id="date-as-seed"),
    pytest.param("data: {name: xor, classes: 5}\n", [], ["data.classes is for blobs and spirals"], id="classes-for-xor"),
    # the keys for the small nets people write by hand
    pytest.param(BASE, ["model.outputs=1"], ["model.outputs: 1 needs binary_cross_entropy, mse or mae"], id="one-output-with-ce"),
    pytest.param(BASE, ["model.outputs=2"], ["model.outputs", "less than or equal to 1"], id="outputs-two"),
    pytest.param("data: {name: blobs}\nloss: mse\nmodel: {outputs: 1}\n", [], ["model.outputs: 1 is for binary tasks"],
                 id="one-output-three-classes"),
    pytest.param(BASE, ["train.stop_when={metric: train_mae}"], ["train.stop_when", "exactly one of below or above"],
                 id="stop-rule-without-threshold"),
    pytest.param(BASE, ["train.stop_when={metric: train_mae, below: 0.3, above: 0.9}"], ["exactly one of below or above"],
                 id="stop-rule-two-thresholds"),
    pytest.param(BASE, ["train.stop_when={metric: train_mea, below: 0.3}"], ["train.stop_when.metric", "did you mean 'train_mae'"],
                 id="stop-rule-unknown-metric"),
    pytest.param(BASE, ["data.validation=0", "train.stop_when={metric: val_loss, below: 0.3}"], ["needs a validation split"],
                 id="stop-rule-on-missing-split"),
    pytest.param(BASE, ["regularization.l2=-1"], ["regularization.l2", "greater than or equal to 0"], id="negative-l2"),
    pytest.param(BASE, ["regularization.l1=0.1"], ["unknown key 'l1'"], id="unknown-regularization"),
    pytest.param("model:\n  layers: [{dense: 4, bias: maybe}, relu, {dense: 2}]\n", [], ["model.layers.0.bias", "boolean"],
                 id="bias-not-a-boolean"),
    pytest.param("model:\n  layers: [{dense: 2}]\n  bias: false\n", [], ["either model.layers or the compact form (bias)"],
                 id="bias-in-both-forms"),
    pytest.param("data: {name: xor}\nmodel:\n  layers: [{dense: 2}, {dropout: 0.2, inverted: maybe}]\n", [],
                 ["model.layers.1.inverted", "valid boolean"], id="inverted-not-a-boolean"),
    pytest.param(BASE, ["data.test_subset=0"], ["data.test_subset", "greater than or equal to 1"], id="zero-test-subset"),
    pytest.param(BASE, ["data.test_subset=500"], ["data.test_subset=500 but the test split has only 20"], id="test-subset-too-big"),
    pytest.param(BASE, ["train.extra_metrics=[f1]"], ["train.extra_metrics", "'mae'"], id="unknown-extra-metric"),
    pytest.param(BASE, ["data.resize=[20,20]"], ["data.resize is for image sets"], id="resize-generated-set"),
    pytest.param("data: {name: mnist, resize: [40, 40]}\n", [], ["data.resize.0", "less than or equal to 28"], id="resize-up"),
    pytest.param("data: {name: mnist, resize: [20]}\n", [], ["data.resize"], id="resize-one-side"),
    pytest.param("data: {name: mnist, target: input}\n", [], ["an autoencoder", "use mse, mae"], id="autoencoder-with-ce"),
    pytest.param("data: {name: mnist, target: inputs}\nloss: mse\n", [], ["data.target", "'label' or 'input'"],
                 id="unknown-target"),
    # image layers, the compact CNN form and per-layer l2 (issue 9)
    pytest.param("data: {name: xor}\nmodel: {conv: [4]}\nloss: mse\n", [], ["conv2d and pooling layers need images", "not 'xor'"],
                 id="conv-on-flat-data"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 4}, relu, {dense: 10}]}\n", [],
                 ["model.layers[2]: dense after an image layer needs a flatten first (4x26x26 -> 2704", "add flatten"],
                 id="dense-without-flatten"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 4, kernel: 30}, flatten, {dense: 10}]}\n", [],
                 ["model.layers[0]: conv2d leaves no pixels (28x28 in, -1x-1 out)"], id="kernel-larger-than-image"),
    pytest.param("data: {name: mnist, resize: [4, 4]}\nmodel: {conv: [4, 4, 4]}\n", [],
                 ["maxpool2d leaves no pixels (1x1 in, 0x0 out)"], id="too-much-pooling"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 4, stride: 2, padding: same}, flatten, {dense: 10}]}\n", [],
                 ["padding 'same' needs stride 1"], id="same-padding-with-stride"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 0}, flatten, {dense: 10}]}\n", [],
                 ["model.layers.0.filters", "greater than or equal to 1"], id="zero-filters"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 4, padding: full}, flatten, {dense: 10}]}\n", [],
                 ["model.layers.0.padding", "'same'", "'valid'"], id="unknown-padding"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 4, kernel: [3, 3, 3]}, flatten, {dense: 10}]}\n", [],
                 ["model.layers.0.kernel"], id="kernel-three-sides"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 4}, {maxpool2d: 2, padding: 2}, flatten, {dense: 10}]}\n",
                 [], ["maxpool2d: padding 2 must be at most half the window"], id="pool-padding-too-big"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 4}, {maxpool: 2}, flatten, {dense: 10}]}\n", [],
                 ["a layer needs exactly one of", "got keys maxpool"], id="unknown-layer-kind"),
    pytest.param("data: {name: mnist}\nmodel: {kernel: 5}\n", [], ["model.kernel shapes the conv blocks", "give model.conv"],
                 id="kernel-without-conv"),
    pytest.param("data: {name: mnist}\nmodel: {conv: [4], pool_type: median}\n", [], ["model.pool_type", "'max'", "'avg'"],
                 id="unknown-pool-type"),
    pytest.param("data: {name: mnist}\nmodel: {conv: [4], layers: [{dense: 10}]}\n", [],
                 ["either model.layers or the compact form (conv)"], id="conv-in-both-forms"),
    pytest.param("data: {name: mnist}\nmodel: {conv: [-4]}\n", [], ["model.conv.0", "greater than or equal to 1"],
                 id="negative-conv-width"),
    pytest.param(BASE.replace("model: {hidden: [4]}", "model: {layers: [{dense: 4, l2: -1}, relu, {dense: 2}]}"), [],
                 ["model.layers.0.l2", "greater than or equal to 0"], id="negative-layer-l2"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 4}, {flatten: 3}, {dense: 10}]}\n", [],
                 ["flatten takes no value"], id="flatten-with-a-value"),
    pytest.param("data: {name: mnist}\nmodel: {layers: [{conv2d: 4}, {maxpool2d: 2, kernel: 3}, flatten, {dense: 10}]}\n",
                 [], ["{maxpool2d: 2} already gives kernel"], id="pool-kernel-twice"),
    # npz files (the files themselves are written by the test below)
    pytest.param("data: {name: npz}\nloss: mse\n", [], ["data.path: name the .npz file"], id="npz-without-path"),
    pytest.param("data: {name: npz, path: none.npz}\n", [], ["none.npz: no such data file"], id="npz-missing-file"),
    pytest.param("data: {name: npz, path: c.yaml}\n", [], ["c.yaml: not a readable .npz file"], id="npz-not-npz"),
    pytest.param("data: {name: npz, path: x.npz, features: [a]}\n", [], ["data.features is for name: csv"], id="npz-features"),
    pytest.param("data: {name: npz, path: x.npz, target: y}\n", [], ["data.target for npz is 'label'"], id="npz-target-column"),
]


@pytest.mark.parametrize("text, args, fragments", BAD)
def test_bad_config_exits_2_with_one_clear_line(cli, tmp_path, monkeypatch, text, args, fragments):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "nodata"))
    monkeypatch.setenv("NNLAB_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = write(tmp_path / "c.yaml", text)
    code, out, err = cli("run", config, *args)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert not (tmp_path / "results").exists()


def test_yaml_merge_keys_are_plain_yaml(cli, tmp_path):
    code, out, err = cli("run", write(tmp_path / "m.yaml", "name: t\ndata: {<<: {name: xor, n_samples: 40}, n_test: 20}\n"
                                      "model: {hidden: [4]}\ntrain: {epochs: 1}\n"), "-q")
    assert code == 0 and "xor (36 train, 4 val, 20 test)" in out, out + err


@pytest.mark.parametrize("args, fragment", [
    pytest.param(["seed=range(0,1000000000)"], "at most 10000 trials", id="huge-range"),
    pytest.param(["data.seed=range(0,3)", "seed=range(0,100000)"], "at most 10000 trials", id="huge-product"),
    pytest.param(["-w", "0"], "--workers must be at least 1", id="zero-workers"),
    pytest.param(["--executor", "bogus"], "unknown executor 'bogus'", id="unknown-executor"),
    pytest.param(["model.hidden=[100000000]"], "memory", id="does-not-fit"),
])
def test_a_dry_run_refuses_what_the_real_sweep_refuses(cli, tmp_path, args, fragment):
    code, out, err = cli("sweep", write(tmp_path / "c.yaml", BASE), *args, "--dry-run")
    assert code == 2 and fragment in err and err.count("\n") == 1, out + err
    assert not (tmp_path / "results").exists()


def test_missing_config_file(cli, tmp_path):
    code, _, err = cli("run", tmp_path / "nope.yaml")
    assert code == 2 and "no such config file" in err


def _one_line_exit_2(result, *fragments):
    code, out, err = result
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("command", ["run", "sweep", "doctor"])
def test_files_that_are_not_configs(cli, tmp_path, command):
    import os

    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    _one_line_exit_2(cli(command, folder), "is a directory")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    _one_line_exit_2(cli(command, fifo), "not a regular file")
    _one_line_exit_2(cli(command, "/dev/zero"), "not a regular file")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    _one_line_exit_2(cli(command, binary), "not UTF-8 text")
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 200_000)
    _one_line_exit_2(cli(command, big), "larger than")
    assert not (tmp_path / "results").exists()


def test_usage_error_exits_2(cli):
    code, _, _ = cli("run")
    assert code == 2


def test_per_layer_init_and_layer_index_overrides_reach_the_model(cli, tmp_path):
    """model.init as a list gives each weight layer its own init (zero first layer only);
    model.layers.<i>.<key> overrides one layer of an explicit list."""
    import numpy as np

    write(tmp_path / "c.yaml", BASE.replace("model: {hidden: [4]}", "model: {hidden: [4, 3], activation: sigmoid}"))
    code, out, err = cli("run", "c.yaml", "model.init=[zeros,glorot_uniform,glorot_uniform]", "train.epochs=0")
    assert code == 0, err
    trial = next((tmp_path / "results" / "t").glob("init=*"))
    weights = np.load(trial / "init.npz")
    assert not weights["layers.0.W"].any() and weights["layers.2.W"].std() > 0 and weights["layers.4.W"].std() > 0
    assert "init: [zeros, glorot_uniform, glorot_uniform]" in (trial / "config.yaml").read_text()

    write(tmp_path / "d.yaml", BASE.replace("model: {hidden: [4]}", "model:\n  layers: [{dense: 4}, relu, {dropout: 0.5}, {dense: 2}, softmax]"))
    code, out, err = cli("run", "d.yaml", "model.layers.2.inverted=false", "model.layers.0.units=6", "train.epochs=0")
    assert code == 0, err
    assert "dense(2->6) -> relu -> dropout(0.5, not inverted)" in out


def test_compact_cnn_takes_dropout_after_each_conv_block_and_a_batchnorm_momentum():
    """Keras-style: Conv -> BN -> ReLU -> Pool -> Dropout per block; BN's running statistics
    move by model.batchnorm_momentum per step (Keras' momentum 0.99 is 0.01 here)."""
    from nnlab.config import validate
    from nnlab.nn.build import layer_specs

    exp = validate({"data": {"name": "mnist"}, "model": {"conv": [4, 8], "hidden": [16], "batchnorm": "before",
                                                          "batchnorm_momentum": 0.01, "conv_dropout": 0.25, "dropout": 0.5}})
    kinds = [(s["type"], s.get("p", s.get("momentum"))) for s in layer_specs(exp.model, 10) if s["type"] != "activation"]
    assert kinds == [("conv2d", None), ("batchnorm", 0.01), ("maxpool2d", None), ("dropout", 0.25),
                     ("conv2d", None), ("batchnorm", 0.01), ("maxpool2d", None), ("dropout", 0.25), ("flatten", None),
                     ("dense", None), ("batchnorm", 0.01), ("dropout", 0.5), ("dense", None)]
    plain = validate({"data": {"name": "mnist"}, "model": {"conv": [4], "batchnorm": "before"}})
    assert plain.config_hash() == validate({"data": {"name": "mnist"}, "model": {"conv": [4], "batchnorm": "before",
                                                                                  "batchnorm_momentum": 0.1, "conv_dropout": 0}}).config_hash()
