"""Call-style specs: ``relu``, ``leaky_relu(0.2)``, ``normal(std=0.01)``, or a mapping
``{name: normal, std: 0.01}``. Parsed with :mod:`ast` (literals only, nothing is evaluated)
and checked against a registry: a plain dict of YAML name -> callable.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import math
from collections.abc import Callable


def suggest(word: str, choices) -> str:
    """' (did you mean 'x'?)' for the nearest choice, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def require_choice(value, choices, what: str) -> None:
    """ValueError "unknown <what> 'x' (did you mean 'y'?); choose from a, b, c" unless value is a choice."""
    if value not in choices:
        raise ValueError(f"unknown {what} '{value}'{suggest(value, choices)}; choose from {', '.join(choices)}")


def parameters(func: Callable, skip: int) -> dict[str, object]:
    """Parameters of ``func`` after the first ``skip`` positional ones, with defaults.

    Keyword-only parameters are the code's, not the user's (an initializer's ``shape``)."""
    sig = inspect.signature(func)
    names = [p for p in sig.parameters.values() if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD][skip:]
    return {p.name: (None if p.default is inspect.Parameter.empty else p.default) for p in names}


def parse_spec(value, registry: dict, what: str, skip: int,
               check: Callable[[str, dict], str | None] | None = None) -> tuple[str, dict]:
    """Parse ``value`` into ``(name, kwargs)`` with every parameter filled.

    ``skip`` is how many leading positional arguments the registry's callables take
    that are not user parameters (e.g. fan_in, fan_out, rng, dtype for initializers).
    """
    if isinstance(value, dict):
        if "name" not in value:
            raise ValueError(f"a {what} mapping needs a 'name' key, e.g. {{name: {next(iter(registry))}}}")
        name, args, kwargs = value["name"], [], {k: v for k, v in value.items() if k != "name"}
    elif isinstance(value, str):
        name, args, kwargs = _parse_call(value.strip(), what)
    else:
        raise ValueError(f"expected a {what} name such as '{next(iter(registry))}', got {value!r}")
    require_choice(name, registry, what)
    defaults = parameters(registry[name], skip)
    if len(args) > len(defaults):
        raise ValueError(f"{what} '{name}' takes {len(defaults)} argument(s) ({', '.join(defaults) or 'none'}), got {len(args)}")
    resolved = dict(defaults)
    resolved.update(zip(defaults, args, strict=False))
    for key, val in kwargs.items():
        if key not in defaults:
            valid = ", ".join(defaults) or "none"
            raise ValueError(f"{what} '{name}' has no parameter '{key}'{suggest(key, defaults)}; parameters: {valid}")
        resolved[key] = val
    for key, val in resolved.items():
        if val is None:
            raise ValueError(f"{what} '{name}' needs {key}, e.g. {name}({key}=0.1)")
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            raise ValueError(f"{what} '{name}': {key} must be a number, got {val!r}")
        if not math.isfinite(val):
            raise ValueError(f"{what} '{name}': {key} must be a finite number, got {val!r}")
        resolved[key] = float(val)
    problem = check(name, resolved) if check else None
    if problem:
        raise ValueError(f"{what} '{name}': {problem}")
    return name, resolved


def format_spec(name: str, kwargs: dict) -> str:
    """Canonical text form, e.g. ``leaky_relu(alpha=0.01)``; bare name without parameters."""
    if not kwargs:
        return name
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def canonical(value, registry: dict, what: str, skip: int,
              check: Callable[[str, dict], str | None] | None = None) -> str:
    return format_spec(*parse_spec(value, registry, what, skip, check))


# The two kinds of spec a config holds. Initializers take (fan_in, fan_out, rng, dtype)
# before their own parameters; activations are classes, whose signature leaves out self.
INIT_SKIP, ACTIVATION_SKIP = 4, 0


def check_initializer(name: str, kwargs: dict) -> str | None:
    """Why an initializer's parameters cannot work, or None."""
    if name == "normal" and kwargs["std"] <= 0:
        return f"std must be > 0, got {kwargs['std']} (zeros or constant(value) for a fixed init)"
    if name == "uniform" and not kwargs["a"] < kwargs["b"]:
        return f"uniform(a, b) needs a < b, got a={kwargs['a']}, b={kwargs['b']}"
    return None


def check_activation(name: str, kwargs: dict) -> str | None:
    if name == "elu" and kwargs["alpha"] < 0:
        return f"alpha must be >= 0, got {kwargs['alpha']}"
    return None


def _parse_call(text: str, what: str) -> tuple[str, list, dict]:
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise ValueError(f"cannot read {what} '{text}': write name or name(arg, key=value)") from None
    if isinstance(node, ast.Name):
        return node.id, [], {}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        except ValueError:
            raise ValueError(f"{what} '{text}': arguments must be numbers") from None
        return node.func.id, args, kwargs
    raise ValueError(f"cannot read {what} '{text}': write name or name(arg, key=value)")
