"""`nnlab fix`: the repair table, the verification rule, and the command end to end (resume
included)."""

import csv
import math
import re

import pytest

from nnlab.config import validate
from nnlab.diagnose.fix import judge, symptoms
from nnlab.diagnose.repairs import REPAIRS, TABLE, Candidate, candidates
from nnlab.results.store import trial_dirs

from conftest import ROOT


def test_every_event_in_the_table_names_known_repairs_with_reasons():
    assert all(name in REPAIRS for names in TABLE.values() for name in names)
    assert all(repair.reason for repair in REPAIRS.values())
    from nnlab.diagnose.thresholds import HARM, HARM_GATED
    assert set(HARM) - {"plateau"} <= set(TABLE) and set(HARM_GATED) <= set(TABLE)


def test_candidates_follow_the_symptoms_and_skip_what_the_config_already_has():
    relu = validate({"data": {"name": "spirals"}, "model": {"hidden": [8], "init": "zeros"}, "optimizer": {"lr": 0.01}})
    found = candidates(relu, ["symmetric_init", "dead_units", "duplicate_units"], budget=3)
    assert [c.overrides for c in found] == [["model.init=he_normal"], ["optimizer.lr=0.001"], ["model.activation=leaky_relu"]]
    assert found[0].targets == ["symmetric_init", "dead_units", "duplicate_units"]   # one fix, three symptoms
    tanh = validate({"data": {"name": "spirals"}, "model": {"hidden": [8], "activation": "tanh", "init": "normal(std=1.0)"}})
    assert candidates(tanh, ["saturated_units"], 1)[0].overrides == ["model.init=glorot_uniform"]
    softmax = validate({"data": {"name": "spirals"}, "model": {"hidden": [8]}})
    assert candidates(softmax, ["output_activation_with_cross_entropy"], 6) == []          # already softmax
    relu_out = validate({"data": {"name": "spirals"}, "model": {"hidden": [8], "output": "relu"}})
    assert candidates(relu_out, ["classes_never_predicted"], 1)[0].overrides == ["model.output=softmax"]
    summed = validate({"data": {"name": "spirals"}, "loss": {"name": "cross_entropy", "reduction": "sum"},
                       "optimizer": {"name": "sgd", "lr": 0.1}})
    assert candidates(summed, ["large_updates"], 1)[0].overrides == ["loss.reduction=mean"]
    slow, dead = ({"data": {"name": "spirals"}, "model": {"hidden": [8]}, "optimizer": {"name": "sgd", "lr": lr}}
                  for lr in (0.01, 5.0))
    assert ["optimizer.lr=0.1"] in [c.overrides for c in candidates(validate(slow), ["plateau"], 6)]
    # a plateau at a rate already above SGD's usual range (0.5) is not helped by ten times more
    assert not any(c.name == "learning rate x 10" for c in candidates(validate(dead), ["plateau"], 6))


def _summary(acc, *events, status="complete"):
    return {"status": status, "metric": "acc", "final": {"val_acc": acc, "test_acc": acc},
            "events": [{"type": t, "severity": "error"} for t in events]}


FIX = Candidate("init matched to the activation", ["model.init=he_normal"], "why", ["dead_units"])


def test_a_fix_is_verified_when_symptoms_go_and_it_gains_beyond_noise():
    baseline = [_summary(0.33, "dead_units"), _summary(0.34, "dead_units"), _summary(0.33, "dead_units")]
    outcome = judge(FIX, baseline, [_summary(0.95), _summary(0.96), _summary(0.97)])
    assert outcome.verified and outcome.interval[0] > 0 and outcome.mean_gain == pytest.approx(0.6267, abs=1e-3)


def test_removing_the_symptom_but_costing_accuracy_is_not_verified():
    baseline = [_summary(0.95, "dead_units"), _summary(0.96, "dead_units"), _summary(0.95, "dead_units")]
    outcome = judge(FIX, baseline, [_summary(0.97), _summary(0.98), _summary(0.93)])   # seed 3: -2 points
    assert not outcome.verified and "worse than the baseline by more than 1 point on 1 seed" in outcome.why


def test_a_symptom_left_on_one_seed_or_a_gain_within_noise_is_not_verified():
    baseline = [_summary(0.5, "dead_units")] * 3
    left = judge(FIX, baseline, [_summary(0.9), _summary(0.9, "dead_units"), _summary(0.9)])
    assert not left.verified and left.why == "dead_units still fired (1 of 3 seeds)"
    noise = judge(FIX, baseline, [_summary(0.52), _summary(0.495), _summary(0.51)])
    assert not noise.verified and "includes zero" in noise.why
    diverged = judge(FIX, baseline, [_summary(0.9), _summary(math.nan, status="diverged"), _summary(0.9)])
    assert not diverged.verified and "worse" in diverged.why


def test_symptoms_come_errors_first_then_by_how_many_seeds():
    runs = [{"events": [{"type": "spiky_run", "severity": "warn"}, {"type": "dead_units", "severity": "error"}]},
            {"events": [{"type": "spiky_run", "severity": "warn"}, {"type": "loss_spikes", "severity": "info"}]}]
    assert symptoms(runs) == ["dead_units", "spiky_run"]


ZERO_INIT = ["model.init=zeros", "data.n_samples=300", "train.epochs=15"]


def test_fix_finds_he_init_for_zero_init_and_resumes(cli, tmp_path):
    config = ROOT / "configs" / "spirals.yaml"
    code, out, err = cli("fix", config, *ZERO_INIT, "--seeds", "2", "--budget", "2", "-q", "--workers", "1")
    assert code == 0, out + err
    assert "best verified fix: init matched to the activation" in out and "+  init: he_normal" in out
    (study,) = (tmp_path / "results").glob("spirals-fix-*")
    rows = list(csv.DictReader((study / "fix.csv").open()))
    assert rows[0]["fix"] == "init matched to the activation" and rows[0]["verified"] == "True"
    assert float(rows[0]["ci_low"]) > 0 and (study / "report" / "index.html").exists()
    assert "init: he_normal" in (study / "fixed.yaml").read_text()
    assert len(trial_dirs(study)) == 6          # baseline + 2 candidates, x 2 seeds
    # an interrupted fix resumes: a lost trial is the only one trained again
    lost = next(p for p in trial_dirs(study) if p.name.startswith("fix=init_matched"))
    import shutil
    shutil.rmtree(lost)
    code, out, err = cli("fix", config, *ZERO_INIT, "--seeds", "2", "--budget", "2", "-q", "--workers", "1")
    assert code == 0 and "(2 done, 0 to run)" in out and "(5 done, 1 to run)" in out, out


def test_a_healthy_config_has_nothing_to_fix(cli, tmp_path):
    code, out, err = cli("fix", ROOT / "configs" / "xor.yaml", "--seeds", "2", "-q", "--workers", "1")
    assert code == 0 and "nothing to fix: no warning or error on any of the 2 seed(s)" in out, out + err
    (study,) = (tmp_path / "results").glob("xor-fix-*")
    assert len(trial_dirs(study)) == 2


@pytest.mark.slow
@pytest.mark.parametrize("config, overrides, fix, best", [
    pytest.param("spirals.yaml", ["model.init=zeros"], "init matched to the activation", True, id="zero-init"),
    # lr 5: every seed of the baseline fails (at lr 2 some seeds train well, and whether lr / 10
    # was verified on 3 seeds came down to the kernels' rounding: not on AVX-512's own kernels).
    # Here lr / 10 gains 65.0 [57.8, 72.2] points on Haswell and on SkylakeX kernels; Adam is first.
    pytest.param("spirals.yaml", ["optimizer.name=sgd", "optimizer.lr=5.0"], "learning rate / 10", False,
                 id="lr-far-too-high", marks=pytest.mark.exhaustive),
    pytest.param("mnist.yaml", ["model.output=relu"], "softmax on linear logits", True, id="relu-before-softmax"),
    pytest.param("mnist.yaml", ["model.output=sigmoid"], "softmax on linear logits", True, id="sigmoid-categorical-ce",
                 marks=pytest.mark.exhaustive),
    pytest.param("mnist.yaml", ["model.activation=tanh", "model.init=normal(std=1.0)", "model.hidden=[256,256,256]"],
                 "init matched to the activation", True, id="normal-init-deep-tanh", marks=pytest.mark.exhaustive),
])
def test_fix_verifies_a_repair_for_each_known_pathology(cli, config, overrides, fix, best):
    """Issue 13: each within a budget of 6 candidates x 3 seeds (MNIST: a 5000-image subset, 5 epochs):
    the named repair is verified in the table, and is the best verified one where `best`."""
    if config == "mnist.yaml":
        from conftest import mnist_available
        if not mnist_available():
            pytest.skip("needs MNIST (NNLAB_DATA)")
        overrides = overrides + ["data.subset=5000", "train.epochs=5", "model.dropout=0", "schedule=null"]
    code, out, err = cli("fix", ROOT / "configs" / config, *overrides, "--seeds", "3", "--budget", "6", "-q")
    assert code == 0, out + err
    (row,) = [line for line in out.splitlines() if re.match(rf"\d+\s+{re.escape(fix)}\s\s", line)]
    assert re.search(r"\]\s+yes\s", row), out
    assert "best verified fix: " in out and (not best or f"best verified fix: {fix} (" in out), out


def _regression(loss, status="complete"):
    return {"status": status, "metric": "mae", "final": {"val_loss": loss} if status == "complete" else {},
            "events": [{"type": "divergence", "severity": "error"}] if status == "diverged" else []}


def test_a_healthy_fix_of_a_diverging_regression_baseline_can_be_verified():
    """Review: a baseline loss of inf made every gain inf, so no interval and no verdict."""
    fix = Candidate("learning rate / 10", ["optimizer.lr=0.01"], "why", ["divergence"])
    baseline = [_regression(None, "diverged"), _regression(None, "diverged"), _regression(None, "diverged")]
    outcome = judge(fix, baseline, [_regression(0.5), _regression(0.6), _regression(0.55)])
    assert outcome.metric == "val_loss" and outcome.verified, outcome.why
    assert outcome.gains == pytest.approx([0.7, 0.6, 0.65])     # broken = 2 x the worst finite loss (0.6)


def test_the_metric_comes_from_a_completed_trial_and_one_point_exactly_is_not_worse():
    failed = {"status": "failed", "events": []}
    outcome = judge(FIX, [failed, _summary(0.91, "dead_units"), _summary(0.91, "dead_units")],
                    [_summary(0.95), _summary(0.90), _summary(0.95)])
    assert outcome.metric == "val_acc" and outcome.gains[0] == pytest.approx(0.95)
    assert "worse" not in outcome.why                       # 0.90 vs 0.91 is exactly 1 point
    crashed = judge(FIX, [_summary(0.5, "dead_units")] * 2, [_summary(0.9), {"status": "failed", "events": []}])
    assert not crashed.verified and "failed" in crashed.why


def test_one_seed_is_refused_before_anything_trains(cli, tmp_path):
    code, out, err = cli("fix", ROOT / "configs" / "xor.yaml", "--seeds", "1")
    assert code == 2 and not (tmp_path / "results").exists()
