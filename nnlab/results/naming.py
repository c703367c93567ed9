"""Trial folder names: ``<slug of the swept or overridden values>-<8-hex config hash>``.

The hash identifies the config (``Experiment.config_hash``); the slug is for people. A
finished trial is found by its hash, so a changed slug never hides it.
"""

from __future__ import annotations

import re

from .csvtext import format_value

SLUG_LIMIT = 80


SAFE = re.compile(r"[^A-Za-z0-9._=+-]+")   # what a folder name keeps; the rest becomes "_"


def slug(values: dict) -> str:
    """'activation=relu,seed=0' from {'model.activation': 'relu', 'seed': 0}: readable,
    path-safe (no brackets, spaces or quotes), cut between values, never inside one."""
    if not values:
        return "run"
    parts = []
    for key, value in values.items():
        path = key.split(".")
        label = path[-2] if path[-1] == "name" and len(path) > 1 else path[-1]
        parts.append(f"{label}={_clean(_slug_value(value))}")
    out = parts[0][:SLUG_LIMIT]
    kept = 1
    for part in parts[1:]:
        if len(out) + 1 + len(part) > SLUG_LIMIT:
            break
        out += "," + part
        kept += 1
    return out + (f",+{len(parts) - kept}" if kept < len(parts) else "")


def _clean(text: str) -> str:
    return SAFE.sub("_", text).strip("_") or "_"


def _slug_value(value) -> str:
    """'adagrad_lr=0.1' for {name: adagrad, lr: 0.1}; '256x128' for a list; 'null' for None."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        named = [str(value["name"])] if "name" in value else []
        return "_".join(named + [f"{k}={_slug_value(v)}" for k, v in value.items() if k != "name"])
    if isinstance(value, list):
        return "x".join(_slug_value(v) for v in value) or "none"
    return format_value(value)


def trial_name(values: dict, config_hash: str) -> str:
    return f"{slug(values)}-{config_hash}"


def hash_of(trial_name: str) -> str:
    """The config hash at the end of a trial folder's name."""
    return trial_name.rsplit("-", 1)[-1]
