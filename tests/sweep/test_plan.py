"""The planner: table-driven, pure (no I/O), errors name the axis and key path."""

import pytest

from nnlab.errors import ConfigError
from nnlab.sweep.plan import parse_axis_values, plan

BASE = {"name": "s", "data": {"name": "xor"}, "train": {"epochs": 1}}


def with_sweep(**sweep):
    return {**BASE, "sweep": sweep}


@pytest.mark.parametrize("data, overrides, expected_values", [
    pytest.param(BASE, [], [{}], id="no-axes-one-trial"),
    pytest.param(with_sweep(grid={"model.activation": ["relu", "tanh"], "optimizer.lr": [0.1, 0.01]}), [],
                 [{"model.activation": "relu", "optimizer.lr": 0.1}, {"model.activation": "relu", "optimizer.lr": 0.01},
                  {"model.activation": "tanh", "optimizer.lr": 0.1}, {"model.activation": "tanh", "optimizer.lr": 0.01}],
                 id="grid-is-cartesian-last-axis-fastest"),
    pytest.param(with_sweep(zip={"optimizer.lr": [0.1, 0.01], "train.epochs": [2, 3]}), [],
                 [{"optimizer.lr": 0.1, "train.epochs": 2}, {"optimizer.lr": 0.01, "train.epochs": 3}], id="zip-pairs"),
    pytest.param(with_sweep(grid={"model.activation": ["relu", "tanh"]}, seeds=2), [],
                 [{"model.activation": "relu", "seed": 0}, {"model.activation": "relu", "seed": 1},
                  {"model.activation": "tanh", "seed": 0}, {"model.activation": "tanh", "seed": 1}], id="seeds-count"),
    pytest.param(with_sweep(seeds=[3, 7]), [], [{"seed": 3}, {"seed": 7}], id="seeds-list"),
    pytest.param(BASE, ["model.activation=relu,sigmoid", "seed=0,1"],
                 [{"model.activation": "relu", "seed": 0}, {"model.activation": "relu", "seed": 1},
                  {"model.activation": "sigmoid", "seed": 0}, {"model.activation": "sigmoid", "seed": 1}], id="cli-axes"),
    pytest.param(BASE, ["seed=range(2,5)"], [{"seed": 2}, {"seed": 3}, {"seed": 4}], id="cli-range"),
    pytest.param(BASE, ["model.hidden=[8,4],[16]"], [{"model.hidden": [8, 4]}, {"model.hidden": [16]}], id="cli-list-values"),
    pytest.param(with_sweep(grid={"optimizer.lr": [0.1, 0.2]}), ["optimizer.lr=0.3,0.4"],
                 [{"optimizer.lr": 0.3}, {"optimizer.lr": 0.4}], id="cli-axis-replaces-yaml-axis"),
    pytest.param(BASE, ["optimizer.lr=0.001,0.001"], [{"optimizer.lr": 0.001}], id="duplicate-points-run-once"),
])
def test_plan_expands_axes(data, overrides, expected_values):
    result = plan(data, overrides)
    assert [t.values for t in result.trials] == expected_values
    assert len({t.id for t in result.trials}) == len(result.trials)
    for trial in result.trials:
        for key, value in trial.values.items():
            node = trial.experiment.resolved()
            for part in key.split("."):
                node = node[part]
            assert node == value


def test_fixed_override_applies_to_every_trial_and_changes_ids():
    a = plan(with_sweep(seeds=2), [])
    b = plan(with_sweep(seeds=2), ["optimizer.lr=0.5"])
    assert all(t.experiment.optimizer.lr == 0.5 for t in b.trials)
    assert {t.id for t in a.trials}.isdisjoint(t.id for t in b.trials)


def test_ids_are_stable_and_readable():
    first = plan(BASE, ["model.activation=relu,tanh"])
    again = plan(BASE, ["model.activation=relu,tanh"])
    assert [t.id for t in first.trials] == [t.id for t in again.trials]
    assert first.trials[0].id.startswith("activation=relu-") and len(first.trials[0].id.rsplit("-", 1)[1]) == 8


def test_extending_a_grid_keeps_existing_ids():
    small = plan(BASE, ["model.activation=relu,tanh", "seed=0,1"])
    large = plan(BASE, ["model.activation=relu,tanh,sigmoid", "seed=0,1,2"])
    assert {t.id for t in small.trials} <= {t.id for t in large.trials}


def test_random_search_is_seeded():
    sweep = {"random": {"n": 5, "seed": 1, "params": {
        "optimizer.lr": {"log_uniform": [1e-4, 1e-1]}, "model.dropout": {"uniform": [0, 0.5]},
        "model.hidden": [[8], [16, 16]], "train.epochs": {"int": [1, 3]}}}}
    a, b = plan(with_sweep(**sweep), []), plan(with_sweep(**sweep), [])
    assert [t.values for t in a.trials] == [t.values for t in b.trials] and len(a.trials) == 5
    for t in a.trials:
        assert 1e-4 <= t.values["optimizer.lr"] <= 1e-1 and 0 <= t.values["model.dropout"] <= 0.5
        assert t.values["train.epochs"] in (1, 2, 3)
    sweep["random"]["seed"] = 2
    c = plan(with_sweep(**sweep), [])
    assert [t.values for t in c.trials] != [t.values for t in a.trials]


@pytest.mark.parametrize("data, overrides, fragments", [
    pytest.param(BASE, ["model.activaton=relu,tanh"], ["sweep axis model.activaton", "did you mean 'activation'"], id="unknown-axis-key"),
    pytest.param(BASE, ["model.activation=relu,relux"], ["model.activation", "unknown activation 'relux'"], id="bad-axis-value"),
    pytest.param(with_sweep(grid={"optimizer.lr": [0.1, -1.0]}), [], ["optimizer.lr", "greater than 0"], id="bad-grid-value"),
    pytest.param(with_sweep(zip={"optimizer.lr": [0.1, 0.2], "seed": [1]}), [], ["zip axes need equal lengths"], id="zip-unequal"),
    pytest.param(with_sweep(grid={"model.activation": []}), [], ["has no values"], id="empty-axis"),
    pytest.param(with_sweep(gird={"a": [1]}), [], ["unknown key 'gird'", "did you mean 'grid'"], id="misspelt-sweep-key"),
    pytest.param(with_sweep(random={"n": 2, "params": {"optimizer.lr": {"loguniform": [1, 2]}}}), [],
                 ["unknown distribution 'loguniform'", "did you mean 'log_uniform'"], id="bad-distribution"),
    pytest.param(BASE, ["seed=range(a)"], ["range(stop)"], id="bad-range"),
    pytest.param(BASE, ["seed=-1,2"], ["seeds", "greater than or equal to 0"], id="negative-seed"),
])
def test_bad_axes_raise_config_errors(data, overrides, fragments):
    with pytest.raises(ConfigError) as info:
        plan(data, overrides, source="s.yaml")
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_parse_axis_values_keeps_brackets_and_calls_whole():
    assert parse_axis_values("leaky_relu(0.1),relu") == ["leaky_relu(0.1)", "relu"]
    assert parse_axis_values("range(3)") == [0, 1, 2]


def test_bad_axis_on_the_command_line_exits_2(cli, tmp_path):
    (tmp_path / "s.yaml").write_text("data: {name: xor}\n")
    code, _, err = cli("sweep", tmp_path / "s.yaml", "model.activaton=relu,tanh", "--dry-run")
    assert code == 2 and "did you mean 'activation'" in err and err.count("\n") == 1


@pytest.mark.parametrize("data, overrides, fragments", [
    pytest.param(BASE, ["description=a,b,c"], ["sweep axis description", "does not change what is trained"],
                 id="axis-that-changes-nothing"),
    pytest.param(BASE, ["seed=1", "seed=2"], ["override seed given twice"], id="same-key-twice"),
])
def test_plans_that_cannot_be_what_was_meant_are_refused(data, overrides, fragments):
    with pytest.raises(ConfigError) as error:
        plan(data, overrides)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_single_value_override_of_a_swept_key_fixes_it():
    """`nnlab sweep configs/bn_placement.yaml model.batchnorm=none` runs only BN none."""
    data = with_sweep(grid={"model.batchnorm": ["none", "before", "after"], "optimizer.lr": [0.1, 0.01]}, seeds=2)
    the_plan = plan(data, ["model.batchnorm=none"])
    assert the_plan.axes == ["optimizer.lr", "seed"]
    assert {t.experiment.model.batchnorm for t in the_plan.trials} == {"none"} and len(the_plan.trials) == 4
    assert len(plan(data, ["seed=3"]).trials) == 6  # a single seed replaces the file's seeds
    assert {t.experiment.seed for t in plan(data, ["seed=3"]).trials} == {3}


@pytest.mark.parametrize("values, expected", [
    pytest.param({}, "run", id="no-values"),
    pytest.param({"model.activation": "leaky_relu(0.1)", "seed": 0}, "activation=leaky_relu_0.1,seed=0", id="call-spec"),
    pytest.param({"train.early_stopping": None}, "early_stopping=null", id="null"),
    pytest.param({"model.hidden": [256, 128]}, "hidden=256x128", id="list"),
    pytest.param({"model.hidden": []}, "hidden=none", id="empty-list"),
    pytest.param({"optimizer": {"name": "adagrad", "lr": 0.1}}, "optimizer=adagrad_lr=0.1", id="mapping"),
    pytest.param({"train.shuffle": False}, "shuffle=false", id="bool"),
    pytest.param({"description": "a b/c"}, "description=a_b_c", id="unsafe-characters"),
    pytest.param({"a": "x" * 50, "b": "y" * 50, "c": 1}, "a=" + "x" * 50 + ",+2", id="cut-between-values"),
])
def test_trial_folder_names_are_readable_and_safe(values, expected):
    from nnlab.results.naming import slug

    assert slug(values) == expected
