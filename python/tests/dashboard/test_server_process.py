"""The real server process: python -m bullet_dashboard on a free port, driven through HTTP only."""
from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import bullet_native
from conftest import first_line

from .conftest import assert_continuous, config, sse_messages, story_text, wait_until

SHORT_TINY = {"preset": "tiny", "total_steps": 20, "warmup_steps": 5, "eval_every": 10, "sample_every": 10, "attention_every": 10}


@contextmanager
def launched(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """python -m bullet_dashboard on a free port; yields the process and the URL it printed, once it answers."""
    process = subprocess.Popen([sys.executable, "-m", "bullet_dashboard", "--port", "0", "--data-dir", str(tmp_path / "data"), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = first_line(process, "Bullet Dashboard: http://127.0.0.1:")
        url = line.split()[2]
        wait_until(lambda: _answers(url), timeout=60, what="the server to answer")
        yield process, url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def server(tmp_path: Path):
    with launched(tmp_path) as (process, url), httpx.Client(base_url=url.rstrip("/"), timeout=60) as client:
        yield client, process


def _answers(url: str) -> bool:
    try:
        httpx.get(url.split("?")[0] + "api/status")
        return True
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


def test_bound_beyond_loopback_every_route_needs_the_printed_token(tmp_path):
    with launched(tmp_path, "--host", "0.0.0.0") as (process, printed):
        url = urlsplit(printed)
        token = parse_qs(url.query)["token"][0]
        base = f"{url.scheme}://{url.netloc}"
        bearer = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=60) as client:
            paths = client.get("/openapi.json", headers=bearer).json()["paths"]
            routes = [(method.upper(), path.replace("{", "").replace("}", "")) for path, methods in paths.items() for method in methods]
            assert len(routes) > 30
            for method, path in routes + [("GET", "/"), ("GET", "/train"), ("GET", "/docs")]:
                r = client.request(method, path)
                assert r.status_code == 401 and "?token=" in r.text, (method, path, r.status_code)
            assert client.get("/api/datasets", headers=bearer).status_code == 200

            # The printed URL sets the cookie and sends the browser to the same page without the token.
            entered = client.get(printed, follow_redirects=True)
            assert entered.status_code == 200 and ('<div id="root">' in entered.text or "/docs" in entered.text)
            assert [(r.status_code, r.headers["location"]) for r in entered.history] == [(303, "/")]
            assert token not in str(entered.url)
            r = client.post("/api/sessions", json={"dataset": "poetry", "config": {"preset": "tiny", "total_steps": 2}})
            assert r.status_code == 201, r.text
            stream = client.get(f"/api/sessions/{r.json()['id']}/events", params={"follow": "false"})
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            assert client.get("/api/datasets/poetry/text").status_code == 200
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        # Read through the text wrappers: the first readline may have buffered the lines after it, which
        # communicate() (reading the raw pipes) would miss.
        out, err = process.stdout.read(), process.stderr.read()
        # Printed in the URLs for this machine and for others, and nowhere else.
        lines = [line.split(": ", 1)[0] for line in (out + err).splitlines() if token in line]
        assert lines == ["From other machines"] and token not in err, out + err
