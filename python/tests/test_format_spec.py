"""docs/format.md against the code: files our writer produces, and the reference builder's fixtures, read by
format_spec (a parser built only from that document), and the document's encoding rule against our tokenizer."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

import format_spec
from bullet_native import Tokenizer, build_bullet
from conftest import FIXTURES, REPO, char_vocab, model_tensors

STORIES = REPO / "python" / "bullet_dashboard" / "datasets" / "children_stories.txt"


def build(folder: Path, tokenizer: dict | Tokenizer, tensors: dict[str, np.ndarray], d: int, layers: int, heads: int,
          extra_config: dict | None = None) -> bytes:
    """A file written by our builder from a config, a tokenizer and .npy tensors; returns its bytes."""
    folder.mkdir()
    vocab = len(tensors["tok_embeddings.weight"])
    config = {"hidden_size": d, "num_layers": layers, "num_heads": heads, "vocab_size": vocab, "max_context": 16,
              "model_name": "spec-test", **(extra_config or {})}
    (folder / "config.json").write_text(json.dumps(config))
    if isinstance(tokenizer, Tokenizer):
        tokenizer.save(folder / "tokenizer.json")
    else:
        (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    for name, array in tensors.items():
        np.save(folder / f"{name}.npy", array)
    out = folder.parent / f"{folder.name}.bullet"
    build_bullet(folder, out)
    return out.read_bytes()


def test_written_file_follows_every_section_of_the_document(tmp_path):
    d, layers, heads = 64, 2, 4
    vocab = char_vocab(24) + ["ab", "abc"]
    merges = ["a b", "ab c"]
    tensors = model_tensors(len(vocab), d, layers, seed=3)
    tensors["final_layernorm.weight"] = np.ones(d, np.float32)  # constant blocks must round-trip exactly
    spec = format_spec.read(build(tmp_path / "m", {"vocab": vocab, "merges": merges}, tensors, d, layers, heads))
    data = spec.data
    assert spec.warnings == []

    # Header: required keys first and in order, each name's first `"key":` is the required one, values as JSON says.
    text = spec.header_text
    positions = [text.find(f'"{name}":') for name in format_spec.REQUIRED_NAMES]
    assert min(positions) >= 0 and positions == sorted(positions)
    assert list(spec.header)[:8] == ["bullet_version", "model_name", "architecture", "dimensions", "quantization",
                                     "vocab_size", "max_context", "file_offsets"]
    assert (spec.header["bullet_version"], spec.header["architecture"], spec.header["quantization"]["type"]) == \
        ("1.0", "bullet-hybrid-transformer", "BQ4")
    assert (spec.dims["hidden_size"], spec.dims["num_layers"], spec.dims["num_heads"], spec.dims["vocab_size"]) == \
        (d, layers, heads, len(vocab))

    # Layout: the smallest aligned offsets, zero gaps, the footer last.
    header_end = len(text.encode())
    assert data[header_end:header_end + 4] == b"\0\0\0\0"
    assert spec.dims["tokenizer_start"] == format_spec.align_up(header_end + 4, 4096) == 4096
    assert spec.dims["weights_start"] == format_spec.align_up(spec.tokenizer_end, 64)
    assert not any(data[header_end:spec.dims["tokenizer_start"]]) and not any(data[spec.tokenizer_end:spec.dims["weights_start"]])
    assert data.endswith(b"END!")

    # Tokenizer block: the tokens in id order and the merges in order, as given.
    assert spec.tokens == [t.encode() for t in vocab]
    assert spec.merges == [tuple(m.encode().split(b" ")) for m in merges]

    # Weights block and Tensors: the table's order, FNV-1a names, four shape fields, 32-aligned data after zeros.
    expected = format_spec.tensor_shapes(d, layers, len(vocab))
    assert [(t.name, t.shape) for t in spec.tensors] == expected
    for t in spec.tensors:
        assert t.name_hash == format_spec.fnv1a64(t.name.encode()) and t.quant_type == 0
        assert struct.unpack_from("<4H", data, t.entry_offset + 9)[t.rank:] == (1,) * (4 - t.rank)
        assert t.data_offset % 32 == 0 and not any(data[t.entry_offset + 22:t.data_offset])
        assert t.data_bytes == -(-int(np.prod(t.shape)) // 32) * 20

    # BQ4 block: byte 3 is 0, no scale is 0, inf or NaN unless its block is all 0, and the values come back within
    # the quantization error (Gaussian weights about 7.7 % relative RMSE, weights near 1.0 about 0.2 %).
    for t in spec.tensors:
        blocks = np.frombuffer(data[t.data_offset:t.data_offset + t.data_bytes], np.uint8).reshape(-1, 20)
        scales = blocks[:, :2].copy().view("<f2").astype(np.float32).ravel()
        assert not blocks[:, 3].any()
        assert np.isfinite(scales).all() and (scales > 0).all(), t.name
        source, decoded = tensors[t.name].astype(np.float64), spec.values(t.name).astype(np.float64)
        relative_rmse = np.sqrt(np.mean((decoded - source) ** 2) / np.mean(source ** 2))
        assert relative_rmse < (0.005 if t.rank == 1 else 0.1), (t.name, relative_rmse)
    assert (spec.values("final_layernorm.weight") == 1.0).all()


def test_encoding_rule_of_the_document_gives_our_tokenizer_ids(tmp_path):
    text = STORIES.read_text(encoding="utf-8")
    tokenizer = Tokenizer.train(text, vocab_size=300)
    vocab = tokenizer.vocab_size
    spec = format_spec.read(build(tmp_path / "bpe", tokenizer, model_tensors(vocab, 32, 1), 32, 1, 2))
    assert len(spec.merges) > 100
    sample = text[:3000] + " two  spaces, a tab\tand ünïcödé, an unknown ✓ "
    assert format_spec.encode(sample, spec.tokens, spec.merges) == tokenizer.encode(sample)
    # Scores: −(m+1) for the token merge m makes, 0 otherwise.
    made_by = {a + b: m for m, (a, b) in reversed(list(enumerate(spec.merges)))}
    assert spec.scores == [-(made_by[t] + 1) if t in made_by else 0.0 for t in spec.tokens]


def test_merges_apply_in_file_order_not_by_priority(tmp_path):
    path = tmp_path / "tokenizer.json"
    tokens = ["<unk>", " ", "a", "b", "c", "ab", "abc"]
    path.write_text(json.dumps({"vocab": tokens, "merges": ["ab c", "a b"]}))
    merges = [(b"ab", b"c"), (b"a", b"b")]
    ids = format_spec.encode("abc", [t.encode() for t in tokens], merges)
    assert ids == [5, 4]  # "ab c": the first merge finds no piece "ab" yet
    assert Tokenizer.load(path).encode("abc") == ids


def test_reference_597vocab_fixture_has_the_documented_quirks():
    spec = format_spec.read((FIXTURES / "reference-597vocab.bullet").read_bytes())
    assert len(spec.data) == 995_332
    assert (spec.dims["hidden_size"], spec.dims["num_layers"], spec.dims["num_heads"], spec.dims["vocab_size"],
            spec.dims["max_context"]) == (128, 4, 4, 597, 64)
    assert (len(spec.tensors), spec.merges, set(spec.scores), b" " in spec.tokens) == (39, [], {1.0}, False)
    assert all(t.name is not None for t in spec.tensors)
    assert spec.used["tok_embeddings.weight"].shape == spec.used["output_head.weight"].shape == (2000, 128)
    assert sorted(spec.warnings) == ["output_head.weight has 2000 rows for a vocabulary of 597",
                                     "tok_embeddings.weight has 2000 rows for a vocabulary of 597"]
    norms = [n for n in spec.used if "norm" in n]
    assert len(norms) == 9 and all((spec.values(n) == 0).all() for n in norms)
    order = [t.name for t in spec.tensors]
    for i in range(4):
        assert order.index(f"layers.{i}.ffn.w2.weight") < order.index(f"layers.{i}.ffn.w3.weight")


def test_reference_tiny_fixture_has_the_documented_quirks():
    spec = format_spec.read((FIXTURES / "reference-tiny.bullet").read_bytes())
    assert len(spec.data) == 21_140
    assert (spec.dims["hidden_size"], spec.dims["num_layers"], spec.dims["num_heads"], spec.dims["vocab_size"]) == (32, 1, 2, 100)
    assert spec.tokens == [f"token_{i}".encode() for i in range(100)] and spec.merges == []
    assert len(spec.tensors) == 23 and len(spec.used) == 12
    unknown = {t.name_hash for t in spec.tensors if t.name is None}
    biases = [f"layers.0.{s}.bias" for s in ("norm.attn", "norm.ffn", "attention.query", "attention.key", "attention.value",
                                            "attention.output", "ffn.w1", "ffn.w3", "ffn.w2")]
    biases += ["final_layernorm.bias", "output_head.bias"]
    assert unknown == {format_spec.fnv1a64(b.encode()) for b in biases}
    assert sum("unknown name" in w for w in spec.warnings) == 11 and len(spec.warnings) == 11
    assert all((spec.values(n) == 0).all() for n in spec.used if "norm" in n)


@pytest.mark.parametrize("cut", ["footer", "vocab_count"])
def test_the_parser_refuses_what_validation_refuses(tmp_path, cut):
    data = bytearray((FIXTURES / "reference-tiny.bullet").read_bytes())
    if cut == "footer":
        data[-1:] = b"?"
    else:
        struct.pack_into("<I", data, 4096 + 4, 101)
    with pytest.raises(format_spec.SpecError):
        format_spec.read(bytes(data))
