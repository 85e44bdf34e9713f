"""Models through the real app: upload (ours and the reference builder's), generate whole and streamed, perplexity,
attention, style comparison, delete."""
from __future__ import annotations

import json
from pathlib import Path

from test_gguf import read_gguf  # python/tests is on sys.path (rootdir conftest)

from .conftest import sse_messages, story_text

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures"
SAMPLING = {"temperature": 0.8, "top_k": 20, "top_p": 0.95, "repetition_penalty": 1.1, "max_tokens": 24, "seed": 7}


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
    assert len(style["original"]["passage"]) == 300
    # The prompt is the word that most often opens the sentences ("the dog ..."), not the original's own start ("Tom saw ...").
    assert style["generated"]["prompt"] == "the "
    copied = style["generated"]["copied"]
    assert copied["ngram"] == 8 and 0 <= copied["copied"] <= copied["ngrams"]
    assert copied["share"] is None if copied["ngrams"] == 0 else copied["share"] == round(copied["copied"] / copied["ngrams"], 4)
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


def with_header_keys(bullet: bytes, **keys: object) -> bytes:
    """The file with more top-level keys in its JSON header (which still fits before the tokenizer at 4096)."""
    end = bullet.index(b"\0\0\0\0")
    header = json.loads(bullet[:end])
    text = json.dumps({**header, **keys}, indent=2).encode()
    assert len(text) + 4 <= header["file_offsets"]["tokenizer_start"]
    return text + bytes(header["file_offsets"]["tokenizer_start"] - len(text)) + bullet[header["file_offsets"]["tokenizer_start"]:]


def test_a_file_made_elsewhere_with_odd_header_extras_is_listed_and_inspected(client, trained):
    """Free-form header keys of another writer (a word where ours writes a number, an object where ours writes a date)
    are left out of the summary rather than breaking the models list."""
    ours = client.get(f"/api/models/{trained}/download").content
    odd = with_header_keys(ours, training_metrics={"steps": "12k", "top1_agreement": "high", "float_perplexity": 9.5},
                           created_at={"day": 1})
    r = client.post("/api/models", files={"file": ("odd.bullet", odd)})
    assert r.status_code == 201, r.text
    listed = {m["name"]: m for m in client.get("/api/models").json()}
    assert listed["odd"]["steps"] is None and listed["odd"]["top1_agreement"] is None
    assert listed["odd"]["float_perplexity"] == 9.5 and isinstance(listed["odd"]["created"], str)
    inspected = client.get("/api/models/odd")
    assert inspected.status_code == 200, inspected.text
    assert inspected.json()["header"]["extra"]["training_metrics"]["steps"] == "12k"


def test_gguf_download_exports_once_and_follows_the_model(client, trained, data_dir: Path, tmp_path: Path):
    header = client.get(f"/api/models/{trained}").json()["header"]
    r = client.get(f"/api/models/{trained}/gguf", params={"type": "f16"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    assert f'filename="{trained}-f16.gguf"' in r.headers["content-disposition"]
    assert r.content[:4] == b"GGUF"
    (tmp_path / "model.gguf").write_bytes(r.content)
    kv = read_gguf(tmp_path / "model.gguf")["kv"]
    assert (kv["general.architecture"], kv["general.file_type"]) == ("llama", 1)
    assert (kv["llama.embedding_length"], kv["llama.block_count"], kv["llama.attention.head_count"]) == (
        header["hidden_size"], header["num_layers"], header["num_heads"])
    assert len(kv["tokenizer.ggml.tokens"][1]) == header["vocab_size"]

    # Served from the cache the second time (same file, not rewritten); the default type is q8_0.
    cached = data_dir / "models" / "gguf-cache" / "f16" / f"{trained}.gguf"
    inode = cached.stat().st_ino
    assert client.get(f"/api/models/{trained}/gguf?type=f16").content == r.content and cached.stat().st_ino == inode
    default = client.get(f"/api/models/{trained}/gguf")
    assert default.status_code == 200 and f'filename="{trained}-q8_0.gguf"' in default.headers["content-disposition"]
    (tmp_path / "q8.gguf").write_bytes(default.content)
    assert read_gguf(tmp_path / "q8.gguf")["kv"]["general.file_type"] == 7

    # A model replaced under the same name gets a new export, not the cached one.
    reference = FIXTURES / "reference-tiny.bullet"
    (data_dir / "models" / f"{trained}.bullet").write_bytes(reference.read_bytes())
    replaced = client.get(f"/api/models/{trained}").json()["header"]
    (tmp_path / "new.gguf").write_bytes(client.get(f"/api/models/{trained}/gguf?type=f16").content)
    assert read_gguf(tmp_path / "new.gguf")["kv"]["llama.embedding_length"] == replaced["hidden_size"]
    assert (tmp_path / "new.gguf").read_bytes() != r.content

    assert client.delete(f"/api/models/{trained}").status_code == 204
    assert not cached.exists() and not (cached.parent.parent / "q8_0" / f"{trained}.gguf").exists()


def test_gguf_bad_type_and_unknown_model_are_refused(client, trained, data_dir: Path):
    r = client.get(f"/api/models/{trained}/gguf?type=q5_k")
    assert r.status_code == 422
    assert r.json()["detail"] == "unknown GGUF type 'q5_k': choose one of f32, f16, q8_0, q4_0"
    r = client.get("/api/models/nobody/gguf?type=q4_0")
    assert r.status_code == 404 and "nobody" in r.json()["detail"]
    assert not (data_dir / "models" / "gguf-cache").exists()  # refused requests export nothing
