"""Terminal output: the doctor's findings, a trial's summary, a study's plan and tables, so
that the commands only call the library and these (progress bars: ``progress.py``)."""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Console

from ..diagnose.events import serious
from ..results.csvtext import plain_cell

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def epoch_line(row: dict, epochs: int) -> str:
    parts = [f"epoch {row['epoch']:>{len(str(epochs))}}/{epochs}"]
    for key in ("train_loss", "train_acc", "train_mae", "val_loss", "val_acc", "val_mae", "test_acc", "test_mae"):
        if key in row:
            parts.append(f"{key} {fmt(row[key])}")
    if row.get("time_s") is not None and row["epoch"]:
        parts.append(f"{row['time_s']:.1f}s")
    return "  ".join(parts)


def say(text: str) -> None:
    console.print(text, markup=False)


def warn(text: str) -> None:
    err_console.print(text, markup=False)


def print_findings(findings: list[dict], label: str = "doctor") -> None:
    """The doctor's warnings and errors, one line each."""
    for finding in serious(findings):
        say(f"{label}: [{finding['severity']}] {finding['type']}: {finding['message']}")


def print_study_findings(found: list[tuple[dict, list[str]]], n_trials: int) -> None:
    """The doctor's static checks over a study, one line per distinct finding."""
    for finding, trials in found:
        if finding["severity"] in ("warn", "error"):
            which = "all trials" if len(trials) == n_trials else f"{len(trials)} trial(s), e.g. {trials[0]}"
            say(f"doctor: [{finding['severity']}] {finding['type']} in {which}: {finding['message']}")


def print_summary(summary: dict, trial_dir: Path) -> None:
    """What `nnlab run` prints at the end: status, final and best metrics, the diagnosis."""
    status = summary.get("status")
    if status == "failed":
        warn(f"error: trial failed: {summary.get('error')}")
        say(f"recorded in {trial_dir}")
        return
    if status == "diverged":
        d = summary["diverged"]
        if d.get("ended") is not None:
            warn(f"diverged: the loss passed {d['limit']:.3g} at epoch {d['epoch']}, step {d['step']} and ended at "
                 f"{d['ended']:.3g} (recorded; try a smaller learning rate)")
        else:
            warn(f"diverged: the {d['what']} became NaN/Inf at epoch {d['epoch']}, step {d['step']} "
                 "(recorded; try a smaller learning rate)")
    final, best = summary.get("final", {}), summary.get("best", {})
    metric = summary.get("metric", "acc")
    parts = [f"{status}: {summary.get('epochs_run')} epochs, {summary.get('steps')} steps"]
    if summary.get("epoch_time_s"):
        seconds = summary["epoch_time_s"]
        parts.append(f"{seconds:.2f} s/epoch" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms/epoch")
    rule = summary.get("stop_when")
    if rule:
        parts.append(f"stopped by train.stop_when: {rule['metric']} {fmt(rule['value'])} at epoch {rule['epoch']}")
    elif summary.get("stop_reason") == "early_stopping":
        parts.append("stopped early")
    say(", ".join(parts))
    final_label = (f"final (best weights of epoch {summary['restored_best_epoch']} restored)"
                   if summary.get("restored_best_epoch") is not None else "final")
    rows = [(final_label, final), (f"best ({best.get('monitor')}, epoch {best.get('epoch')})", best)]
    if summary.get("last_epoch"):
        rows.append((f"last epoch trained ({summary['last_epoch'].get('epoch')})", summary["last_epoch"]))
    for label, row in rows:
        cells = [f"{k} {fmt(row[k])}" for k in ("train_loss", f"train_{metric}", "val_loss", f"val_{metric}",
                                                 "test_loss", f"test_{metric}") if k in row]
        say(f"  {label}: " + "  ".join(cells))
    events = [e for e in summary.get("events", []) if e.get("where", {}).get("stage") != "before training"]
    if events:
        say("diagnosis:")
    for event in events:
        say(f"  [{event['severity']}] {event['type']}: {event['message']}")
    say(f"results: {trial_dir}")


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        say("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def print_plan(trials: list, axes: list[str], statuses: list[str]) -> None:
    """`nnlab sweep --dry-run`: every trial with its swept values and status."""
    rows = [[str(i), trial.id, *[plain_cell(trial.values.get(a)) for a in axes], status]
            for i, (trial, status) in enumerate(zip(trials, statuses, strict=True), 1)]
    print_table(["#", "trial", *axes, "status"], rows)
    todo = sum(s in ("pending", "running") for s in statuses)
    say(f"{len(rows)} trials, {todo} to run, {len(rows) - todo} done (dry run: nothing was run)")


def plan_statuses(study_dir: Path, plan) -> list[str]:
    """Each planned trial's status, for ``--dry-run``."""
    from ..results.index import live_owners
    from ..results.store import trial_status

    owners = live_owners(study_dir)
    return [trial_status(study_dir, t.config_hash, owners)[0] for t in plan.trials]


def print_sweep_outcome(outcome, study_dir: Path) -> bool:
    """The line after a sweep (what ran, what was done, statuses) and one error line per kind
    of problem; True when the command should exit 1 (a trial failed or is corrupt)."""
    counts: dict[str, int] = {}
    for status in outcome.statuses.values():
        counts[status] = counts.get(status, 0) + 1
    say(f"{len(outcome.ran)} trained, {len(outcome.skipped)} already done"
        + (f", {len(outcome.elsewhere)} running in another process" if outcome.elsewhere else "")
        + " | " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + f" | summary: {study_dir / 'summary.csv'}")
    for trials, what in ((outcome.failed, "failed"), (outcome.corrupt, "corrupt (files changed since written)")):
        if trials:
            warn(f"error: {len(trials)} trial(s) {what}: {', '.join(trials[:3])}"
                 f"{' ...' if len(trials) > 3 else ''} (see summary.csv; --retry runs them again)")
    return bool(outcome.failed or outcome.corrupt)


def print_fix_report(report, request) -> bool:
    """``nnlab fix``'s ranked table and its verdict: the best verified fix as a config diff
    (True), or why there is none (False)."""
    from ..diagnose.fix import BASELINE, config_diff

    metric = report.metric
    unit = 100 if metric.endswith("acc") else 1
    rows = []
    for rank, o in enumerate(report.outcomes, 1):
        interval = f"[{o.interval[0] * unit:+.2f}, {o.interval[1] * unit:+.2f}]" if o.interval else "-"
        rows.append([str(rank), o.candidate.name, " ".join(o.candidate.overrides), f"{o.mean_gain * unit:+.2f}",
                     interval, "yes" if o.verified else "no", o.why])
    print_table(["#", "fix", "overrides", f"gain in {metric}" + (" (points)" if unit == 100 else ""), "95% interval",
                 "verified", "why"], rows)
    table = report.study_dir / "fix.csv"
    if report.best is None:
        say(f"no verified fix among {len(report.outcomes)} candidate(s): each either left a symptom, cost accuracy on "
            f"a seed or gained no more than seed noise (table above; {table}; report {report.report})")
        return False
    best = report.best.candidate
    say(f"best verified fix: {best.name} ({best.reason}); answers {', '.join(best.targets)}")
    say(config_diff(request.data, report.fixed, request.config.name))
    say(f"fixed config: {report.study_dir / 'fixed.yaml'} | table: {table} | report (baseline vs fixes): "
        f"{report.report} | baseline label in the report: fix={BASELINE}")
    return True


def print_rediagnosis(results: list, write: bool) -> None:
    """``nnlab diagnose``: one trial's findings, or a study's table of stored and new labels."""
    from ..diagnose.rediagnose import labels

    if len(results) == 1 and results[0].skipped is None:
        for finding in results[0].after:
            say(f"[{finding['severity']}] {finding['type']}: {finding['message']}")
        if not results[0].after:
            say("no findings")
    else:
        print_table(["trial", "stored", "now"],
                    [[r.trial.name, labels(r.before), r.skipped or labels(r.after)] for r in results])
    changed = [r for r in results if r.changed()]
    skipped = [r for r in results if r.skipped]
    for r in skipped:
        warn(f"{r.trial.name}: not diagnosed again: {r.skipped}")
    say(f"{len(results) - len(skipped)} trial(s) diagnosed, {len(changed)} with a different diagnosis than stored")
    if write:
        written = sum(r.written for r in results)
        say(f"stored in {written} summary.json file(s)" + (" (the others had not changed)" if written < len(results) - len(skipped) else ""))
    elif changed:
        say("(--write stores the new diagnosis, so reports show it)")
