"""Planning: ``plan(data, overrides)`` -> :class:`Plan`, pure data, no I/O. A sweep is a
plan of many trials; ``plan_run`` makes the one-trial plan of ``nnlab run``.

A study is the product of its axes, in this order (the last varies fastest):
grid axes (cartesian), the zip group (paired values), the random draws, and seeds
(replicates, not a hyperparameter). Axes come from the config's ``sweep:`` section and
from the command line: ``model.activation=relu,sigmoid`` or ``seed=range(0,5)`` adds an
axis; a single value is an ordinary override of the base config.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..config import (
    Experiment,
    apply_overrides,
    parse_yaml_value,
    set_path,
    split_override,
    split_top_level,
    validate,
)
from ..config.overrides import check_unique_keys
from ..errors import ConfigError
from ..results.naming import trial_name


@dataclass(frozen=True)
class Trial:
    id: str                   # '<slug of swept values>-<config hash>'
    values: dict              # swept key path -> value, in axis order (seed last)
    experiment: Experiment    # fully resolved, sweep section removed
    config_hash: str          # what finds the trial's folder again, whatever its slug


@dataclass
class Plan:
    study: str
    base: dict                # the resolved base config (sweep section included)
    axes: list[str]           # swept key paths, seed last if replicated
    trials: list[Trial] = field(default_factory=list)


def parse_axis_values(text: str) -> list:
    """'relu,sigmoid' -> ['relu', 'sigmoid']; 'range(0,5)' -> [0..4]; '[64,32]' stays one value."""
    text = text.strip()
    if text.startswith("range(") and text.endswith(")"):
        try:
            args = ast.literal_eval(f"({text[6:-1]},)")
            if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                raise ValueError
            values = range(*args)
        except (ValueError, SyntaxError, TypeError):
            raise ConfigError(f"cannot read '{text}': write range(stop), range(start, stop) or range(start, stop, step) with integers") from None
        if len(values) > MAX_TRIALS:
            raise ConfigError(f"'{text}' has {len(values)} values; a study plans at most {MAX_TRIALS} trials")
        return list(values)
    return [parse_yaml_value(part) for part in split_top_level(text)]


# A study bigger than this is a typo (range(0, 1e9)) or needs a different tool; refusing it
# before expanding keeps the planner from filling the memory.
MAX_TRIALS = 10_000


def split_axes(overrides: list[str]) -> tuple[list[str], dict[str, list]]:
    """Separate single-value overrides from sweep axes (comma lists and ranges)."""
    check_unique_keys(overrides)
    fixed, axes = [], {}
    for text in overrides:
        key, raw = split_override(text)
        values = parse_axis_values(raw)
        if len(values) == 1 and not raw.strip().startswith("range("):
            fixed.append(text)
        else:
            if not values:
                raise ConfigError(f"sweep axis '{text}' has no values")
            axes[key] = values
    return fixed, axes


def _draw(spec, rng: np.random.Generator):
    """One value from a random-search spec; floats rounded to 4 significant digits so
    trial ids stay readable (the rounded value is the one trained with)."""
    if isinstance(spec, list):
        return spec[int(rng.integers(len(spec)))]
    (kind, args), = spec.items()
    if kind == "choice":
        return args[int(rng.integers(len(args)))]
    if kind == "int":
        return int(rng.integers(args[0], args[1] + 1))
    if kind == "uniform":
        value = rng.uniform(args[0], args[1])
    else:
        value = math.exp(rng.uniform(math.log(args[0]), math.log(args[1])))
    return float(f"{value:.4g}")


def plan(data: dict, overrides: list[str] | tuple = (), source: str = "<config>", lines: dict | None = None) -> Plan:
    """Expand a study. ``data`` is the YAML mapping as read; raises ConfigError naming the
    axis and key path for any trial that would not validate."""
    fixed, cli_axes = split_axes(list(overrides))
    base_data = apply_overrides(data, fixed)
    _drop_overridden_axes(base_data, [split_override(o)[0] for o in fixed])
    cli_seeds = cli_axes.pop("seed", None)
    if cli_axes or cli_seeds is not None:
        sweep = base_data.get("sweep") or {}
        if not isinstance(sweep, dict):
            raise ConfigError(f"{source}: sweep must be a mapping (grid, zip, random, seeds)")
        sweep = dict(sweep)
        sweep["grid"] = {**(sweep.get("grid") or {}), **cli_axes}
        if cli_seeds is not None:
            sweep["seeds"] = cli_seeds
        base_data["sweep"] = sweep
    overridden = {split_override(o)[0]: "override" for o in fixed}
    overridden.update(dict.fromkeys(cli_axes, "sweep axis"))
    if cli_seeds is not None:
        overridden["sweep.seeds"] = "sweep axis"
    base = validate(base_data, source, lines, overridden)
    sweep = base.sweep
    points: list[list[dict]] = []   # one list of alternatives per axis group
    axes: list[str] = []
    if sweep is not None:
        for key, values in sweep.grid.items():
            points.append([{key: v} for v in values])
            axes.append(key)
        if sweep.zip:
            n = len(next(iter(sweep.zip.values())))
            points.append([{key: values[i] for key, values in sweep.zip.items()} for i in range(n)])
            axes.extend(sweep.zip)
        if sweep.random is not None:
            rng = np.random.default_rng(sweep.random.seed)
            points.append([{key: _draw(spec, rng) for key, spec in sweep.random.params.items()}
                           for _ in range(sweep.random.n)])
            axes.extend(sweep.random.params)
        seeds = sweep.seed_list()
        if seeds is not None:
            points.append([{"seed": s} for s in seeds])
            axes.append("seed")
    size = math.prod(len(group) for group in points) if points else 1
    if size > MAX_TRIALS:
        raise ConfigError(f"{source}: the sweep plans {size} trials ({' x '.join(str(len(g)) for g in points)}); "
                          f"a study plans at most {MAX_TRIALS}")
    resolved_base = base.resolved()
    trial_base = {k: v for k, v in resolved_base.items() if k != "sweep"}
    result = Plan(study=base.name, base=resolved_base, axes=axes)
    seen = set()
    for combo in itertools.product(*points) if points else [()]:
        values = {k: v for part in combo for k, v in part.items()}
        exp = _trial_experiment(trial_base, values, source)
        config_hash = exp.config_hash()
        if config_hash in seen:  # two axis points that resolve to the same config run once
            continue
        seen.add(config_hash)
        result.trials.append(Trial(trial_name(values, config_hash), values, exp, config_hash))
    if points and len(seen) < math.prod(len(group) for group in points):
        _refuse_idle_axes(trial_base, points, source)
    return result


def _trial_experiment(trial_base: dict, values: dict, source: str) -> Experiment:
    labels = dict.fromkeys(values, "sweep axis")
    return validate(_with_values(trial_base, values), f"{source} ({', '.join(f'{k}={v}' for k, v in values.items())})",
                    None, labels)


def _drop_overridden_axes(data: dict, keys: list[str]) -> None:
    """A single-value override of a key the file sweeps fixes that key: its axis goes."""
    sweep = data.get("sweep")
    if not isinstance(sweep, dict):
        return
    for key in keys:
        for section in ("grid", "zip"):
            if isinstance(sweep.get(section), dict):
                sweep[section].pop(key, None)
        random = sweep.get("random")
        if isinstance(random, dict) and isinstance(random.get("params"), dict):
            random["params"].pop(key, None)
            if not random["params"]:
                sweep.pop("random")
        if key == "seed":
            sweep.pop("seeds", None)


def _refuse_idle_axes(trial_base: dict, points: list[list[dict]], source: str) -> None:
    """An axis whose values all give the same trial config is a mistake (e.g. sweeping
    `description`, which is not part of a trial's identity): say which one."""
    first = [group[0] for group in points]
    for g, group in enumerate(points):
        if len({json.dumps(alternative, sort_keys=True, default=str) for alternative in group}) < 2:
            continue  # one value listed twice runs once; only distinct values that change nothing are an error
        hashes = set()
        for alternative in group:
            values = {k: v for part in first[:g] + [alternative] + first[g + 1:] for k, v in part.items()}
            hashes.add(_trial_experiment(trial_base, values, source).config_hash())
        if len(hashes) == 1:
            keys = ", ".join(group[0])
            raise ConfigError(f"{source}: sweep axis {keys}: its {len(group)} values all give the same trial config "
                              f"({keys} does not change what is trained); drop the axis")


def plan_run(data: dict, overrides: list[str] | tuple = (), source: str = "<config>",
             lines: dict | None = None) -> Plan:
    """The one-trial plan of ``nnlab run``: overrides apply to the file's config, the
    ``sweep:`` section is not expanded, and a comma list is refused (it is a sweep axis).
    The trial is named after the overridden keys (``run`` without any)."""
    overrides = list(overrides)
    fixed = apply_overrides(data, overrides)
    exp = validate(fixed, source, lines, {split_override(o)[0]: "override" for o in overrides})
    if exp.sweep is not None:  # the whole file must be valid, its sweep axes included
        plan(fixed, [], source, lines)
    resolved = exp.resolved()
    values = {key: parse_yaml_value(raw) for key, raw in map(split_override, overrides)}
    trial_exp = validate({k: v for k, v in resolved.items() if k != "sweep"}, source)
    config_hash = exp.config_hash()
    return Plan(study=exp.name, base=resolved, axes=[],
                trials=[Trial(trial_name(values, config_hash), values, trial_exp, config_hash)])


def _with_values(base: dict, values: dict) -> dict:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    data = apply_overrides(data, [])  # deep copy
    for key, value in values.items():
        set_path(data, key, value)
    return data


def load_plan(config, overrides: list[str] | tuple = (), single: bool = False) -> Plan:
    """The plan of a config file with command-line overrides: its sweep (``nnlab sweep``), or
    with ``single`` its one base trial (``nnlab run``). The study is named after the file
    unless the config says ``name``."""
    from pathlib import Path

    from ..config import read_yaml

    config = Path(config)
    data, lines = read_yaml(config)
    data.setdefault("name", config.stem)
    return (plan_run if single else plan)(data, list(overrides), str(config), lines)
