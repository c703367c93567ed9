"""The shared base of every config model: unknown keys are errors, with a suggestion."""

from __future__ import annotations

import inspect
import re
import types
import typing

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from .specs import suggest


def _takes_numbers(annotation) -> bool:
    """True for int/float fields (optionally in a Union or Annotated), False where a bool is meant."""
    if annotation in (int, float):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _takes_numbers(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return bool not in args and any(_takes_numbers(a) for a in args)
    return False


_MODELS: list[type[BaseModel]] = []


def json_schema(model: type[BaseModel]) -> dict:
    """The JSON Schema of ``model``, with each field's description taken from the comment
    beside its default (``lr: float = 0.01  # why``), so `nnlab schema` and editors show
    the reason the code gives. Done here, not at import: rebuilding every model costs
    every command tens of milliseconds."""
    for cls in _MODELS:
        changed = False
        for klass in [c for c in cls.__mro__ if c in _MODELS]:  # inherited fields keep their base's comment
            try:
                source = inspect.getsource(klass)
            except (OSError, TypeError):
                continue
            for match in re.finditer(r"^    (\w+): [^\n#]*#\s*(.+)$", source, re.M):
                name, comment = match.groups()
                field = cls.model_fields.get(name)
                if field is not None and not field.description:
                    field.description = comment.strip()
                    changed = True
        if changed:
            cls.model_rebuild(force=True)
    model.model_rebuild(force=True)
    return model.model_json_schema()


class Strict(BaseModel):
    """Unknown keys fail with the nearest valid name; nothing is silently ignored.

    Numbers must be finite (no .inf or .nan), and a boolean is not a number: pydantic would
    read ``epochs: true`` as 1, which is never what was meant."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _MODELS.append(cls)  # in definition order: a model is defined after the models it holds

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value, info: ValidationInfo):
        if isinstance(value, bool) and info.field_name and _takes_numbers(cls.model_fields[info.field_name].annotation):
            raise ValueError(f"expected a number, got a boolean ({str(value).lower()})")
        return value

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data):
        if isinstance(data, dict):
            valid = list(cls.model_fields)
            for key in data:
                if key not in cls.model_fields:
                    raise ValueError(f"unknown key '{key}'{suggest(key, valid)}; valid keys: {', '.join(valid)}")
        return data
