"""Reports: ``write_report(path, out)`` writes plots (PNG), summary.csv, groups.csv,
comparisons.csv and a self-contained index.html for a trial or a study folder.

- ``html.py``: the page; ``plots.py``: the figures; ``cache.py``: per-trial figures cached
  beside the trials; ``groups.py``: groups over seeds and comparisons; ``statistics.py``:
  the intervals behind them.

A report folder is built under a temporary name and put in place whole. It replaces only a
folder that is recognisably a report nnlab wrote (it holds the ``.nnlab-report`` mark, or
is an older nnlab report) or an empty one: ``--out`` pointed at a folder of the user's,
at a study or at a trial is refused in one line and nothing there is touched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import __version__
from ..errors import ConfigError, store_error
from ..results import fsio

MARK = ".nnlab-report"
# What a report written before the mark existed holds (nothing else may be there to replace it).
_OLD_REPORT_FILES = {"index.html", "summary.csv", "groups.csv", "comparisons.csv", "trials"}


def write_report(path: Path, out: Path | None = None) -> list[Path]:
    """Write the report of a trial or study folder into ``out`` (default ``path/report``),
    whole or not at all. Returns the files written (index.html first)."""
    from .html import write_pages

    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such results folder")
    out = Path(out) if out else path / "report"
    refuse_unless_report(out, path)
    fsio.recover(out.parent)   # a report killed mid-write left its temporary folder here

    def fill(tmp: Path) -> list[Path]:
        written = [p.relative_to(tmp) for p in write_pages(path, tmp)]
        fsio.write_file(tmp / MARK, json.dumps({"nnlab": __version__, "report_of": str(path.resolve())}) + "\n")
        return written
    try:
        relative = fsio.build_folder(out, fill)
    except OSError as exc:
        raise store_error(exc, "the report") from None
    return [out / p for p in relative]


def refuse_unless_report(out: Path, source: Path) -> None:
    """ConfigError unless ``out`` may be (re)placed by a report of ``source``: it does not
    exist, is empty, or is a report nnlab wrote; and it does not hold ``source``."""
    resolved, source = out.resolve(), source.resolve()
    if resolved == source or source.is_relative_to(resolved):
        raise ConfigError(f"{out}: holds the results being reported on; choose a folder outside {source}")
    if not os.path.lexists(out):
        return
    if out.is_symlink():
        raise ConfigError(f"{out}: a link; give a folder of its own for the report")
    if not out.is_dir():
        raise ConfigError(f"{out}: a file, not a folder; give a new or empty folder for the report")
    names = {p.name for p in out.iterdir()}
    if not names or MARK in names or _old_report(out, names):
        return
    example = sorted(names)[0]
    raise ConfigError(f"{out}: already holds files that are not an nnlab report ({len(names)} entries, e.g. "
                      f"{example}); nothing was written: give a new or empty folder, or one nnlab wrote a report into")


def _old_report(out: Path, names: set[str]) -> bool:
    """A report written before the mark: its own files only, and an index.html nnlab wrote."""
    if "index.html" not in names or not all(n in _OLD_REPORT_FILES or n.endswith(".png") for n in names):
        return False
    try:
        head = fsio.read_bytes(out / "index.html", 64 << 20)
    except OSError:
        return False
    return b"<h1>nnlab study report" in head or b"<h1>nnlab trial report" in head
