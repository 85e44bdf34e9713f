"""Models through the real app: upload (ours and the reference builder's), generate whole and streamed, perplexity,
attention, style comparison, delete."""
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import config, events_of, sse_messages, story_text

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures"
SAMPLING = {"temperature": 0.8, "top_k": 20, "top_p": 0.95, "repetition_penalty": 1.1, "max_tokens": 24, "seed": 7}


@pytest.fixture
def trained(client) -> str:
    """A model trained and exported by a session (character-level, 12 steps)."""
    r = client.post("/api/sessions", json={"text": story_text(), "config": config(), "model_name": "storyteller", "start": True})
    assert r.status_code == 201, r.text
    assert events_of(client.get(f"/api/sessions/{r.json()['id']}/events").text)[-1]["type"] == "exported"
    return "storyteller"


def test_generate_whole_and_streamed_agree(client, trained):
    whole = client.post(f"/api/models/{trained}/generate", json={"prompt": "Tom ", **SAMPLING})
    assert whole.status_code == 200, whole.text
    result = whole.json()
    assert result["text"] and result["tokens_per_second"] > 0

    streamed = client.post(f"/api/models/{trained}/generate", json={"prompt": "Tom ", **SAMPLING, "stream": True})
    assert streamed.headers["content-type"].startswith("text/event-stream")
    messages = sse_messages(streamed.text)
    tokens = [m for m in messages if m["event"] == "message"]
    assert [m["id"] for m in tokens] == list(range(1, len(tokens) + 1))
    assert "".join(m["data"]["text"] for m in tokens) == result["text"]  # same seed, same text
    assert messages[-1]["event"] == "done" and messages[-1]["data"]["tokens_per_second"] > 0


def test_perplexity_attention_and_style(client, trained):
    ppl = client.post(f"/api/models/{trained}/perplexity", json={"text": story_text(10)}).json()
    assert ppl["perplexity"] > 1 and ppl["tokens_scored"] > 0
    att = client.post(f"/api/models/{trained}/attention", json={"text": "Anna saw Tom"}).json()
    assert (att["layers"], att["heads"]) == (1, 2) and len(att["maps"][0][0]) == len(att["tokens"])
    assert all(abs(sum(row) - 1) < 1e-3 for row in att["maps"][0][1])
    style = client.post(f"/api/models/{trained}/style", json={"text": story_text(40), "passage_chars": 300, **SAMPLING}).json()
    assert len(style["original"]["passage"]) == 300 and style["generated"]["prompt"]
    assert set(style["original"]["metrics"]) == {"avg_sentence_length", "type_token_ratio", "avg_word_length", "punctuation_rate", "formality"}
    assert 0 < style["confidence"]["avg_token_probability"] < 1
    assert abs(style["confidence"]["avg_token_probability"] * style["confidence"]["perplexity"] - 1) < 1e-3
    assert "formality" in style["definitions"]
    r = client.post(f"/api/models/{trained}/style", json={"dataset": "children_stories", "passage_chars": 200, **SAMPLING})
    assert r.status_code == 200 and r.json()["original"]["words"] > 5_000


def test_upload_download_delete(client, trained, tmp_path: Path):
    ours = client.get(f"/api/models/{trained}/download").content
    r = client.post("/api/models", files={"file": ("copy.bullet", ours)})
    assert r.status_code == 201 and r.json()["hidden_size"] == 32
    reference = next(p for p in sorted(FIXTURES.glob("*.bullet")))
    r = client.post("/api/models", files={"file": (reference.name, reference.read_bytes())}, data={"name": "reference"})
    assert r.status_code == 201, r.text
    listed = {m["name"]: m for m in client.get("/api/models").json()}
    assert listed["reference"]["source"] == "upload" and listed["copy"]["bytes"] == len(ours)
    gen = client.post("/api/models/reference/generate", json={"prompt": "", **SAMPLING})
    assert gen.status_code == 200, gen.text
    assert client.post("/api/models", files={"file": ("copy.bullet", ours)}).status_code == 409
    assert client.delete("/api/models/copy").status_code == 204
    assert client.get("/api/models/copy").status_code == 404
    assert client.post("/api/models/copy/generate", json={"prompt": "x"}).status_code == 404
