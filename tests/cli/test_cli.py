"""Every command has help with an example and is in the README with every option; the
version flag works."""

import pytest
import typer.main

from nnlab import __version__
from nnlab.cli import app

from conftest import ROOT


def commands():
    """Every command of `nnlab --help`, groups opened: (words, click command)."""
    found = []

    def walk(group, words):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, words + [name])
            else:
                found.append((words + [name], command))
    walk(typer.main.get_command(app), [])
    return found


COMMANDS = [words for words, _ in commands()]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli, command):
    code, out, _ = cli(*command, "--help")
    assert code == 0
    assert "Example:" in out and "nnlab " in out


def test_every_command_and_option_is_in_the_readme():
    """A user reads the README, not the code: every command `nnlab --help` lists, and every
    option of each, is named there."""
    readme = (ROOT / "README.md").read_text()
    assert len(COMMANDS) >= 13
    missing = []
    for words, command in commands():
        name = "nnlab " + " ".join(words)
        if f"`{name}" not in readme:
            missing.append(name)
        for param in command.params:
            for option in getattr(param, "opts", []):
                if option.startswith("-") and option != "--help" and not any(f"{c}{option}" in readme for c in "` ["):
                    missing.append(f"{name} {option}")
    assert missing == []


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
