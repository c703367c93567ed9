"""``nnlab fix``: propose repairs for what the diagnosis found, run them, keep only the proven.

1. The baseline config runs on N seeds (the config's seed and the next N - 1).
2. Every warning or error any seed raised is a symptom; ``repairs.py`` turns the symptoms,
   most serious first, into at most ``budget`` candidate fixes (config overrides).
3. Baseline and candidates run as one study (``results/<name>-fix-<baseline hash>``, axes ``fix`` and
   ``seed``) through the normal sweep machinery: finished trials are kept, so an
   interrupted fix resumes, and ``--workers``/``--executor dask`` apply.
4. A candidate is **verified** when, on every seed,
   * none of the symptoms it was proposed for is a warning or error any more, and
   * the monitored metric (validation accuracy, else test accuracy; for regression the
     validation, else test, loss) is never worse than the baseline's by more than 1 point
     (1% of the baseline's loss for regression),
   and the mean gain paired by seed has a Student-t 95% interval that excludes zero.
   Removing the symptom alone is not enough: a fix that costs accuracy is not a fix.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Experiment, apply_overrides, dump_yaml, validate
from ..errors import ConfigError, NnlabError
from ..report.statistics import mean_interval
from ..results.naming import trial_name
from ..results.status import COMPLETE_STATUSES
from ..results.store import trial_status
from ..sweep.plan import Plan, Trial, plan_run
from .repairs import Candidate

BASELINE = "baseline"
WORSE_POINTS = 0.01      # accuracy: never more than 1 point below the baseline in any seed
WORSE_SHARE = 0.01       # loss: never more than 1% above the baseline's in any seed


@dataclass
class Outcome:
    """How one candidate did against the baseline, seed by seed."""

    candidate: Candidate
    metric: str
    gains: list[float] = field(default_factory=list)       # candidate - baseline (accuracy) or baseline - candidate (loss)
    symptoms_left: list[list[str]] = field(default_factory=list)   # per seed: targeted symptoms still present
    worst: float = 0.0
    interval: tuple[float, float] | None = None
    verified: bool = False
    why: str = ""

    @property
    def mean_gain(self) -> float:
        return sum(self.gains) / len(self.gains) if self.gains else math.nan


def symptoms(summaries: list[dict]) -> list[str]:
    """Warning and error types over the baseline's seeds, errors first, then by how many seeds."""
    counts: dict[str, list[int]] = {}
    for summary in summaries:
        for event in summary.get("events") or []:
            if event["severity"] in ("warn", "error"):
                rank = counts.setdefault(event["type"], [1, 0])
                rank[0] = min(rank[0], 0 if event["severity"] == "error" else 1)
                rank[1] += 1
    return sorted(counts, key=lambda t: (counts[t][0], -counts[t][1]))


def monitored(summaries: list[dict]) -> tuple[str, bool]:
    """(metric, higher is better), read from the first completed trial among ``summaries``."""
    summary = next((s for s in summaries if s.get("status") == "complete" and s.get("final")), None)
    if summary is None:           # nothing completed: every trial scores the worst anyway
        return "val_acc", True
    final = summary["final"]
    if summary.get("metric") == "acc":
        return ("val_acc", True) if "val_acc" in final else ("test_acc", True)
    return ("val_loss", False) if "val_loss" in final else ("test_loss", False)


def value(summary: dict, metric: str, higher: bool) -> float | None:
    """The final value, or None for a diverged or failed trial (see :func:`judge`)."""
    v = (summary.get("final") or {}).get(metric) if summary.get("status") == "complete" else None
    return None if v is None or not math.isfinite(v) else float(v)


def judge(candidate: Candidate, baseline: list[dict], trials: list[dict]) -> Outcome:
    """The verification rule over paired seeds (lists in the same seed order)."""
    metric, higher = monitored(baseline + trials)
    outcome = Outcome(candidate, metric)
    values = [value(x, metric, higher) for x in baseline + trials]
    finite = [v for v in values if v is not None]
    # A diverged or failed trial scores the worst possible: accuracy 0, or (loss) twice the
    # worst finite loss of this comparison, so a healthy fix of a diverging baseline can win.
    broken = 0.0 if higher else 2 * max(finite, default=1.0)
    scored = [broken if v is None else v for v in values]
    base_values, cand_values = scored[:len(baseline)], scored[len(baseline):]
    for b, c, cand in zip(base_values, cand_values, trials, strict=True):
        outcome.gains.append((c - b) if higher else (b - c))
        fired = {e["type"] for e in cand.get("events") or [] if e["severity"] in ("warn", "error")}
        failed = cand.get("status") not in ("complete", "diverged")
        outcome.symptoms_left.append(sorted(fired & set(candidate.targets)) + (["failed"] if failed else []))
    limit = [WORSE_POINTS if higher else WORSE_SHARE * b for b in base_values]
    outcome.worst = min(outcome.gains)
    n = len(outcome.gains)
    mean, half = mean_interval(outcome.gains)   # the gains are paired by seed already
    if half is not None:
        outcome.interval = (mean - half, mean + half)
    left = [s for seed in outcome.symptoms_left for s in seed]
    worse = [i for i, (g, lim) in enumerate(zip(outcome.gains, limit, strict=True)) if g < -lim - 1e-9]
    if left:
        outcome.why = f"{', '.join(sorted(set(left)))} still fired ({sum(1 for s in outcome.symptoms_left if s)} of {n} seeds)"
    elif worse:
        outcome.why = f"worse than the baseline by more than {'1 point' if higher else '1%'} on {len(worse)} seed(s)"
    elif n < 2:
        outcome.why = "one seed gives no interval: use --seeds 2 or more"
    elif outcome.interval is None or outcome.interval[0] <= 0:
        outcome.why = "no gain beyond seed noise (the 95% interval includes zero)"
    else:
        outcome.verified = True
        outcome.why = "symptoms gone on every seed, better beyond seed noise"
    return outcome


def seeds_of(exp: Experiment, n: int) -> list[int]:
    return [exp.seed + i for i in range(n)]


def fix_plan(name: str, base_data: dict, source: str, cands: list[Candidate], seeds: list[int]) -> Plan:
    """One study: axis ``fix`` (baseline, then each candidate) by ``seed``."""
    trials = []
    for label, overrides in [(BASELINE, [])] + [(c.name, c.overrides) for c in cands]:
        for seed in seeds:
            one = plan_run(base_data, [*overrides, f"seed={seed}"], source).trials[0]
            values = {"fix": label, "seed": seed}
            trials.append(Trial(trial_name(values, one.config_hash), values, one.experiment, one.config_hash))
    resolved = validate(base_data, source).resolved()
    return Plan(study=name, base=resolved, axes=["fix", "seed"], trials=trials)


def summaries(study_dir: Path, trials: list[Trial]) -> list[dict]:
    return [trial_status(study_dir, trial.config_hash, owners={})[2] or {} for trial in trials]


def fixed_config(base_data: dict, candidate: Candidate) -> dict:
    return apply_overrides(base_data, candidate.overrides)


def config_diff(base_data: dict, fixed: dict, name: str) -> str:
    before, after = dump_yaml(base_data).splitlines(), dump_yaml(fixed).splitlines()
    return "\n".join(difflib.unified_diff(before, after, f"{name} (baseline)", f"{name} (fixed)", lineterm=""))


# ---------------------------------------------------------------- the whole procedure

@dataclass
class FixRequest:
    """What ``nnlab fix`` was asked: the baseline (a config file, or a trial folder's
    config.yaml) with overrides, how many seeds and candidates."""

    config: Path
    name: str
    data: dict               # the baseline config as read, overrides applied, no sweep section
    base: Experiment
    seeds: list[int]
    budget: int

    @property
    def study(self) -> str:
        return f"{self.base.name}-fix-{self.base.config_hash()[:8]}"   # one study per baseline config


def fix_request(target: Path, overrides: list[str], seeds: int, budget: int) -> FixRequest:
    """Read the baseline: a config file, or a trial folder (its config.yaml). ConfigError
    for anything else."""
    from ..config import read_yaml
    from ..results.store import is_trial

    target = Path(target)
    config = target / "config.yaml" if target.is_dir() and is_trial(target) else target
    if target.is_dir() and config == target:
        raise ConfigError(f"{target}: a folder but not a trial folder; give a config file or a trial folder")
    data, lines = read_yaml(config)
    data.setdefault("name", config.stem if config.name != "config.yaml" else target.parent.name)
    data = apply_overrides(data, overrides)
    data.pop("sweep", None)
    base = validate(data, str(config), lines)
    return FixRequest(config, data["name"], data, base, seeds_of(base, seeds), budget)


@dataclass
class FixReport:
    """What ``nnlab fix`` found: the symptoms, each candidate's outcome (verified first,
    then by gain), the best verified one with its fixed config, and where it wrote them."""

    study_dir: Path
    symptoms: list[str]
    candidates: list[Candidate] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    best: Outcome | None = None
    fixed: dict | None = None
    report: Path | None = None

    @property
    def metric(self) -> str:
        return self.outcomes[0].metric if self.outcomes else ""

    def table(self) -> list[dict]:
        """fix.csv's rows."""
        return [{"rank": str(rank), "fix": o.candidate.name, "overrides": " ".join(o.candidate.overrides),
                 "answers": " ".join(o.candidate.targets), "metric": o.metric, "mean_gain": o.mean_gain,
                 "ci_low": o.interval[0] if o.interval else None, "ci_high": o.interval[1] if o.interval else None,
                 "worst_seed_gain": o.worst, "seeds_with_symptoms": sum(1 for s in o.symptoms_left if s),
                 "verified": o.verified, "why": o.why} for rank, o in enumerate(self.outcomes, 1)]


def run_fix(request: FixRequest, results_dir: Path, run_plan: Callable[[Plan, str], None],
            on_symptoms: Callable[[list[str]], None] = lambda found: None) -> FixReport:
    """The whole of ``nnlab fix``: the baseline on every seed, the symptoms, the candidates
    for them, each judged against the baseline; fix.csv, fixed.yaml and a report written
    in the study. ``run_plan(plan, what)`` runs a plan (the command's executor and progress
    bar); ``on_symptoms`` hears the symptoms before the candidates run. NnlabError when the
    baseline did not train on some seed."""
    from ..report import write_report
    from ..results.csvtext import to_csv
    from ..results.store import write_text_atomic
    from .repairs import candidates

    study_dir = Path(results_dir) / request.study
    baseline = fix_plan(request.study, request.data, str(request.config), [], request.seeds)
    run_plan(baseline, f"the baseline on seeds {', '.join(map(str, request.seeds))}")
    base_summaries = summaries(study_dir, baseline.trials)
    broken = [t.id for t, summary in zip(baseline.trials, base_summaries, strict=True)
              if summary.get("status") not in COMPLETE_STATUSES]
    if broken:
        raise NnlabError(f"the baseline did not train on {len(broken)} seed(s) ({', '.join(broken)}: see their "
                         f"summary.json); fix that first, nothing else was tried")
    report = FixReport(study_dir, symptoms(base_summaries))
    if not report.symptoms:
        return report
    on_symptoms(report.symptoms)
    report.candidates = candidates(request.base, report.symptoms, request.budget)
    if not report.candidates:
        return report
    plan = fix_plan(request.study, request.data, str(request.config), report.candidates, request.seeds)
    run_plan(plan, f"{len(report.candidates)} candidate fix(es) x {len(request.seeds)} seed(s)")
    by_fix = {c.name: [t for t in plan.trials if t.values["fix"] == c.name] for c in report.candidates}
    report.outcomes = sorted((judge(c, base_summaries, summaries(study_dir, by_fix[c.name])) for c in report.candidates),
                             key=lambda o: (not o.verified, -o.mean_gain if math.isfinite(o.mean_gain) else math.inf))
    write_text_atomic(study_dir / "fix.csv", to_csv(report.table()))
    report.report = write_report(study_dir)[0]
    report.best = next((o for o in report.outcomes if o.verified), None)
    if report.best is not None:
        report.fixed = fixed_config(request.data, report.best.candidate)
        write_text_atomic(study_dir / "fixed.yaml", dump_yaml(report.fixed))
    return report
