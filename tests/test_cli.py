"""Every command has help with an example; the version flag works."""

import pytest

from nnlab import __version__

COMMANDS = [["run"], ["sweep"], ["report"], ["reproduce"], ["doctor"], ["schema"], ["data", "list"], ["data", "verify"], ["data", "fetch"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli, command):
    code, out, _ = cli(*command, "--help")
    assert code == 0
    assert "Example:" in out and "nnlab " in out


def test_top_level_help_lists_commands(cli):
    code, out, _ = cli("--help")
    assert code == 0
    for name in ("run", "sweep", "report", "doctor", "schema", "data"):
        assert name in out


def test_version(cli):
    assert cli("--version")[1].strip() == f"nnlab {__version__}"


def test_schema_is_json_with_defaults(cli):
    import json

    code, out, _ = cli("schema")
    schema = json.loads(out)
    assert code == 0 and "optimizer" in schema["properties"]


def test_data_list_names_every_dataset(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, _ = cli("data", "list")
    assert code == 0
    for name in ("mnist", "fashion_mnist", "xor", "spirals", "moons", "blobs", "regression"):
        assert name in out
    assert "missing (searched" in out


def test_fetch_of_a_generated_set_is_a_usage_error(cli):
    code, _, err = cli("data", "fetch", "xor")
    assert code == 2 and "generated, not downloaded" in err
