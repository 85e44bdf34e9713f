"""Hostile input: every answer a 4xx with a message, nothing written outside the data folder, the server still up."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import config, make_client, story_text
from .test_datasets import docx_bytes

# Percent-encoded, because an HTTP client resolves literal dot segments before sending.
TRAVERSAL = ["...", "%2e%2e", "%2E%2E%2Fdata", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "a%00b", ".hidden", "x" * 300,
             "C:%5Cwindows", "name%0Aline", "sp ace"]


def tree(root: Path) -> dict[str, int]:
    """Every file and folder under root with its size (folders as -1)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = -1
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = os.lstat(p).st_size
    return out


@pytest.fixture
def world(tmp_path: Path):
    """A data folder next to files an attacker would like to reach, and a symlink pointing out."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not read")
    (outside / "victim.bullet").write_bytes(b"not yours")
    data = tmp_path / "data"
    with make_client(data, max_upload_bytes=64 * 1024) as client:
        (data / "datasets" / "escape.txt").symlink_to(outside / "secret.txt")
        (data / "models" / "escape.bullet").symlink_to(outside / "victim.bullet")
        yield client, tmp_path, data


def test_traversal_names_in_every_path_parameter(world):
    client, root, data = world
    before = tree(root)
    requests = []
    for name in TRAVERSAL:
        requests += [("get", f"/api/datasets/{name}"), ("get", f"/api/datasets/{name}/text"), ("delete", f"/api/datasets/{name}"),
                     ("get", f"/api/models/{name}"), ("get", f"/api/models/{name}/download"), ("get", f"/api/models/{name}/gguf"),
                     ("delete", f"/api/models/{name}"),
                     ("get", f"/download/{name}"), ("get", f"/api/sessions/{name}"), ("delete", f"/api/sessions/{name}"),
                     ("post", f"/api/sessions/{name}/start"), ("get", f"/api/sessions/{name}/events"),
                     ("get", f"/api/sessions/{name}/attention/1")]
    requests += [("get", "/api/datasets/escape"), ("get", "/api/datasets/escape/text"), ("delete", "/api/datasets/escape"),
                 ("get", "/api/models/escape/download"), ("get", "/api/models/escape/gguf?type=f16"), ("delete", "/api/models/escape"),
                 ("get", "/download/escape.bullet")]
    for method, url in requests:
        r = getattr(client, method)(url)
        assert 400 <= r.status_code < 500, (method, url, r.status_code)
        assert "secret" not in r.text and "not yours" not in r.text
        if r.headers.get("content-type", "").startswith("application/json"):
            assert r.json()["detail"], (method, url)
    assert tree(root) == before
    assert client.get("/api/status").status_code == 200


def test_hostile_uploads_and_bodies(world):
    client, root, data = world
    outside_before = {k: v for k, v in tree(root).items() if not k.startswith("data")}
    text = story_text(20).encode()
    cases = [
        ("post", "/api/datasets", {"files": {"file": ("../../outside/evil.txt", b"\x00\x01binary")}}),
        ("post", "/api/datasets", {"files": {"file": ("ok.txt", text)}, "data": {"name": "../../outside/evil"}}),
        ("post", "/api/datasets", {"files": {"file": ("big.txt", b"a" * (200 * 1024))}}),
        ("post", "/api/datasets", {"files": {"file": ("big.jsonl", b'{"text": "aaaa"}\n' * 10_000)}}),
        # A few KB that expand past the limit: the converted text is held to the upload limit too.
        ("post", "/api/datasets", {"files": {"file": ("expands.docx", docx_bytes(["a" * 200_000]))}}),
        ("post", "/api/datasets", {"files": {"file": ("zip.docx", os.urandom(2048))}}),
        ("post", "/api/datasets", {"files": {"file": ("noext", text)}}),
        ("post", "/api/datasets/text", {"json": {"name": "/etc/passwd", "text": "x"}}),
        ("post", "/api/datasets/text", {"json": {"name": "huge", "text": "a" * (70 * 1024)}}),
        ("post", "/api/datasets/text", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        ("post", "/api/models", {"files": {"file": ("garbage.bullet", os.urandom(4096))}}),
        ("post", "/api/models", {"files": {"file": ("../../outside/victim.bullet", b"BULL" + bytes(100))}}),
        ("post", "/api/models", {"files": {"file": ("model.exe", b"MZ")}}),
        ("post", "/api/sessions", {"content": b'{"config": {', "headers": {"content-type": "application/json"}}),
        ("post", "/api/sessions", {"json": {"config": config(), "text": "x", "dataset": "y"}}),
        ("post", "/api/sessions", {"json": {"config": config(), "dataset": "../outside/secret"}}),
        ("post", "/api/sessions", {"json": {"config": config(), "text": "abc", "name": "x" * 81}}),
        ("post", "/api/sessions", {"json": {"config": config(), "text": "abc", "model_name": "a/b"}}),
        ("post", "/api/sessions", {"json": {"config": {"hidden_size": -5}, "text": "abc"}}),
        ("post", "/api/sessions", {"json": {"config": {"num_layers": 10 ** 12}, "text": "abc"}}),
        ("post", "/api/sessions", {"json": {"config": {"learning_rate": "fast"}, "text": "abc"}}),
        ("post", "/api/sessions", {"json": {"config": {"preset": "enormous"}, "text": "abc"}}),
        ("post", "/api/sessions", {"json": {"config": {"total_steps": 1e30}, "text": "abc"}}),
        ("post", "/api/sessions", {"json": {"config": "tiny", "text": "abc"}}),
        ("post", "/api/config/validate", {"content": b"[1, 2", "headers": {"content-type": "application/json"}}),
        ("post", "/train", {"data": {"model_config": "{bad json"}, "files": {"training_text": ("t.txt", text)}}),
        ("post", "/train", {"data": {"model_config": "[]"}, "files": {"training_text": ("t.txt", text)}}),
        ("post", "/train", {"data": {"model_config": "{}"}, "files": {"training_text": ("../../t.sh", text)}}),
        ("post", "/train", {"data": {"model_config": "{}", "model_name": "../../outside/x"}, "files": {"training_text": ("t.txt", text)}}),
        ("post", "/train", {"data": {"model_config": "{}"}, "files": {"training_text": ("big.txt", b"a" * (200 * 1024))}}),
        ("post", "/api/sessions/nope/step", {"json": {"steps": -1}}),
        ("post", "/api/style/metrics", {"json": {"text": "\x00\x00"}}),
    ]
    for method, url, kwargs in cases:
        r = getattr(client, method)(url, **kwargs)
        assert 400 <= r.status_code < 500, (url, kwargs.get("json") or kwargs.get("data"), r.status_code, r.text[:200])
        assert isinstance(r.json()["detail"], str) and r.json()["detail"], (url, r.text)
    # Sizes: a declared Content-Length past the limit is refused before the body is read.
    r = client.post("/api/datasets", content=b"x" * 10, headers={"content-length": str(10 ** 9), "content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "1.1 MB" in r.json()["detail"]
    # A traversal file name is reduced to its last component and stored inside the data folder.
    r = client.post("/api/datasets", files={"file": ("../../outside/notes.txt", text)})
    assert r.status_code == 201 and r.json()["name"] == "notes"
    assert {k: v for k, v in tree(root).items() if not k.startswith("data")} == outside_before
    assert not any(".upload-" in k or k.endswith(".tmp") for k in tree(data))
    assert list((data / "sessions").iterdir()) == []  # refused sessions leave no folder behind
    assert client.get("/api/status").status_code == 200
    assert client.get("/api/models").json() == []
    assert "escape" not in {d["name"] for d in client.get("/api/datasets").json()}
