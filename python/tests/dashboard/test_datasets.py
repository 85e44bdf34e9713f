"""Datasets through the real app: every upload format, pasted text, statistics, rejections, bundled texts."""
from __future__ import annotations

import io
import json

import docx

from .conftest import story_text


def docx_bytes(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_upload_each_format_and_paste(client):
    text = "Pip the rabbit hopped. Fern the fox hid!\nThe end."
    uploads = {
        "plain.txt": text.encode(),
        "notes.md": ("# Title\n\n" + text).encode(),
        "records.jsonl": b'{"text": "Pip the rabbit hopped."}\n\n{"text": "Fern the fox hid!", "id": 2}\n',
        "letter.docx": docx_bytes(["Pip the rabbit hopped.", "Fern the fox hid!"]),
    }
    for filename, data in uploads.items():
        r = client.post("/api/datasets", files={"file": (filename, data)})
        assert r.status_code == 201, (filename, r.text)
        assert r.json()["name"] == filename.split(".")[0]
    r = client.post("/api/datasets/text", json={"name": "pasted", "text": text, "title": "Pasted text"})
    assert r.status_code == 201, r.text

    plain = client.get("/api/datasets/plain").json()
    assert (plain["characters"], plain["words"], plain["lines"], plain["sentences"]) == (len(text), 10, 2, 3)
    assert plain["distinct_characters"] == len(set(text))
    assert plain["preview"] == text
    assert client.get("/api/datasets/records/text").text == "Pip the rabbit hopped.\n\nFern the fox hid!"
    assert client.get("/api/datasets/letter/text").text == "Pip the rabbit hopped.\nFern the fox hid!"
    assert client.get("/api/datasets/pasted").json()["title"] == "Pasted text"

    listed = {d["name"]: d for d in client.get("/api/datasets").json()}
    assert {"plain", "notes", "records", "letter", "pasted"} <= set(listed)
    assert listed["plain"]["bytes"] == len(text.encode()) and not listed["plain"]["bundled"]

    assert client.post("/api/datasets", files={"file": ("plain.txt", b"again")}).status_code == 409
    assert client.delete("/api/datasets/plain").status_code == 204
    assert client.get("/api/datasets/plain").status_code == 404


def test_bundled_datasets_are_listed_with_stats_and_protected(client):
    listed = {d["name"]: d for d in client.get("/api/datasets").json()}
    assert {"children_stories", "poetry", "dialogue"} <= set(listed)
    assert all(listed[n]["bundled"] and listed[n]["license"] for n in ("children_stories", "poetry", "dialogue"))
    stories = client.get("/api/datasets/children_stories").json()
    assert stories["bytes"] > 50_000 and stories["words"] > 5_000 and 0 < stories["style"]["type_token_ratio"] < 1
    r = client.delete("/api/datasets/children_stories")
    assert r.status_code == 403 and "bundled" in r.json()["detail"]
    assert client.post("/api/datasets/text", json={"name": "poetry", "text": "x y"}).status_code == 409


def test_unusable_uploads_are_rejected_with_a_message(client):
    cases = {
        "empty.txt": (b"", "empty"),
        "binary.txt": (bytes(range(256)) * 4, "binary"),
        "latin1.txt": ("caf\u00e9 cr\u00e8me".encode("latin-1"), "UTF-8"),
        "bad.jsonl": (b'{"text": "ok"}\n{"body": "no text"}\n', "line 2"),
        "broken.jsonl": (b'{"text": "ok"}\n{"text": \n', "line 2"),
        "fake.docx": (b"this is not a zip file", "Word"),
        "image.png": (b"\x89PNG....", "unsupported"),
    }
    for filename, (data, expected) in cases.items():
        r = client.post("/api/datasets", files={"file": (filename, data)})
        assert 400 <= r.status_code < 500, (filename, r.status_code)
        assert expected in r.json()["detail"], (filename, r.json())
    names = {d["name"] for d in client.get("/api/datasets").json()}
    assert not names & {"empty", "binary", "latin1", "bad", "broken", "fake", "image"}


def test_style_metrics_come_from_the_native_library(client):
    r = client.post("/api/style/metrics", json={"text": "I can't go. We will! The committee approved the proposal."})
    assert r.status_code == 200
    body = r.json()
    assert body["sentences"] == 3 and body["words"] == 10
    style = body["style"]
    # informal markers: I, can't, We, "!" over 10 words
    assert style["formality"] == 60.0
    assert style["avg_sentence_length"] == round(10 / 3, 4)
    assert set(body["definitions"]) == set(style)
    assert client.post("/api/style/metrics", json={"text": ""}).status_code == 422
