"""Command-line overrides: ``key.path=value`` parsed, split and applied to nested dicts."""

from __future__ import annotations

import json
import re

from ..errors import ConfigError
from .yaml_io import parse_yaml_value


def split_override(text: str) -> tuple[str, str]:
    """'optimizer.lr=0.01' -> ('optimizer.lr', '0.01')."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*", key):
        raise ConfigError(f"override '{text}': write key.path=value, e.g. optimizer.lr=0.01")
    return key, value


def split_top_level(value: str) -> list[str]:
    """Split on commas outside brackets, parentheses and quotes: 'a,b' -> ['a', 'b'];
    '[256,128]' and 'leaky_relu(0.1)' stay whole."""
    parts, depth, quote, current = [], 0, None, []
    for ch in value:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _index(node: list, part: str, key: str, upto: str) -> int:
    """A list position in a key path: ``model.layers.2.p`` is the third layer's ``p``."""
    if not part.isdigit():
        raise ConfigError(f"override {key}: {upto} is a list; address an item by its position, e.g. {upto}.0")
    if int(part) >= len(node):
        raise ConfigError(f"override {key}: {upto} has {len(node)} items (positions 0 to {len(node) - 1}), "
                          f"not {int(part) + 1}")
    return int(part)


def get_path(data: dict, key: str):
    """The value at ``a.b.c`` in nested dicts (a digit picks a list item: ``model.layers.0.init``),
    or None where the path does not exist."""
    node = data
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def set_path(data: dict, key: str, value) -> None:
    """Set ``a.b.c`` in nested dicts; a string shorthand ('adam') becomes {name: adam}; a
    digit addresses an item of an existing list (``model.layers.2.p=0.5``)."""
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        upto = ".".join(parts[:i + 1])
        if isinstance(node, list):
            slot = _index(node, part, key, ".".join(parts[:i]))
            child = node[slot]
        else:
            slot, child = part, node.get(part)
        if isinstance(child, str) and isinstance(node, list):
            raise ConfigError(f"override {key}: {upto} is written as '{child}'; replace the whole item "
                              f"({upto}=...) or write it as a mapping in the file")
        if isinstance(child, str):
            child = {"name": child}
        elif child is None:
            child = {}
        elif not isinstance(child, (dict, list)):
            raise ConfigError(f"override {key}: {upto} is not a mapping")
        node[slot] = child
        node = child
    if isinstance(node, list):
        node[_index(node, parts[-1], key, ".".join(parts[:-1]))] = value
        return
    from .layer_schema import SHORTHAND_MAIN

    shorthand = [k for k, main in SHORTHAND_MAIN.items() if main == parts[-1] and k in node and "type" not in node]
    node[shorthand[0] if len(parts) > 1 and parts[-2].isdigit() and shorthand else parts[-1]] = value  # {dense: 4}: units=6 replaces the 4


def check_unique_keys(overrides: list[str]) -> None:
    """ConfigError when one key is given twice: which one should win is a guess."""
    first: dict[str, str] = {}
    for text in overrides:
        key, _ = split_override(text)
        if key in first:
            raise ConfigError(f"override {key} given twice ('{first[key]}' and '{text}'); give each key once")
        first[key] = text


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply 'key.path=value' overrides (one value each) to a copy of ``data``."""
    check_unique_keys(overrides)
    data = json.loads(json.dumps(data))
    for text in overrides:
        key, raw = split_override(text)
        values = split_top_level(raw)
        if len(values) > 1:
            raise ConfigError(f"override '{text}' lists {len(values)} values: that is a sweep axis; use `nnlab sweep`")
        set_path(data, key, parse_yaml_value(values[0]))
    return data
