"""Every shipped example works: each file in configs/ passes the doctor, plans, trains an
epoch, and validates against `nnlab schema` with a JSON Schema validator; so do the YAML
snippets in the README."""

import json
import re

import jsonschema
import pytest
import yaml

from nnlab.config import validate

from conftest import ROOT, mnist_available

CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
STUDIES = sorted((ROOT / "configs" / "studies").glob("*.yaml"))   # run shortened in test_studies.py


def needs_data(path):
    data = (yaml.safe_load(path.read_text()) or {}).get("data") or {}
    if data.get("name", "mnist") in ("mnist", "fashion_mnist") and not mnist_available():
        pytest.skip("MNIST IDX files not found: set NNLAB_DATA to a folder holding mnist/")


@pytest.mark.parametrize("config", CONFIGS, ids=[c.name for c in CONFIGS])
def test_shipped_config_passes_doctor_plans_and_trains_an_epoch(cli, config):
    code, out, err = cli("sweep", config, "--dry-run")
    assert code == 0 and "dry run: nothing was run" in out, out + err
    needs_data(config)
    code, out, err = cli("doctor", config)
    assert code == 0 and "no problems found" in out, out + err
    code, out, err = cli("run", config, "train.epochs=1", *SHORTER.get(config.name, ()), "-q")
    assert code == 0 and "complete: 1 epochs" in out, out + err


# One CNN epoch on all 54,000 images takes about 40 s here; 3,000 show the same thing works.
SHORTER = {"cnn_mnist.yaml": ("data.subset=3000", "data.test_subset=1000")}


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    from typer.testing import CliRunner

    from nnlab.cli.app import app

    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    return json.loads(result.stdout)


def readme_yaml_blocks():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"^```yaml\n(.*?)^```", text, re.M | re.S)


EXAMPLES = [pytest.param(c.read_text(), id=c.name) for c in CONFIGS + STUDIES]
EXAMPLES += [pytest.param(block, id=f"README-yaml-{i}") for i, block in enumerate(readme_yaml_blocks())]


@pytest.mark.parametrize("text", EXAMPLES)
def test_every_example_config_validates_against_the_published_schema(schema, text, monkeypatch):
    monkeypatch.chdir(ROOT / "configs")   # files named in examples (data/distances.csv) lie beside the configs
    data = yaml.safe_load(text)
    jsonschema.validate(data, schema)     # the JSON Schema nnlab publishes accepts it ...
    validate(data)                        # ... and so does nnlab


@pytest.mark.parametrize("data", [
    pytest.param({"model": {"activaton": "relu"}}, id="unknown-key"),
    pytest.param({"train": {"epochs": "ten"}}, id="wrong-type"),
    pytest.param({"model": {"batchnorm": "middle"}}, id="not-an-allowed-value"),
    pytest.param({"optimizer": {"name": "sgd", "momentum": 1.5}}, id="out-of-range"),
])
def test_the_schema_rejects_what_nnlab_rejects(schema, data):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_the_schema_describes_every_field(schema):
    undescribed = [f"{name}.{field}" for name, definition in [*schema["$defs"].items(), ("config", schema)]
                   for field, spec in definition.get("properties", {}).items() if "description" not in spec]
    assert undescribed == []
    assert "he_normal" in schema["$defs"]["ModelConfig"]["properties"]["activation"]["description"]
