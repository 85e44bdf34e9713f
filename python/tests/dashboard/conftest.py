"""The real app over a temporary data folder and the real native library, and helpers to drive sessions."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from fastapi.testclient import TestClient

from bullet_dashboard.app import create_app
from bullet_dashboard.settings import Settings

BASE_URL = "http://127.0.0.1:8000"

# A character-level model small enough that a step takes milliseconds.
TINY = {"tokenizer": "char", "vocab_size": 0, "hidden_size": 32, "num_layers": 1, "num_heads": 2, "max_seq_len": 16,
        "batch_size": 4, "total_steps": 12, "warmup_steps": 2, "eval_every": 4, "eval_batches": 1, "sample_every": 6,
        "sample_length": 8, "attention_every": 6}

NAMES = ["Tom", "Anna", "the dog", "a little fox", "Grandma", "the rabbit"]
VERBS = ["saw", "liked", "ran to", "sang for", "waved at", "found"]
PLACES = ["the park", "the river", "the old barn", "the market", "the garden", "the school"]


def story_text(sentences: int = 300) -> str:
    """Plain English sentences with some variety (written here, deterministic)."""
    out = []
    for i in range(sentences):
        out.append(f"{NAMES[i % 6]} {VERBS[(i * 5) % 6]} {NAMES[(i * 7 + 1) % 6].lower()} at {PLACES[(i * 11) % 6]}.")
        if i % 5 == 4:
            out.append("\n")
    return " ".join(out)


def config(**overrides: Any) -> dict[str, Any]:
    return {**TINY, **overrides}


def make_client(data_dir: Path, **settings: Any) -> TestClient:
    """A client of a new app, as a script on this machine calls it (Host 127.0.0.1:8000, no Origin)."""
    return TestClient(create_app(Settings(data_dir=data_dir, **settings)), base_url=BASE_URL)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def client(data_dir: Path):
    with make_client(data_dir) as c:
        yield c


@pytest.fixture
def stories(client: TestClient) -> str:
    """A pasted dataset named 'stories'."""
    r = client.post("/api/datasets/text", json={"name": "stories", "text": story_text()})
    assert r.status_code == 201, r.text
    return "stories"


@pytest.fixture
def trained(client: TestClient) -> str:
    """A model trained and exported by a session (character-level, 12 steps)."""
    r = client.post("/api/sessions", json={"text": story_text(), "config": config(), "model_name": "storyteller", "start": True})
    assert r.status_code == 201, r.text
    assert events_of(client.get(f"/api/sessions/{r.json()['id']}/events").text)[-1]["type"] == "exported"
    return "storyteller"


def sse_messages(body: str) -> list[dict[str, Any]]:
    """Parses an SSE body into messages {id, event, data}; comments are skipped."""
    messages = []
    for block in body.split("\n\n"):
        message: dict[str, Any] = {"event": "message"}
        for line in block.splitlines():
            field, _, value = line.partition(": ")
            if field == "id":
                message["id"] = int(value)
            elif field == "event":
                message["event"] = value
            elif field == "data":
                message["data"] = json.loads(value)
        if "data" in message:
            messages.append(message)
    return messages


def events_of(body: str) -> list[dict[str, Any]]:
    """The training events of an SSE body (the final 'end' message dropped)."""
    return [m["data"] for m in sse_messages(body) if m["event"] == "message"]


def wait_until(check: Callable[[], Any], timeout: float = 120, what: str = "condition") -> Any:
    """Polls until ``check`` returns something truthy; a generous timeout only guards against hanging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def session_state(client: TestClient, session_id: str) -> dict[str, Any]:
    r = client.get(f"/api/sessions/{session_id}")
    assert r.status_code == 200, r.text
    return r.json()


def assert_continuous(events: list[dict[str, Any]], first: int = 1) -> None:
    """Seqs are first, first+1, ... with no gap or repeat."""
    assert [e["seq"] for e in events] == list(range(first, first + len(events)))
