"""The OpenAI-compatible routes' shapes in the served OpenAPI document are OpenAI's documented ones, checked two ways:
the TypeScript types generated from the document fit the types of the official client (npm openai, pinned in
tools/openai; tools/openai/shapes.ts, compiled by tsc), and real answers of the dashboard's /v1 routes match the
document's schemas (jsonschema), as do the bodies the server accepts; the bodies it refuses, the schemas refuse too."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest
from fastapi.testclient import TestClient

from api_contract import TYPES
from api_document import assert_matches, component, request_schema, response_schema, schema_errors, served
from conftest import write_model  # python/tests/conftest.py

from .conftest import make_client

REPO = Path(__file__).resolve().parents[3]
OPENAI_DIR = REPO / "tools" / "openai"
TSC = REPO / "frontend" / "node_modules" / ".bin" / "tsc"
MODEL = "dash"
COMPLETIONS, CHAT = "/v1/completions", "/v1/chat/completions"
# Bodies of both kinds that use every kind of field the answers have (log probabilities included).
BODIES = {
    COMPLETIONS: {"model": MODEL, "prompt": "abc", "max_tokens": 6, "temperature": 0, "logprobs": 2, "stop": ["zzz"]},
    CHAT: {"model": MODEL, "messages": [{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": [{"type": "text", "text": "abc"}]}],
           "max_tokens": 6, "temperature": 0.7, "seed": 3, "logprobs": True, "top_logprobs": 2},
}
CHUNKS = {COMPLETIONS: "OpenAICompletionChunk", CHAT: "OpenAIChatCompletionChunk"}


def tsc(config: Path) -> subprocess.CompletedProcess:
    assert TSC.exists(), f"{TSC} is missing: run ./build.sh (it installs the frontend's npm packages)"
    assert (OPENAI_DIR / "node_modules" / "openai").is_dir(), "run ./build.sh test once: it installs npm openai into tools/openai"
    assert TYPES.exists(), f"{TYPES} is missing: run ./build.sh (it generates the types from the document)"
    return subprocess.run([str(TSC), "-p", str(config)], capture_output=True, text=True, timeout=300)


def test_the_generated_types_fit_the_official_clients_types():
    out = tsc(OPENAI_DIR / "tsconfig.json")
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_type_check_rejects_a_wrong_field(tmp_path):
    fixture = tmp_path / "wrong.ts"
    fixture.write_text(f"""
import type OpenAI from "{OPENAI_DIR}/node_modules/openai/index";
import type {{ Fits, Misfits }} from "{OPENAI_DIR}/shapes";
import type {{ components }} from "{TYPES.with_suffix('')}";
type Model = Omit<components["schemas"]["OpenAIModel"], "created"> & {{ created: string }};
export type WrongResponse = Fits<Model, OpenAI.Models.Model>;
type Request = Omit<components["schemas"]["OpenAICompletionCreateParams"], "stop"> & {{ stop?: number }};
export type WrongRequest = Fits<Misfits<Request, OpenAI.Completions.CompletionCreateParams>, never>;
""")
    (tmp_path / "tsconfig.json").write_text(json.dumps({"extends": str(OPENAI_DIR / "tsconfig.json"), "files": [str(fixture)]}))
    out = tsc(tmp_path / "tsconfig.json")
    errors = [line for line in out.stdout.splitlines() if "error TS" in line]
    assert out.returncode != 0 and len(errors) == 2 and all("wrong.ts(" in line for line in errors), out.stdout
    assert "Types of property 'created' are incompatible" in out.stdout, out.stdout
    assert "Type '\"stop\"' is not assignable to type 'never'" in out.stdout, out.stdout


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data = tmp_path_factory.mktemp("contract") / "data"
    write_model(data / "models", MODEL)
    with make_client(data) as c:
        yield c


@pytest.fixture(scope="module")
def document(client: TestClient) -> Dict[str, Any]:
    return served(client)


def answered(client: TestClient, document: Dict[str, Any], method: str, path: str, status: int, route: str = "", **kwargs: Any) -> Any:
    """The JSON answer of a request, after checking its status and that it matches the document's schema for it."""
    r = client.request(method, path, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert_matches(document, response_schema(document, method, route or path, status), r.json())
    return r.json()


def test_the_model_routes_answer_as_documented(client, document):
    models = answered(client, document, "GET", "/v1/models", 200)
    assert [m["id"] for m in models["data"]] == [MODEL]
    model = answered(client, document, "GET", f"/v1/models/{MODEL}", 200, "/v1/models/{model}")
    assert model == models["data"][0]
    missing = answered(client, document, "GET", "/v1/models/nope", 404, "/v1/models/{model}")
    assert missing["error"]["code"] == "model_not_found"


@pytest.mark.parametrize("path", [COMPLETIONS, CHAT])
def test_a_completion_answers_as_documented(client, document, path):
    body = BODIES[path]
    assert_matches(document, request_schema(document, "POST", path), body)
    answer = answered(client, document, "POST", path, 200, json=body)
    assert answer["choices"][0]["logprobs"] is not None  # so its schema was checked too
    missing = answered(client, document, "POST", path, 404, json={**body, "model": "nope"})
    assert missing["error"]["param"] == "model"


def data_messages(body: str) -> List[str]:
    """The data of each Server-Sent Events message (comments such as keep-alives have none)."""
    return [line[len("data: "):] for block in body.split("\n\n") for line in block.splitlines() if line.startswith("data: ")]


@pytest.mark.parametrize("path", [COMPLETIONS, CHAT])
def test_a_stream_sends_the_documented_chunks(client, document, path):
    body = {**BODIES[path], "stream": True, "stream_options": {"include_usage": True}}
    assert_matches(document, request_schema(document, "POST", path), body)
    assert CHUNKS[path] in response_schema(document, "POST", path, 200, "text/event-stream")["description"]
    r = client.post(path, json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    messages = data_messages(r.text)
    assert messages[-1] == "[DONE]"
    chunks = [json.loads(m) for m in messages[:-1]]
    for chunk in chunks:
        assert_matches(document, component(CHUNKS[path]), chunk)
    assert any(c["choices"] and c["choices"][0]["logprobs"] for c in chunks)
    assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_a_wrong_api_key_gets_the_documented_refusal(tmp_path, document):
    with make_client(tmp_path / "data", token="s3cret") as guarded:
        refusal = answered(guarded, document, "GET", "/v1/models", 401, headers={"Authorization": "Bearer wrong"})
    assert refusal["error"]["code"] == "invalid_api_key"


def test_a_body_over_the_limit_gets_the_documented_refusal(tmp_path, document):
    with make_client(tmp_path / "data", max_upload_bytes=1000) as small:
        refusal = answered(small, document, "POST", COMPLETIONS, 413, json=completion(prompt="a" * (2 * 1024 * 1024)))
    assert refusal["error"]["code"] == "request_too_large" and "larger than the limit" in refusal["error"]["message"]


def completion(**fields: Any) -> Dict[str, Any]:
    return {"model": MODEL, "prompt": "a", "max_tokens": 2, **fields}


def chat(**fields: Any) -> Dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": "a"}], "max_tokens": 2, **fields}


# Bodies the server refuses, one wrong parameter each, and the parameter its 400 names.
REFUSED = [
    (COMPLETIONS, {"prompt": "a"}, "model"),
    (COMPLETIONS, completion(max_tokens=0), "max_tokens"),
    (COMPLETIONS, completion(temperature=2.5), "temperature"),
    (COMPLETIONS, completion(top_p=0), "top_p"),
    (COMPLETIONS, completion(top_k=-1), "top_k"),
    (COMPLETIONS, completion(repetition_penalty=0), "repetition_penalty"),
    (COMPLETIONS, completion(seed=2 ** 60), "seed"),
    (COMPLETIONS, completion(stop=5), "stop"),
    (COMPLETIONS, completion(stop=[""]), "stop"),
    (COMPLETIONS, completion(stop=["a", "b", "c", "d", "e"]), "stop"),
    (COMPLETIONS, completion(n=2), "n"),
    (COMPLETIONS, completion(presence_penalty=0.5), "presence_penalty"),
    (COMPLETIONS, completion(logit_bias={"5": 1}), "logit_bias"),
    (COMPLETIONS, completion(echo=True), "echo"),
    (COMPLETIONS, completion(best_of=2), "best_of"),
    (COMPLETIONS, completion(suffix="x"), "suffix"),
    (COMPLETIONS, completion(logprobs=21), "logprobs"),
    (COMPLETIONS, completion(prompt=["a", "b"]), "prompt"),
    (COMPLETIONS, completion(messages=[]), "messages"),
    (COMPLETIONS, completion(stream_options={"include_usage": "yes"}), "stream_options"),
    (CHAT, {**chat(), "messages": []}, "messages"),
    (CHAT, {**chat(), "messages": [{"role": "tool", "content": "a"}]}, "messages[0]"),
    (CHAT, {**chat(), "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "messages[0]"),
    (CHAT, chat(tools=[{"type": "function", "function": {"name": "f"}}]), "tools"),
    (CHAT, chat(response_format={"type": "json_object"}), "response_format"),
    (CHAT, chat(logprobs=True, top_logprobs=21), "top_logprobs"),
    (CHAT, chat(prompt="a"), "prompt"),
]


@pytest.mark.parametrize("path, body, param", REFUSED, ids=[f"{p.split('/')[-1]}-{param}" for p, _, param in REFUSED])
def test_what_the_server_refuses_the_schema_refuses(client, document, path, body, param):
    assert schema_errors(document, request_schema(document, "POST", path), body)
    refusal = answered(client, document, "POST", path, 400, json=body)
    assert refusal["error"]["param"] == param


def test_the_examples_match_their_schemas_and_the_request_examples_are_answered(client, document):
    schemas = document["components"]["schemas"]
    examples = {name: s["examples"] for name, s in schemas.items() if name.startswith("OpenAI") and "examples" in s}
    assert {"OpenAICompletionCreateParams", "OpenAIChatCompletionCreateParams", "OpenAICompletion"} <= set(examples)
    for name, listed in examples.items():
        for example in listed:
            assert_matches(document, component(name), example)
    for path in (COMPLETIONS, CHAT):
        schema = request_schema(document, "POST", path)
        for example in schemas[schema["$ref"].split("/")[-1]]["examples"]:
            answered(client, document, "POST", path, 200, json={**example, "model": MODEL, "max_tokens": 2})
