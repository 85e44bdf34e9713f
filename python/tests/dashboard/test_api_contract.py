"""The API contract: the document at /openapi.json is valid OpenAPI (checked by independent validators), documents
every route with its bodies and error body, and the frontend's committed types are what it generates."""
from __future__ import annotations

import difflib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from api_contract import TYPES, typescript
from api_document import assert_matches, component, response_schema, served

from .conftest import config, make_client, sse_messages, story_text, wait_until

REPO = Path(__file__).resolve().parents[3]
FRONTEND = REPO / "frontend"
CHECKER = FRONTEND / "scripts" / "check-openapi.mjs"

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def document(client) -> dict[str, Any]:
    return served(client)


@pytest.fixture
def app_routes(client) -> set[str]:
    """Every route the app documents, as "METHOD /path"."""
    return {f"{method} {route.path}" for route in client.app.routes if isinstance(route, APIRoute) and route.include_in_schema
            for method in route.methods}


def check(document: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess:
    assert (FRONTEND / "node_modules" / "@seriousme").is_dir(), "run ./build.sh: it installs the frontend's npm packages"
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document))
    return subprocess.run(["node", str(CHECKER), str(path)], capture_output=True, text=True, timeout=120)


def test_the_served_document_is_valid_openapi_3_1(document, tmp_path):
    assert document["openapi"] == "3.1.0"
    out = check(document, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid OpenAPI 3.1.0" in out.stdout


def test_the_checker_refuses_what_a_3_0_document_must_not_hold(document, tmp_path):
    """JSON Schema's numeric exclusiveMinimum (what pydantic writes for gt=0) in a document that declares 3.0, a
    boolean one in a 3.1 document, and a $ref to nothing are each refused."""
    top_p = document["components"]["schemas"]["GenerateBody"]["properties"]["top_p"]
    assert top_p["exclusiveMinimum"] == 0
    as_3_0 = {"openapi": "3.0.2", "info": document["info"], "paths": {},
              "components": {"schemas": {"GenerateBody": {"type": "object", "properties": {"top_p": top_p}}}}}
    out = check(as_3_0, tmp_path)
    assert out.returncode == 1 and "top_p/exclusiveMinimum must be boolean" in out.stdout, out.stdout

    broken = json.loads(json.dumps(document))
    broken["components"]["schemas"]["GenerateBody"]["properties"]["top_p"]["exclusiveMinimum"] = True
    broken["paths"]["/api/status"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/Gone"}
    out = check(broken, tmp_path)
    assert out.returncode == 1, out.stdout
    assert "GenerateBody/properties/top_p/exclusiveMinimum must be number" in out.stdout
    assert "points at nothing: #/components/schemas/Gone" in out.stdout


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def test_every_route_has_its_bodies_and_the_one_error_body(app_routes, document):
    documented = {name for name, _ in operations(document)}
    assert documented == app_routes
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    for name, operation in operations(document):
        successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        assert successes, name
        for code, response in successes.items():
            if code == "204":
                assert "content" not in response, name
                continue
            assert response.get("content"), f"{name} {code} says nothing of its body"
            for media, content in response["content"].items():
                assert content.get("schema") not in (None, {}), f"{name} {code} {media} has no schema"
        for code, response in operation["responses"].items():
            if code[0] in "45" and not name.split()[1].startswith("/v1/"):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, f"{name} {code}"
        body = operation.get("requestBody")
        if body is not None:
            assert all(c.get("schema") not in (None, {}) for c in body["content"].values()), name


def test_a_nullable_field_admits_null_and_a_reply_requires_every_field(document):
    schemas = document["components"]["schemas"]
    summary = schemas["SessionSummary"]
    assert set(summary["required"]) == set(summary["properties"])
    assert summary["properties"]["name"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert summary["properties"]["metrics"]["anyOf"] == [{"$ref": "#/components/schemas/Metrics"}, {"type": "null"}]
    assert summary["properties"]["last_seq"] == {"type": "integer"}
    create = schemas["SessionCreate"]
    assert create.get("required", []) == []  # a request body's fields with defaults stay optional


def test_every_example_matches_its_schema(document):
    """The examples /docs shows: each component's, and each request's or response's (the error bodies' by status)."""
    checked = 0
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            assert_matches(document, component(name), example)
            checked += 1
    for name, operation in operations(document):
        contents = [operation.get("requestBody", {}).get("content", {}), *(r.get("content", {}) for r in operation["responses"].values())]
        for content in contents:
            for media in content.values():
                if "example" in media:
                    assert_matches(document, media["schema"], media["example"])
                    checked += 1
    assert checked > 100  # every error response of the dashboard's routes has one


def committed_types() -> str:
    """The types as committed (./build.sh rewrites the working copy from the current document, so that cannot show
    a stale commit); outside a git checkout, the file as it is."""
    shown = subprocess.run(["git", "show", f"HEAD:{TYPES.relative_to(REPO)}"], cwd=REPO, capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else TYPES.read_text()


def test_the_committed_frontend_types_are_generated_from_the_served_document(document):
    generated = typescript(document)
    committed = committed_types()
    if generated != committed:
        diff = "".join(list(difflib.unified_diff(committed.splitlines(True), generated.splitlines(True), "committed", "generated"))[:60])
        pytest.fail(f"the committed {TYPES.relative_to(REPO)} differs from what the served document generates: "
                    f"commit the file ./build.sh (or python tools/api_contract.py) wrote:\n{diff}")


def test_real_answers_and_streamed_data_match_the_document(client, trained, document):
    """What FastAPI does not check against the models: the data of a streamed generation (each piece and the final
    Generation) and the error body of a refusal; and, through the document's own schemas, a session and a model."""
    r = client.post(f"/api/models/{trained}/generate", json={"prompt": "Tom ", "max_tokens": 6, "seed": 1, "top_logprobs": 2, "stream": True})
    messages = sse_messages(r.text)
    assert [m["event"] for m in messages] == ["message"] * 6 + ["done"]
    for m in messages[:-1]:
        assert_matches(document, component("GenerationToken"), m["data"])
        assert m["data"]["choice"] is not None
    assert_matches(document, component("Generation"), messages[-1]["data"])

    session = client.get("/api/sessions").json()[0]["id"]
    for path, schema in [(f"/api/sessions/{session}", "SessionDetail"), (f"/api/models/{trained}", "ModelInspect"),
                         ("/api/status", "Status")]:
        r = client.get(path)
        assert r.status_code == 200, r.text
        assert_matches(document, response_schema(document, "get", path.replace(session, "{session_id}").replace(trained, "{name}"), 200),
                       r.json())
        assert_matches(document, component(schema), r.json())

    refused = client.post("/api/sessions", json={"text": "some text", "config": {"hidden_size": 100}})
    assert refused.status_code == 422
    assert_matches(document, response_schema(document, "post", "/api/sessions", 422), refused.json())
    assert refused.json()["errors"][0]["field"] == "hidden_size"


def test_refusals_without_a_field_or_a_session_match_the_document(data_dir, document):
    """A config beyond the memory budget is no single field's fault (field null); /logs before any session is a 404."""
    with make_client(data_dir, memory_budget_bytes=100 * 1024 * 1024) as client:
        r = client.post("/api/sessions", json={"text": story_text(), "config": config()})
        assert r.status_code == 422, r.text
        assert_matches(document, response_schema(document, "post", "/api/sessions", 422), r.json())
        assert r.json()["errors"][0]["field"] is None
        r = client.get("/logs")
        assert r.status_code == 404, r.text
        assert_matches(document, response_schema(document, "get", "/logs", 404), r.json())


def test_an_attention_snapshot_taken_now_matches_the_document(client, document):
    """Answered without validating against the model (its maps are many numbers), so checked here."""
    r = client.post("/api/sessions", json={"text": story_text(), "config": config(), "start": False})
    assert r.status_code == 201, r.text
    path = f"/api/sessions/{r.json()['id']}/attention"
    wait_until(lambda: client.get(path.rsplit("/", 1)[0]).json()["state"] == "ready", what="the worker to be ready")
    r = client.post(path, json={"text": "Tom saw Anna"})
    assert r.status_code == 200, r.text
    snapshot = r.json()
    assert_matches(document, response_schema(document, "post", "/api/sessions/{session_id}/attention", 200), snapshot)
    assert len(snapshot["maps"]) == snapshot["layers"] == 1 and len(snapshot["maps"][0]) == snapshot["heads"] == 2
    assert [len(row) for row in snapshot["maps"][0][0]] == list(range(1, len(snapshot["tokens"]) + 1))
