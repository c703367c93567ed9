"""Per-trial figures, cached beside the trial folders (``<study>/.plot-cache/``) by the
trial's manifest and the plotting code, and drawn on all cores for a study's report."""

from __future__ import annotations

import os
from pathlib import Path

from ..results import fsio
from ..results.manifest import MANIFEST
from .plots import plot_reconstructions, plot_trial

DRAW = {"curves": plot_trial, "reconstructions": plot_reconstructions}
CACHE = ".plot-cache"   # beside the trial folders: <trial>-<kind>-<key>.png


def _cache_key(trial: Path) -> str | None:
    """The trial's manifest (every file's SHA-256) and the plotting code: a trial whose files
    or whose plots' code changed is drawn again. None (no caching) without a manifest."""
    import hashlib

    from . import plots

    try:
        manifest = fsio.read_bytes(trial / MANIFEST)
        code = Path(plots.__file__).read_bytes()
    except OSError:
        return None
    return hashlib.sha256(manifest + b"\0" + code).hexdigest()[:16]


def cached_plot(trial: Path, png: Path, kind: str) -> Path | None:
    """Draw one trial figure, or copy it from the cache when the trial has not changed.
    Returns None when the trial has no such figure (reconstructions of a classifier)."""
    import shutil

    key = _cache_key(trial)
    cache = trial.parent / CACHE / f"{trial.name}-{kind}-{key}.png" if key else None
    missing = trial.parent / CACHE / f"{trial.name}-{kind}-{key}.none" if key else None
    if cache is not None and cache.is_file() and not cache.is_symlink():
        png.parent.mkdir(parents=True, exist_ok=True)
        png.write_bytes(fsio.read_bytes(cache, 64 << 20))   # a regular file only (not a link planted in the cache)
        return png
    if missing is not None and missing.is_file():
        return None
    drawn = DRAW[kind](trial, png)
    if key is not None:
        try:
            (trial.parent / CACHE).mkdir(exist_ok=True)
            for old in (trial.parent / CACHE).glob(f"{trial.name}-{kind}-*"):
                old.unlink()   # one entry per trial and kind: the current one
            if drawn is None:
                missing.touch()  # type: ignore[union-attr]
            else:
                tmp = cache.with_suffix(f".tmp{os.getpid()}")  # type: ignore[union-attr]
                shutil.copyfile(drawn, tmp)
                tmp.rename(cache)  # type: ignore[arg-type]
        except OSError:
            pass   # a read-only results folder: no cache, same report
    return drawn


def _draw_one(args) -> None:
    import contextlib

    trial, out, kind = args
    with contextlib.suppress(Exception):  # a damaged trial is named by trial_section, which draws it again
        cached_plot(Path(trial), Path(out), kind)


def render_in_parallel(trials: list[Path], out: Path) -> None:
    """Fill the cache for every trial whose figures are not cached yet, on all cores."""
    todo = [t for t in trials if not all(trial_cache_hit(t, kind) for kind in DRAW)]
    workers = min(len(todo), os.cpu_count() or 1)
    if workers < 2 or len(todo) < 4:
        return   # drawn one by one by trial_section
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(str(t), str(out / f"{t.name}{'' if kind == 'curves' else '-' + kind}.png"), kind)
            for t in todo for kind in DRAW]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_draw_one, jobs))


def trial_cache_hit(trial: Path, kind: str) -> bool:
    key = _cache_key(trial)
    return bool(key) and any((trial.parent / CACHE / f"{trial.name}-{kind}-{key}{ext}").is_file()
                             for ext in (".png", ".none"))


