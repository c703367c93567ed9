"""The ready-made studies of configs/studies/ and docs/studies.md: every study runs in a
shortened form and shows the phenomenon its answer rests on; the catalogue and the files
agree; the doc generator writes sections from results."""

import re

import pytest
import yaml

from nnlab.studies.catalogue import BY_NAME, STUDIES
from nnlab.studies.document import load, main, plan_of, section

from conftest import ROOT, mnist_available

FILES = sorted((ROOT / "configs" / "studies").glob("*.yaml"))


def test_every_study_file_has_a_section_and_every_section_a_file():
    assert sorted(f.stem for f in FILES) == sorted(BY_NAME)
    assert [s.number for s in STUDIES] == list(range(1, 17))
    for path in FILES:
        data = yaml.safe_load(path.read_text())
        assert data["name"] == path.stem, f"{path.name}: name must be the file's stem (results/<name>)"
        assert f"nnlab sweep configs/studies/{path.name}" in path.read_text(), f"{path.name}: say how to run it"
        seeds = data["sweep"]["seeds"]
        assert (seeds if isinstance(seeds, int) else len(seeds)) >= 3, f"{path.name}: at least 3 seeds"


@pytest.mark.parametrize("study", STUDIES, ids=[s.name for s in STUDIES])
def test_study_plans_in_full_and_shortened(cli, study):
    config = ROOT / "configs" / "studies" / f"{study.name}.yaml"
    for overrides in ([], study.short):
        code, out, err = cli("sweep", config, *overrides, "--dry-run")
        assert code == 0 and "dry run: nothing was run" in out, out + err


def test_the_doc_generator_says_when_a_study_has_no_results(tmp_path, capsys):
    out = tmp_path / "docs" / "studies.md"
    assert main(["--no-run", "--results-dir", str(tmp_path / "none"), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.count("*No answer yet: run the study first.*") == 16
    assert all(f"nnlab sweep configs/studies/{s.name}.yaml" in text for s in STUDIES)
    with pytest.raises(SystemExit) as exc:
        main(["no_such_study", "--no-run"])
    assert exc.value.code == 2 and "unknown study no_such_study" in capsys.readouterr().err


def test_rewriting_one_section_keeps_the_others_byte_for_byte(tmp_path):
    # python -m nnlab.studies NAME --no-run added a blank line before every kept section each time
    out, none = tmp_path / "studies.md", str(tmp_path / "none")
    assert main(["--no-run", "--results-dir", none, "--out", str(out)]) == 0
    marked = out.read_text().replace("*No answer yet", "*Kept: no answer yet", 1)   # section 1, as if from results
    out.write_text(marked)
    for _ in range(2):
        assert main(["xor_convergence", "--no-run", "--results-dir", none, "--out", str(out)]) == 0
        assert out.read_text() == marked


def _needs_data(study):
    data = yaml.safe_load((ROOT / "configs" / "studies" / f"{study.name}.yaml").read_text())["data"]
    if data.get("name", "mnist") == "mnist" and not mnist_available():
        pytest.skip("MNIST IDX files not found: set NNLAB_DATA to a folder holding mnist/ (CI uses ../shared/data)")


QUICK = ("zero_init", "relu_output", "xor_convergence")   # make test runs these; CI every study


@pytest.mark.slow
@pytest.mark.parametrize("study", [pytest.param(s, id=s.name, marks=() if s.name in QUICK else pytest.mark.exhaustive)
                                   for s in STUDIES])
def test_shortened_study_shows_its_phenomenon(cli, tmp_path, study):
    """The claims under each answer in docs/studies.md, asserted on a shorter run of the
    same study (fewer seeds, epochs or examples; never another phenomenon)."""
    _needs_data(study)
    results = tmp_path / "results"
    config = ROOT / "configs" / "studies" / f"{study.name}.yaml"
    code, out, err = cli("sweep", config, *study.short, "--results-dir", results)
    assert code == 0, out + err
    sd = load(study, results, study.short)
    assert not sd.missing and len(sd.summaries) == len(sd.trials)
    failed = [claim for claim, holds in study.checks(sd) if not holds]
    assert not failed, f"{study.name}: {failed}\n{sd.trials.to_string()}"
    if any(isinstance(v, dict) or v is None for t in plan_of(study, study.short).trials for v in t.values.values()):
        # swept mappings or nulls (a null once crashed it): the study's own report renders them too
        code, out, err = cli("report", results / study.name)
        assert code == 0 and (results / study.name / "report" / "comparisons.csv").is_file(), out + err
    text = section(study, sd, tmp_path, "figures")
    assert "**Answer.**" in text and (tmp_path / f"{study.name}.png").stat().st_size > 5_000
    answer = text.split("**Answer.**")[1].split("Checks")[0].strip()
    assert len(re.split(r"(?<=[.!?]) (?=[A-Z`]|nnlab )", answer)) == 3, f"an answer is three sentences:\n{answer}"
    assert not re.search(r"\bnan\b|–%", answer, re.I), answer   # every number it quotes exists
