"""JSON checked against the app's OpenAPI document: the schemas its routes declare, with their `#/components/schemas/...`
references resolved inside the document (OpenAPI 3.1 schemas are JSON Schema 2020-12)."""
from __future__ import annotations

from typing import Any, Dict, List

from jsonschema import Draft202012Validator, RefResolver

Schema = Dict[str, Any]


def served(client: Any) -> Schema:
    """The document the app of a test client serves at /openapi.json."""
    r = client.get("/openapi.json")
    assert r.status_code == 200, r.text
    return r.json()


def component(name: str) -> Schema:
    """A schema that is the document's component `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


def request_schema(document: Schema, method: str, path: str, media_type: str = "application/json") -> Schema:
    """The schema of a route's request body, as the document declares it."""
    return document["paths"][path][method.lower()]["requestBody"]["content"][media_type]["schema"]


def response_schema(document: Schema, method: str, path: str, status: int, media_type: str = "application/json") -> Schema:
    """The schema of a route's response with `status`, as the document declares it."""
    return document["paths"][path][method.lower()]["responses"][str(status)]["content"][media_type]["schema"]


def schema_errors(document: Schema, schema: Schema, instance: Any) -> List[str]:
    """Where and why `instance` does not match `schema` (empty when it does)."""
    validator = Draft202012Validator(schema, resolver=RefResolver.from_schema(document))
    return [f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}" for error in validator.iter_errors(instance)]


def assert_matches(document: Schema, schema: Schema, instance: Any) -> None:
    """Fails with every mismatch when `instance` does not match `schema`."""
    errors = schema_errors(document, schema, instance)
    assert not errors, f"{instance!r} does not match {schema}:\n" + "\n".join(errors)
