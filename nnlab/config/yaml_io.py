"""YAML in and out: a safe loader that rejects duplicate keys and reads ``1e-3`` as a float,
line numbers per key path for error messages, and the dumper used for config.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..data.userfiles import read_user_file
from ..errors import ConfigError


class _Loader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys and reads 1e-3 as a float (YAML 1.2 style)."""


def _mapping(loader, node, deep=False):
    loader.flatten_mapping(node)  # resolve `<<: *anchor` merge keys first, as PyYAML's SafeLoader does
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain name, got a {type(key).__name__}", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


MAX_DIGITS = 100   # an integer longer than this is a typo (Python refuses past 4300 digits, with a traceback)


def _integer(loader, node):
    digits = sum(ch.isdigit() for ch in str(node.value))
    if digits > MAX_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"a number with {digits} digits; nnlab reads integers of at most {MAX_DIGITS}", node.start_mark)
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _integer)
# A date such as 2020-01-01 stays text: configs hold no dates, and a date object would
# surface later as a confusing type error.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)$|^[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def parse_yaml_value(text: str):
    """An override's value as a YAML scalar or flow collection: '0.01', '[256, 128]', 'null'."""
    try:
        return yaml.load(text, Loader=_Loader) if text.strip() else ""
    except yaml.constructor.ConstructorError as exc:
        shown = text if len(text) <= 40 else text[:20] + "..." + text[-10:]
        raise ConfigError(f"cannot read the value '{shown}': {exc.problem}") from None
    except yaml.YAMLError:
        return text


# Limits for a config file: far above any real config, far below what hurts. A YAML alias
# "bomb" (aliases of aliases) is tiny on disk and expands exponentially, so the expanded
# node count is checked on the composed graph before anything is built from it.
MAX_CONFIG_BYTES = 1 << 20
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 50
PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp",
                                                      "merge")}


def read_text(path: Path) -> str:
    """A config file's text, or ConfigError saying why it is not one."""
    raw = read_user_file(path, ConfigError, "config file", MAX_CONFIG_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (undecodable byte at offset {exc.start}); a config is a YAML text file") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: not UTF-8 text (it holds NUL bytes); a config is a YAML text file")
    return text


def _check_graph(root, path: Path) -> None:
    """Expanded size, depth and tags of a composed YAML graph, without expanding it."""
    sizes: dict[int, int] = {}
    stack: list[tuple] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(f"{path}:{node.start_mark.line + 1}: nested too deeply (more than {MAX_DEPTH} levels)")
        if node.tag not in PLAIN_TAGS:
            raise ConfigError(f"{path}:{node.start_mark.line + 1}: unsupported YAML tag '{node.tag}': nnlab configs "
                              "are plain YAML (mappings, lists, numbers, strings, booleans, null)")
        children = ([child for pair in node.value for child in pair] if isinstance(node, yaml.MappingNode)
                    else list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if done:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > MAX_EXPANDED_NODES:
                raise ConfigError(f"{path}: expands to more than {MAX_EXPANDED_NODES} values through YAML aliases "
                                  "(&anchor / *alias); write the values out")
        elif id(node) not in sizes:
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def read_yaml(path: str | Path) -> tuple[dict, dict]:
    """Read a config file: ``(data, lines)`` where lines maps key paths to 1-based lines."""
    path = Path(path)
    text = read_text(path)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_graph(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        what = "" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error: "
        raise ConfigError(f"{where}: {what}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML error: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply (more than {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()
    if data is None:
        raise ConfigError(f"{path}: the file is empty (or only comments); a config needs at least a name or a "
                          "data/model section, e.g. 'data: {name: xor}'")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (name, data, model, ...), got {type(data).__name__}")
    section = data.get("data")
    if isinstance(section, dict) and isinstance(section.get("path"), str) and not Path(section["path"]).expanduser().is_absolute():
        section["path"] = str(path.parent / section["path"])  # a file named in a config is found beside it
    lines: dict[tuple, int] = {}
    _collect_lines(node, (), lines)
    return data, lines


def _collect_lines(node, path: tuple, lines: dict) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = path + (key_node.value,)
            lines[key_path] = key_node.start_mark.line + 1
            _collect_lines(value_node, key_path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (str(i),)] = item.start_mark.line + 1
            _collect_lines(item, path + (str(i),), lines)


def dump_yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
