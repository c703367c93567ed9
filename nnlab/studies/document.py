"""``docs/studies.md`` from the studies' results: per question the original setup, where the
study departs from it, the command, one figure, the numbers (mean ± 95% interval over
seeds), the answer and the checks it rests on.

    python -m nnlab.studies                     # run every study not yet complete, then write the doc
    python -m nnlab.studies zero_init ng_ex4    # only these (the doc keeps the others' sections)
    python -m nnlab.studies --no-run            # write the doc from the results already there
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from .catalogue import BY_NAME, STUDIES, Study
from .measure import StudyData

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = Path("configs") / "studies"
INTRO = """# Studies: the questions nnlab was made for

Each section below is one ready-made study in `configs/studies/`, run with one command. It
gives the original setup the question came with, where the study departs from it and why,
the command, one figure, the numbers — **mean ± 95% interval over seeds** (mean ±
t(0.975, n − 1)·sd/√n; a difference between two settings is paired by seed, or Welch's
interval when they did not run the same seeds) — and an
answer written from those numbers: a difference is called real only when its interval
excludes 0. Under each answer, its checks: ✔ means the claim holds in the numbers above,
and `tests/studies/test_studies.py` asserts the same claims on a shortened run of the study.

The diagnosis column lists what nnlab's diagnosis raised as a warning or error in most of a
setting's seeds (a finding of `nnlab doctor`, the checks before training, or of the
detectors over the curves; "plateau at chance" and "plateau stalled" are the two kinds of
plateau); "(+2 diverged)" after a seed count means two more seeds diverged and are left out
of the statistics.

This file is generated: `nnlab sweep configs/studies/<name>.yaml` runs a study,
`python -m nnlab.studies <name> --no-run` rewrites its section (figure, table, answer) from
the results, and `make studies` runs every study that is not complete yet and rewrites the
whole page (`python -m nnlab.studies --help` for the options). Studies run their trials on
every core; the time quoted under each command is the sum of its trials' own times divided
by the cores of the machine that ran them, named there.

"""


def plan_of(study: Study, overrides: list[str] = ()):
    """The trials the study's config (with ``overrides``) defines: what the section reports."""
    from ..config import read_yaml
    from ..sweep.plan import plan

    path = ROOT / CONFIGS / f"{study.name}.yaml"
    data, lines = read_yaml(path)
    return plan(data, list(overrides), str(path), lines)


def load(study: Study, results: Path, overrides: list[str] = ()) -> StudyData:
    return StudyData(Path(results) / study.name, plan_of(study, overrides), study.labels, study.derived)


def run(study: Study, results: Path, overrides: list[str] = (), workers: int | None = None) -> int:
    """`nnlab sweep configs/studies/<name>.yaml` (resumes: complete trials are kept)."""
    command = [sys.executable, "-m", "nnlab", "sweep", str(ROOT / CONFIGS / f"{study.name}.yaml"), *overrides,
               "--results-dir", str(results)]
    if workers:
        command += ["--workers", str(workers)]
    return subprocess.call(command)


def section(study: Study, sd: StudyData, figure_dir: Path, link_dir: str) -> str:
    """The Markdown of one study, its figure written to ``figure_dir``."""
    from ..report.plots import _pyplot, _save

    plt = _pyplot()
    lines = [f"## {study.number}. {study.question}", "",
             f"**Original setup:** {study.original}.  ",
             f"**Here:** {study.here}.", ""]
    trials, cores = len(sd.trials), os.cpu_count() or 1
    seconds = sum(s.get("time_s") or 0 for s in sd.summaries.values())
    cpu = next((s.get("environment", {}).get("cpu") for s in sd.summaries.values()), None) or platform.machine()
    lines += ["```console", f"nnlab sweep configs/studies/{study.name}.yaml", "```", "",
              f"{trials} trials, {_duration(seconds / cores)} on {cores} cores ({cpu})."
              + (f" **{len(sd.missing)} trial(s) have no results yet** ({', '.join(sd.missing[:3])}…): "
                 f"the numbers below leave them out." if sd.missing else ""), ""]
    if len(sd.summaries):
        fig = study.figure(sd, plt)
        fig.tight_layout()
        png = figure_dir / f"{study.name}.png"
        _save(fig, png)
        plt.close(fig)
        lines += [f"![{study.question}]({link_dir}/{png.name})", ""]
    lines += _table(study, sd) + [""]
    if len(sd.summaries) and not sd.missing:
        lines += [f"**Answer.** {study.answer(sd)}", ""]
        lines += ["Checks (✔: holds in the numbers above; `tests/studies/test_studies.py` asserts them on a shortened run):", ""]
        lines += [f"- {'✔' if ok else '✘ does not hold here:'} {claim}" for claim, ok in study.checks(sd)]
    else:
        lines += ["*No answer yet: run the study first.*"]
    return "\n".join(lines) + "\n"


def _table(study: Study, sd: StudyData) -> list[str]:
    head = sd.columns + ["seeds"] + [c.header for c in study.columns] + ["diagnosis (warnings and errors in most seeds)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group in sd.groups():
        n = len(sd.select(**group))
        diverged = sd.count(**group) - n - len(sd.select(False, **group).query("status not in ('complete', 'diverged')"))
        cells = [str(group[c]) for c in sd.columns] + [f"{n}" + (f" (+{diverged} diverged)" if diverged else "")]
        cells += [sd.fmt(c.metric, c.scale, c.digits, **group) for c in study.columns]
        cells.append(sd.diagnosis(**group).replace("_", r"\_"))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _duration(seconds: float) -> str:
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.1f} min"


def write(results: Path, out: Path, only: list[str] | None = None) -> list[str]:
    """Write ``out`` (Markdown) and its figures beside it in ``<out stem>/``; returns the
    claims that did not hold, as 'study: claim'."""
    figure_dir = out.with_suffix("")
    figure_dir.mkdir(parents=True, exist_ok=True)
    old = _old_sections(out) if only else {}
    failed, parts = [], []
    for study in STUDIES:
        if only and study.name not in only and study.name in old:
            parts.append(old[study.name])
            continue
        sd = load(study, results)
        text = section(study, sd, figure_dir, figure_dir.name)
        parts.append(text)
        if len(sd.summaries) and not sd.missing:
            failed += [f"{study.name}: {claim}" for claim, ok in study.checks(sd) if not ok]
    contents = "\n".join(f"{s.number}. [{s.question}](#{_anchor(s)})" for s in STUDIES)
    out.write_text(INTRO + contents + "\n\n" + "\n".join(parts))
    return failed


def _anchor(study: Study) -> str:
    import re

    text = f"{study.number}. {study.question}".lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _old_sections(out: Path) -> dict[str, str]:
    """name -> section text of an existing doc (to keep the studies not run this time)."""
    if not out.exists():
        return {}
    text = out.read_text()
    found = {}
    for study in STUDIES:
        start = text.find(f"## {study.number}. ")
        if start < 0:
            continue
        end = text.find("\n## ", start + 1)
        found[study.name] = text[start:end if end >= 0 else len(text)].rstrip("\n") + "\n"   # as section() ends
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnlab.studies", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"studies to run and rewrite (default: all): {', '.join(BY_NAME)}")
    parser.add_argument("--results-dir", type=Path, default=Path("results"), help="where the studies' trials go (default: results)")
    parser.add_argument("--out", type=Path, default=Path("docs") / "studies.md", help="the Markdown file (figures go beside it)")
    parser.add_argument("--no-run", action="store_true", help="do not run anything: write the doc from the results there are")
    parser.add_argument("--workers", type=int, default=None, help="trials in parallel (default: every core)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown study {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    chosen = [BY_NAME[n] for n in args.names] or STUDIES
    if not args.no_run:
        for study in chosen:
            start = time.perf_counter()
            print(f"== {study.number}. {study.name}", flush=True)
            code = run(study, args.results_dir, workers=args.workers)
            print(f"== {study.name}: {time.perf_counter() - start:.0f} s wall" + (f", exit {code}" if code else ""), flush=True)
            if code not in (0, 1):   # 1: some trial failed; its section says which are missing
                return code
    failed = write(args.results_dir, args.out, [s.name for s in chosen] if args.names else None)
    print(f"wrote {args.out}")
    for line in failed:
        print(f"claim does not hold: {line}", file=sys.stderr)
    return 1 if failed else 0
