"""Validation with friendly errors: one line naming the file, line (or override), key path
and what is allowed; and :func:`load_config`, the usual entry point."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from ..errors import ConfigError
from .layer_schema import LAYER_TYPES
from .optim_schema import OPTIMIZER_CONFIGS, SCHEDULE_CONFIGS
from .overrides import apply_overrides, split_override
from .schema import Experiment
from .yaml_io import read_yaml


def validate(data: dict, source: str = "<config>", lines: dict | None = None,
             overridden: dict[str, str] | None = None) -> Experiment:
    """Validate plain data into an Experiment, or raise ConfigError naming the key path.

    ``overridden`` maps key paths that came from the command line or a sweep axis to a
    label ('override', 'sweep axis') used in place of a line number."""
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, data, source, lines or {}, overridden or {})) from None


def load_config(path: str | Path, overrides: list[str] | tuple = ()) -> Experiment:
    data, lines = read_yaml(path)
    data.setdefault("name", Path(path).stem)
    data = apply_overrides(data, list(overrides))
    overridden = {split_override(o)[0]: "override" for o in overrides}
    return validate(data, str(path), lines, overridden)


def _format_error(exc: ValidationError, data: dict, source: str, lines: dict, overridden: dict[str, str]) -> str:
    errors = exc.errors()
    # With unions pydantic reports every branch; the deepest location is the specific one.
    first = max(errors, key=lambda e: len(e["loc"]))
    path = _user_path(first["loc"], data)
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    unknown = re.match(r"unknown key '([^']+)'", message)
    if unknown:  # point at the key itself, not at its parent
        path = path + (unknown.group(1),)
    dotted = ".".join(path)
    if first["type"] not in ("value_error", "assertion_error") and "input" in first and not isinstance(first["input"], (dict, list)):
        message = f"{message} (got {first['input']!r})"
    where = source
    origin = next((o for o in overridden if dotted == o or dotted.startswith(o + ".") or o.startswith(dotted + ".")), None)
    if origin is not None:
        where = f"{source} ({overridden[origin]} {origin})"
    else:
        for depth in range(len(path), 0, -1):
            if path[:depth] in lines:
                where = f"{source}:{lines[path[:depth]]}"
                break
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {dotted or 'config'}: {message}{more}"


def _user_path(loc: tuple, data) -> tuple:
    """Drop pydantic's internal loc parts (union tags, validator names) by following the input."""
    path, node = [], data
    for i, part in enumerate(loc):
        if isinstance(part, str) and _is_internal(part) and i < len(loc) - 1:
            continue  # a union's tag ('dense', 'adam') that happens to be a key of the input too
        if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(str(part))
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not _is_internal(part):
            path.append(part)
            node = None
    return tuple(path)


def _is_internal(part: str) -> bool:
    return part in OPTIMIZER_CONFIGS or part in SCHEDULE_CONFIGS or part in LAYER_TYPES or "[" in part
