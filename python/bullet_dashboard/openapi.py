"""The API document served at /openapi.json: OpenAPI 3.1, whose schema dialect (JSON Schema 2020-12) is the one the
body models write, with the dashboard's one error body in place of FastAPI's default validation error."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Type

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.schema import schema as pydantic_schema

from .schemas.base import ApiModel

OPENAPI_VERSION = "3.1.0"
SCHEMAS = "#/components/schemas/"
# FastAPI documents a 422 of every route with a body or parameters as these; the app answers with ErrorBody instead.
FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
# An ErrorBody as each status typically carries it (a route's own sentences differ; the shape does not).
ERROR_EXAMPLES = {
    "400": {"detail": "invalid dataset name '../etc': use 1-80 letters, digits, '.', '-' or '_', starting with a letter or digit"},
    "403": {"detail": "'poetry' is a bundled dataset and cannot be deleted"},
    "409": {"detail": "a dataset named 'letters' already exists; delete it first or choose another name"},
    "413": {"detail": "the upload is larger than the limit of 50 MB"},
    "415": {"detail": "unsupported file type '.pdf': upload one of .txt, .md, .jsonl, .docx"},
    "422": {"detail": "hidden_size -1 must be a positive multiple of 32",
            "errors": [{"field": "hidden_size", "message": "hidden_size -1 must be a positive multiple of 32"}]},
    "503": {"detail": 'session 20261207-072658-040301: the training worker (pid 4242) did not answer "pause" within 30 s'},
}
# A 404's sentence names what was not found, by the route's first path segment after /api.
NOT_FOUND_EXAMPLES = {"datasets": {"detail": "no dataset named 'letters'"}, "models": {"detail": "no model named 'storyteller'"},
                      "sessions": {"detail": "no session '20261207-072658-040301'"}}


def _replace_refs(node: Any, old: str, new: str) -> Any:
    """The node with every $ref to ``old`` pointing at ``new`` instead."""
    if isinstance(node, dict):
        return {k: (new if k == "$ref" and v == old else _replace_refs(v, old, new)) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_refs(v, old, new) for v in node]
    return node


def _error_example(path: str, code: str) -> Dict[str, Any] | None:
    """The example ErrorBody of a route's refusal with this status (the /download and /train routes concern models)."""
    if code == "404":
        return NOT_FOUND_EXAMPLES.get(path.split("/")[2] if path.startswith("/api/") else "models")
    return ERROR_EXAMPLES.get(code)


def _too_large_bodies(document: Dict[str, Any]) -> None:
    """Every request with a body may be refused for its size, before any route sees it (the app's body limit)."""
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            if "requestBody" in operation and not path.startswith("/v1/"):
                operation["responses"].setdefault("413", {"description": "a body larger than the server's limit",
                                                          "content": {"application/json": {"schema": {"$ref": SCHEMAS + "ErrorBody"}}}})


def _error_bodies(document: Dict[str, Any]) -> None:
    """Refusals are JSON whatever the route answers when it succeeds (FastAPI gives an event stream's errors its media
    type), and an ErrorBody shows the example of its status."""
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content")
                if code[0] not in "45" or not content:
                    continue
                if "application/json" not in content:
                    response["content"] = content = {"application/json": next(iter(content.values()))}
                media = content["application/json"]
                example = _error_example(path, code)
                if media.get("schema") == {"$ref": SCHEMAS + "ErrorBody"} and example is not None:
                    media["example"] = example


def _subclasses(model: Type[BaseModel]) -> Iterable[Type[BaseModel]]:
    for sub in model.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def component_schemas(models: Iterable[Type[BaseModel]]) -> Dict[str, Any]:
    """The schemas of models no route names directly (bodies of streamed events, OpenAI's shapes), as components."""
    return pydantic_schema(list(models), ref_template=SCHEMAS + "{model}")["definitions"]


def api_document(app: FastAPI, extra_models: Iterable[Type[BaseModel]] = ()) -> Dict[str, Any]:
    """The app's OpenAPI 3.1 document (made once, then cached on the app as FastAPI does)."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, openapi_version=OPENAPI_VERSION,
                               description=app.description, routes=app.routes, tags=app.openapi_tags)
        for name in FASTAPI_ERRORS:
            document = _replace_refs(document, SCHEMAS + name, SCHEMAS + "ErrorBody")
        _too_large_bodies(document)
        _error_bodies(document)
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for name in FASTAPI_ERRORS:
            components.pop(name, None)
        for name, schema in component_schemas(extra_models).items():
            components.setdefault(name, schema)
        # FastAPI writes its document without None values, the nulls of examples included: the models' own go back.
        for model in _subclasses(ApiModel):
            examples = getattr(model.__config__, "examples", None)
            if examples and model.__name__ in components:
                components[model.__name__]["examples"] = examples
        document["components"]["schemas"] = dict(sorted(components.items()))
        app.openapi_schema = document
    return app.openapi_schema
