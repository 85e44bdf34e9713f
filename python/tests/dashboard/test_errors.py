"""One error path: every kind of refusal, from a service or from the native library, reaches the client through the
app's one mapping with its HTTP status and a message that says what is wrong."""
from __future__ import annotations

import os
import signal

from fastapi.testclient import TestClient

from bullet_dashboard.app import create_app
from bullet_dashboard.settings import Settings

from .conftest import BASE_URL, config, story_text, wait_until


def test_each_kind_of_error_has_its_status_and_message(client, stories):
    def check(response, status, *words):
        assert response.status_code == status, (response.status_code, response.text)
        detail = response.json()["detail"]
        assert all(w in detail for w in words), detail

    check(client.get("/api/datasets/bad..name"), 400, "invalid dataset name")                    # BadRequest
    check(client.delete("/api/datasets/poetry"), 403, "bundled dataset")                         # Forbidden
    check(client.get("/api/models/nothing-here"), 404, "no model named")                         # NotFound
    check(client.post("/api/datasets/text", json={"name": "stories", "text": "again"}), 409, "already exists")   # Conflict
    check(client.post("/api/datasets/text", json={"name": "big", "text": "a" * (60 * 1024 * 1024)}), 413, "larger than the limit")
    check(client.post("/api/datasets", files={"file": ("notes.pdf", b"%PDF")}), 415, "unsupported file type")   # Unsupported
    bad = client.post("/api/sessions", json={"dataset": stories, "config": {"hidden_size": 100, "learnin_rate": 1}})
    check(bad, 422, "hidden_size")                                                                # Invalid, with every field
    assert {e["field"] for e in bad.json()["errors"]} == {"hidden_size", "learnin_rate"}
    check(client.post("/api/models", files={"file": ("junk.bullet", b"not a bullet file at all")}), 422, "not a valid .bullet")

    r = client.post("/api/sessions", json={"dataset": stories, "config": config(total_steps=100_000), "start": True})
    session_id = r.json()["id"]
    wait_until(lambda: client.get(f"/api/sessions/{session_id}").json()["step"] >= 1, what="training")
    check(client.post(f"/api/sessions/{session_id}/step", json={"steps": 1}), 409, "running", "pause")   # native InvalidState
    check(client.post(f"/api/sessions/{session_id}/export", json={"checkpoint": "best"}), 409, "finished")  # Conflict

    # A worker that stops answering: its controls fail after a few seconds with a 503 that says so.
    pid = client.get(f"/api/sessions/{session_id}").json()["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        check(client.post(f"/api/sessions/{session_id}/pause"), 503, "did not answer")            # Unavailable
    finally:
        os.kill(pid, signal.SIGCONT)
    client.post(f"/api/sessions/{session_id}/stop")
    check(client.post("/api/sessions", json={"text": story_text(), "config": "tiny"}), 422, "config")  # request validation


def test_a_fault_of_the_server_itself_is_still_an_error_body(data_dir):
    """Anything a route did not expect becomes a 500 whose body says what failed, in the shape of every other error."""
    app = create_app(Settings(data_dir=data_dir))
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        def broken() -> list:
            raise RuntimeError("the disk went away")
        app.state.models.list = broken
        r = client.get("/api/models")
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "the server failed: RuntimeError: the disk went away"}
