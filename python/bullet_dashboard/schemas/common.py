"""Bodies every part of the API shares: the error body, a text, a training config."""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional

from pydantic import Field

from .base import ApiModel, Reply


class FieldError(Reply):
    """One field of a request that was refused, and why."""
    field: Optional[str] = Field(..., description='the field, e.g. "hidden_size" or "body.steps"; null when no single field is at fault '
                                                  "(a config beyond the memory budget)")
    message: str


class ErrorBody(Reply):
    """Every refusal: a sentence for a person and, for a config or a request body, the fields at fault."""
    detail: str = Field(..., description="what went wrong, for a person")
    errors: Optional[List[FieldError]] = Field(None, description="the fields at fault (a config's, or a request body's)")

    class Config:
        every_field_present = False  # "errors" is only there when fields are at fault


class ConfigValue:
    """A training config's value: a string, a number or a boolean (the native library checks each one)."""

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[[Any], Any]]:
        yield lambda value: value

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(anyOf=[{"type": "string"}, {"type": "number"}, {"type": "boolean"}])


TrainConfig = Dict[str, ConfigValue]


class TextBody(ApiModel):
    """A text to measure."""
    text: str = Field(..., description="UTF-8 text")
