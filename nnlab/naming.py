"""Trial folder names: ``<slug of the swept or overridden values>-<8-hex config hash>``.

The hash identifies the config (``Experiment.config_hash``); the slug is for people. A
finished trial is found by its hash, so a changed slug never hides it.
"""

from __future__ import annotations

from .tabular import format_value

SLUG_LIMIT = 80


def slug(values: dict) -> str:
    """'activation=relu,seed=0' from {'model.activation': 'relu', 'seed': 0}; short, path-safe."""
    if not values:
        return "run"
    parts = []
    for key, value in values.items():
        text = _slug_value(value)
        path = key.split(".")
        label = path[-2] if path[-1] == "name" and len(path) > 1 else path[-1]
        parts.append(f"{label}={text}")
    out = ",".join(parts)
    for bad in '/\\ :*?"<>|':
        out = out.replace(bad, "_")
    return out[:SLUG_LIMIT]


def _slug_value(value) -> str:
    """'adagrad(lr=0.1)' for {name: adagrad, lr: 0.1}; '[64,64]' for a list; plain scalars."""
    if isinstance(value, dict):
        rest = ";".join(f"{k}={_slug_value(v)}" for k, v in value.items() if k != "name")
        return f"{value['name']}({rest})" if "name" in value else rest
    if isinstance(value, list):
        return "[" + ",".join(_slug_value(v) for v in value) + "]"
    return format_value(value)


def trial_name(values: dict, config_hash: str) -> str:
    return f"{slug(values)}-{config_hash}"


def hash_of(trial_name: str) -> str:
    """The config hash at the end of a trial folder's name."""
    return trial_name.rsplit("-", 1)[-1]
