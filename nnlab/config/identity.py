"""What makes a trial the trial it is, and what makes trials seeds of one configuration.

* A trial is identified by the hash of its resolved config (:func:`config_hash`): everything
  that changes its numbers, not its name or description. Its folder is named after it, and
  the hash is recomputed from the config.yaml the folder holds whenever the folder is read,
  so a folder whose config was edited (or that was copied under another trial's name) is not
  taken for the trial its name claims.
* Trials are seeds of one configuration when their resolved configs are equal except for
  the seed (:func:`group_hash`), whichever command made them and whatever axes their plans
  named. summary.csv, groups and comparisons, ``nnlab.load_study``, ``nnlab fix`` and the
  studies page all group by this one rule, and the keys whose values differ between a
  study's trials (:func:`differing_keys`) are the columns that tell the groups apart.
"""

from __future__ import annotations

import copy
import hashlib
import json

# (path, value that reproduces the behaviour from before the key existed)
LATER_KEYS = [(("model", "bias"), True), (("model", "outputs"), None), (("regularization",), {"l2": 0.0}),
              (("train", "stop_when"), None), (("train", "extra_metrics"), []), (("data", "test_subset"), None),
              (("data", "resize"), None), (("data", "target"), "label"), (("data", "path"), None),
              (("data", "features"), None), (("data", "task"), "auto"), (("data", "test_fraction"), 0.2),
              (("data", "sha256"), None), (("model", "conv"), []), (("model", "kernel"), 3), (("model", "pool"), 2),
              (("model", "pool_type"), "max"), (("train", "eval_every"), 1),
              (("train", "clip_grad_norm"), None), (("model", "batchnorm_momentum"), 0.1),
              (("model", "conv_dropout"), 0.0)]
LATER_LAYER_KEYS = {"dense": {"bias": True, "trainable": True, "l2": None}, "dropout": {"inverted": True}}
NOT_IDENTITY = ("name", "description", "sweep")   # they do not change a trial's numbers


def identity(resolved: dict) -> dict:
    """The part of a resolved config that identifies a trial: without name, description and
    sweep, and without keys added after trials were already recorded while they hold the value
    that reproduces the earlier behaviour (so those trials keep their identity). A data file
    (csv, npz) is identified by its content (``data.sha256``), wherever it lies."""
    payload = copy.deepcopy({k: v for k, v in resolved.items() if k not in NOT_IDENTITY})
    data = payload.get("data")
    if isinstance(data, dict) and data.get("name") in ("csv", "npz"):
        data.pop("path", None)
    for path, default in LATER_KEYS:
        node = payload
        for part in path[:-1]:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict) and path[-1] in node and node[path[-1]] == default:
            del node[path[-1]]
    model = payload.get("model")
    for layer in (model.get("layers") or [] if isinstance(model, dict) else []):
        if isinstance(layer, dict):
            for key, default in LATER_LAYER_KEYS.get(layer.get("type"), {}).items():
                if layer.get(key) == default:
                    layer.pop(key)
    return payload


def _short_hash(payload: dict) -> str:
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def config_hash(resolved: dict) -> str:
    """Short SHA-256 of everything that changes a trial's numbers (:func:`identity`)."""
    return _short_hash(identity(resolved))


def group_hash(resolved: dict) -> str:
    """The configuration a trial is a seed of: :func:`config_hash` without the seed."""
    payload = identity(resolved)
    payload.pop("seed", None)
    return _short_hash(payload)


def leaves(node, prefix: str = "") -> dict:
    """{'optimizer.lr': 0.01, 'model.hidden': [256, 128], ...}: dotted paths to the values of
    nested mappings (lists are values)."""
    if isinstance(node, dict) and node:
        out: dict = {}
        for key, value in node.items():
            out.update(leaves(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: node} if prefix else {}


def differing_keys(configs: list[dict]) -> list[str]:
    """Dotted key paths whose values differ between the given resolved configs (the seed
    aside), in first-seen order: the columns that tell their configurations apart."""
    flat = [leaves(identity(c)) for c in configs if c]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return [k for k in keys if k != "seed" and len({json.dumps(f.get(k), sort_keys=True) for f in flat}) > 1]
