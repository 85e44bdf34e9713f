"""The base of every request and response body: JSON Schema 2020-12 (what OpenAPI 3.1 uses) with explicit nulls."""
from __future__ import annotations

from typing import Any, Dict, Type

from pydantic import BaseModel

NULL = {"type": "null"}
# Keywords that describe a property rather than constrain its value: they stay outside the anyOf of a nullable one.
ANNOTATIONS = ("title", "description", "default", "examples")


def nullable(prop: Dict[str, Any]) -> Dict[str, Any]:
    """The property's schema, also admitting null (pydantic 1 leaves an Optional field's null out of its schema). As
    anyOf rather than a list of types: FastAPI's own model of the document takes one type per schema."""
    if prop.get("type") == "null":
        return prop
    if "$ref" in prop:
        kept, value = {k: v for k, v in prop.items() if k != "$ref"}, {"$ref": prop["$ref"]}
    elif "allOf" in prop and len(prop["allOf"]) == 1:
        kept, value = {k: v for k, v in prop.items() if k != "allOf"}, prop["allOf"][0]
    elif "anyOf" in prop:
        return {**prop, "anyOf": [*prop["anyOf"], NULL]}
    elif "type" in prop:
        kept = {k: v for k, v in prop.items() if k in ANNOTATIONS}
        value = {k: v for k, v in prop.items() if k not in ANNOTATIONS}
    else:
        return prop  # no type: any value, null included
    return {**kept, "anyOf": [value, NULL]}


def _schema_extra(schema: Dict[str, Any], model: Type["ApiModel"]) -> None:
    if not model.__doc__:
        schema.pop("description", None)  # pydantic would show the nearest base class's docstring
    properties = schema.get("properties", {})
    for field in model.__fields__.values():
        name = field.alias
        if name in properties:
            properties[name].pop("title", None)  # pydantic's title is the field's name again, capitalised
        if field.allow_none and name in properties:
            properties[name] = nullable(properties[name])
    if getattr(model.__config__, "every_field_present", False) and properties:
        schema["required"] = list(properties)
    if getattr(model.__config__, "examples", None):
        schema["examples"] = model.__config__.examples


class ApiModel(BaseModel):
    """A body of the API: its Optional fields say so in the schema."""

    class Config:
        schema_extra = staticmethod(_schema_extra)


class Reply(ApiModel):
    """A response body: the server writes every field (null when it has no value), so the schema requires them all;
    fields the server adds beyond these pass through."""

    class Config:
        every_field_present = True
        extra = "allow"

    @classmethod
    def complete(cls, data: Dict[str, Any]) -> Dict[str, Any]:
        """The data with each of this model's fields (null where it has none), unvalidated: for bodies of many numbers
        (attention maps), which validating against the model would take seconds to walk."""
        return {**{field.alias: None for field in cls.__fields__.values()}, **data}
