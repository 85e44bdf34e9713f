"""The OpenAI-compatible API: `python -m bullet_native serve` checked with the official OpenAI client (npm openai,
pinned in tools/openai), and the same routes under the dashboard's /v1."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bullet_dashboard.app import create_app
from bullet_dashboard.settings import Settings
from bullet_native.serving import OpenAiService

from conftest import first_line, write_model

REPO = Path(__file__).resolve().parents[2]
OPENAI_DIR = REPO / "tools" / "openai"


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return write_model(tmp_path_factory.mktemp("serve"), "tiny-chat")


def test_the_official_openai_client_works_against_serve(model):
    assert (OPENAI_DIR / "node_modules" / "openai").is_dir(), "run ./build.sh test once: it installs npm openai into tools/openai"
    server = subprocess.Popen([sys.executable, "-m", "bullet_native", "serve", str(model), "--port", "0", "--api-key", "sesame"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = first_line(server, "serving tiny-chat at http://")
        base = line.split(" at ")[1].split()[0]
        out = subprocess.run(["node", "check.mjs", base, "sesame", "tiny-chat"], cwd=OPENAI_DIR,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.count("ok - ") == 10, out.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_refuses_missing_files_and_clashing_names(tmp_path, model):
    out = subprocess.run([sys.executable, "-m", "bullet_native", "serve", str(tmp_path / "missing.bullet")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "does not exist" in out.stderr
    other = tmp_path / "x"
    other.mkdir()
    (other / model.name).write_bytes(model.read_bytes())
    out = subprocess.run([sys.executable, "-m", "bullet_native", "serve", str(model), str(other / model.name)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "two models are named 'tiny-chat'" in out.stderr


def test_eight_concurrent_greedy_requests_give_their_texts_alone(model):
    """Batched decoding through the service: each of 8 requests at once gets the text it gets alone."""
    from concurrent.futures import ThreadPoolExecutor

    with OpenAiService(models={"m": model}) as service:
        def complete(prompt: str) -> str:
            body = json.dumps({"model": "m", "prompt": prompt, "max_tokens": 30, "temperature": 0}).encode()
            response = service.answer("POST", "/v1/completions", None, body)
            assert response.status == 200
            return json.loads(b"".join(response.chunks()))["choices"][0]["text"]

        prompts = [("abcdefgh"[i:] + "ab" * i) for i in range(8)]
        alone = [complete(p) for p in prompts]
        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(complete, prompts))
    assert together == alone
    assert len(set(alone)) > 1  # different prompts, different texts: the comparison can fail


def test_the_dashboard_serves_the_same_api_under_v1(tmp_path):
    data = tmp_path / "data"
    write_model(data / "models", "dash")
    app = create_app(Settings(data_dir=data))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        models = client.get("/v1/models").json()
        assert [m["id"] for m in models["data"]] == ["dash"]
        chat = {"model": "dash", "messages": [{"role": "user", "content": "abc"}], "max_tokens": 8, "temperature": 0}
        whole = client.post("/v1/chat/completions", json=chat).json()
        assert whole["object"] == "chat.completion" and whole["usage"]["completion_tokens"] <= 8
        with client.stream("POST", "/v1/chat/completions", json={**chat, "stream": True}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = [line.strip()[len("data: "):] for line in stream.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        text = "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1] if json.loads(e)["choices"])
        assert text == whole["choices"][0]["message"]["content"]
        missing = client.post("/v1/completions", json={"model": "nope", "prompt": "a"})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
        bad = client.post("/v1/completions", json={"model": "dash", "prompt": "a", "max_tokens": -1})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "max_tokens"
