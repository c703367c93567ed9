"""The shared base of every config model: unknown keys are errors, with a suggestion."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from .specs import suggest


class Strict(BaseModel):
    """Unknown keys fail with the nearest valid name; nothing is silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data):
        if isinstance(data, dict):
            valid = list(cls.model_fields)
            for key in data:
                if key not in cls.model_fields:
                    raise ValueError(f"unknown key '{key}'{suggest(key, valid)}; valid keys: {', '.join(valid)}")
        return data
