"""The real server process: python -m bullet_dashboard on a free port, driven through HTTP only."""
from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import bullet_native

from .conftest import assert_continuous, config, sse_messages, story_text, wait_until

SHORT_TINY = {"preset": "tiny", "total_steps": 20, "warmup_steps": 5, "eval_every": 10, "sample_every": 10, "attention_every": 10}


@pytest.fixture
def server(tmp_path: Path):
    process = subprocess.Popen([sys.executable, "-m", "bullet_dashboard", "--port", "0", "--data-dir", str(tmp_path / "data")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("Bullet Dashboard: http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[2].rstrip("/")
        with httpx.Client(base_url=url, timeout=60) as client:
            wait_until(lambda: _answers(client), timeout=60, what="the server to answer")
            yield client, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/api/status").status_code == 200
    except httpx.TransportError:
        return False


def read_events(client: httpx.Client, url: str, headers: dict[str, str], limit: int | None) -> tuple[list[dict], bool]:
    """Reads SSE messages from a live stream until ``limit`` events (then hangs up) or the 'end' message."""
    events, buffer = [], ""
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.iter_text():
            buffer += chunk
            *complete, buffer = buffer.split("\n\n")
            for message in sse_messages("\n\n".join(complete)):
                if message["event"] == "end":
                    return events, True
                assert message["id"] == message["data"]["seq"]
                events.append(message["data"])
                if limit is not None and len(events) >= limit:
                    return events, False
    return events, False


def test_train_tiny_preset_on_a_bundled_dataset_over_http(server, tmp_path):
    client, process = server
    page = client.get("/")
    # ./build.sh builds the UI before the tests, so "/" is the app; without a build it links the API docs.
    assert page.status_code == 200 and ('<div id="root">' in page.text or "/docs" in page.text)
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/train", "/logs", "/download/{model_name}", "/api/sessions/{session_id}/events"} <= set(paths)

    r = client.post("/api/sessions", json={"dataset": "children_stories", "config": SHORT_TINY, "model_name": "pip"})
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    client.post(f"/api/sessions/{session_id}/speed", json={"steps_per_second": 8})
    assert client.post(f"/api/sessions/{session_id}/start").status_code == 200

    # Hang up mid-run, then reconnect with Last-Event-ID: the two parts join with no gap and no repeat.
    url = f"/api/sessions/{session_id}/events"
    first, ended = read_events(client, url, {}, limit=4)
    assert not ended
    client.post(f"/api/sessions/{session_id}/speed", json={"steps_per_second": 0})
    rest, ended = read_events(client, url, {"Last-Event-ID": str(first[-1]["seq"])}, limit=None)
    assert ended
    events = first + rest
    assert_continuous(events)
    assert [e["step"] for e in events if e["type"] == "metrics"] == list(range(1, 21))
    assert events[-1]["type"] == "exported"

    download = client.get("/api/models/pip/download")
    assert download.status_code == 200
    path = tmp_path / "pip.bullet"
    path.write_bytes(download.content)
    info = bullet_native.inspect(path)
    assert info["header"]["hidden_size"] == 64 and info["header"]["vocab_size"] == 512

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def hang_up_mid_replay(url: str, path: str) -> None:
    """Reads the start of an event stream, then resets the connection as a closed tab's socket does."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        sock.recv(2000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_browser_hanging_up_during_a_replay_is_noticed_without_log_noise(server):
    client, process = server
    long_run = config(total_steps=300, eval_every=1, sample_every=5, attention_every=10)
    r = client.post("/api/sessions", json={"text": story_text(), "config": long_run, "auto_export": False, "start": True})
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    wait_until(lambda: client.get(f"/api/sessions/{session_id}").json()["state"] == "completed", what="the run to finish")
    for _ in range(3):
        hang_up_mid_replay(str(client.base_url), f"/api/sessions/{session_id}/events")
    # The server still streams the whole log to a client that stays.
    replay = client.get(f"/api/sessions/{session_id}/events", params={"follow": "false"})
    assert_continuous([m["data"] for m in sse_messages(replay.text) if m["event"] == "message"])
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    log = process.stderr.read()
    assert "socket.send() raised exception" not in log, log[:2000]
