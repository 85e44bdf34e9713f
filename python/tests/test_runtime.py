"""The runtime through the C ABI: logits against an independent float64 numpy implementation of docs/format.md (Forward math),
sampling, streaming, perplexity, attention, bad files, and the generate command."""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from bullet_native import BulletError, build_bullet
from bullet_native.generate_cli import main_generate
from bullet_native.model import Model

import format_spec
from conftest import FIXTURES, char_vocab, model_tensors

EPS = 1e-5
# The SIMD pass's stated tolerance against the definition, as a fraction of the logits' range (docs/runtime.md).
LOGIT_TOLERANCE = 0.04


def load_weights(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Header numbers and the used tensors of a file, decoded by format_spec (docs/format.md, not the library)."""
    spec = format_spec.read(path.read_bytes())
    return spec.dims, {name: spec.values(name).astype(np.float64) for name in spec.used}


def numpy_logits(header: dict, w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """docs/format.md's forward math, float64: RMSNorm, interleaved RoPE, causal softmax attention, SwiGLU; logits of the last position."""
    d, layers, heads, vocab = header["hidden_size"], header["num_layers"], header["num_heads"], header["vocab_size"]
    hd = d // heads
    head = w["gen_head.weight"] if "gen_head.weight" in w and w["gen_head.weight"].shape[0] >= vocab else w["output_head.weight"]

    def rmsnorm(v: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return v / np.sqrt(np.mean(v * v) + EPS) * weight

    def rope(v: np.ndarray, p: int) -> np.ndarray:
        pairs = v.reshape(heads, hd // 2, 2)
        angle = p * 10000.0 ** (-2.0 * np.arange(hd // 2) / hd)
        cos, sin = np.cos(angle), np.sin(angle)
        a, b = pairs[..., 0], pairs[..., 1]
        return np.stack([a * cos - b * sin, a * sin + b * cos], axis=-1).reshape(d)

    keys = [[] for _ in range(layers)]
    values = [[] for _ in range(layers)]
    for p, token in enumerate(ids):
        x = w["tok_embeddings.weight"][token].copy()
        for i in range(layers):
            pre = f"layers.{i}."
            h = rmsnorm(x, w[pre + "norm.attn.weight"])
            q = rope(w[pre + "attention.query.weight"] @ h, p)
            keys[i].append(rope(w[pre + "attention.key.weight"] @ h, p))
            values[i].append(w[pre + "attention.value.weight"] @ h)
            k, v = np.stack(keys[i]), np.stack(values[i])
            out = np.empty(d)
            for j in range(heads):
                s = slice(j * hd, (j + 1) * hd)
                scores = k[:, s] @ q[s] / math.sqrt(hd)
                weights = np.exp(scores - scores.max())
                out[s] = (weights / weights.sum()) @ v[:, s]
            x = x + w[pre + "attention.output.weight"] @ out
            h = rmsnorm(x, w[pre + "norm.ffn.weight"])
            gate, up = w[pre + "ffn.w1.weight"] @ h, w[pre + "ffn.w3.weight"] @ h
            x = x + w[pre + "ffn.w2.weight"] @ (gate / (1 + np.exp(-gate)) * up)
    return head[:vocab] @ rmsnorm(x, w["final_layernorm.weight"])


def write_model(folder: Path, vocab: int, d: int, layers: int, heads: int, context: int, seed: int) -> Path:
    """A random model built by our builder from .npy files."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(
        {"hidden_size": d, "num_layers": layers, "num_heads": heads, "max_context": context, "model_name": "runtime-test"}))
    (folder / "tokenizer.json").write_text(json.dumps({"vocab": char_vocab(vocab), "merges": []}))
    for name, array in model_tensors(vocab, d, layers, seed).items():
        np.save(folder / f"{name}.npy", array)
    out = folder.parent / f"{folder.name}.bullet"
    build_bullet(folder, out)
    return out


@pytest.fixture(scope="module")
def random_model(tmp_path_factory) -> Path:
    return write_model(tmp_path_factory.mktemp("rt") / "m64", vocab=30, d=64, layers=2, heads=4, context=32, seed=5)


@pytest.mark.parametrize("source", ["random", "reference-597vocab.bullet", "reference-tiny.bullet"])
def test_scalar_and_simd_logits_equal_numpy_float64(source, random_model):
    path = random_model if source == "random" else FIXTURES / source
    header, weights = load_weights(path)
    ids = [(7 * i + 3) % header["vocab_size"] for i in range(9)]
    expected = numpy_logits(header, weights, ids)
    with Model(path) as model:
        scalar = model.logits(ids, reference=True)
        simd = model.logits(ids)
    assert scalar.shape == simd.shape == (header["vocab_size"],)
    np.testing.assert_allclose(scalar, expected, rtol=0, atol=1e-4)
    # The SIMD pass quantizes activations to int8: the stated tolerance is 4 % of the logits' range (docs/runtime.md).
    np.testing.assert_allclose(simd, expected, rtol=0, atol=LOGIT_TOLERANCE * np.ptp(expected) + 1e-6)
    if source == "random":
        assert np.ptp(expected) > 0.1  # a check that could fail: the logits differ between tokens


def test_the_published_library_runs_the_best_kernel_this_processor_has():
    """NativeAOT fixes instruction sets at compile time: AVX-512 comes from the second library, AVX-VNNI from a run-time check."""
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    avx512 = {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"} <= flags
    expected = "Avx512" if avx512 else "AvxVnni" if "avx_vnni" in flags else "Avx2"
    with Model(FIXTURES / "reference-tiny.bullet") as model:
        runtime = model.info["runtime"]
    assert runtime["kernel"] == expected, runtime
    assert runtime["avx512_library"].startswith("loaded ") == avx512, runtime


def test_token_choices_match_a_float_softmax(random_model):
    """Why each token: the candidates' model probabilities are a float64 softmax of the format's logits, sum to at most 1,
    and the sampled probabilities are those of the reshaped distribution (top_k 5: zero outside the five)."""
    header, weights = load_weights(random_model)
    prompt = [3, 4, 5]
    with Model(random_model) as model:
        result = model.generate(model_prompt_text(model, prompt), temperature=0.8, top_k=5, top_p=1, seed=2, max_tokens=6,
                                top_logprobs=8)
    ids = list(prompt)
    for token, choice in zip(result["tokens"], result["choices"]):
        logits = numpy_logits(header, weights, ids)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        top = choice["top"]
        assert len(top) == 8 and sum(c["p"] for c in top) <= 1 + 1e-12
        assert [c["p"] for c in top] == sorted((c["p"] for c in top), reverse=True)
        for c in top + [choice["chosen"]]:
            assert c["p"] == pytest.approx(p[c["id"]], abs=0.02)
        assert sum(c["p_sampled"] for c in top) == pytest.approx(1, abs=1e-9)  # the five kept tokens are among the eight
        assert sum(1 for c in top if c["p_sampled"] > 0) == 5
        assert choice["chosen"]["id"] == token and choice["chosen"]["p_sampled"] > 0
        ids.append(token)


def model_prompt_text(model: Model, ids: list[int]) -> str:
    """The text of token ids (a character model: one character each)."""
    return "".join(char_vocab(model.vocab_size)[i] for i in ids)


def test_info_lists_warnings_and_runtime_choices():
    with Model(FIXTURES / "reference-597vocab.bullet") as model:
        info = model.info
    assert info["header"]["vocab_size"] == 597
    assert any("rows for a vocabulary of 597" in w for w in info["warnings"])
    assert any("decodes to all zeros" in w for w in info["warnings"])
    assert info["runtime"]["head"] == "output_head.weight"
    assert info["runtime"]["weight_bytes_per_token"] > 0


def test_load_from_bytes_generates_like_load_from_path(random_model):
    with Model(random_model) as a, Model(random_model.read_bytes()) as b:
        assert a.generate("abc", temperature=0, max_tokens=12)["tokens"] == b.generate("abc", temperature=0, max_tokens=12)["tokens"]


def test_seeded_sampling_is_reproducible_and_greedy_equivalents_agree(random_model):
    with Model(random_model) as model:
        first = model.generate("ab", temperature=1.2, top_k=0, top_p=1.0, seed=42, max_tokens=25)
        again = model.generate("ab", temperature=1.2, top_k=0, top_p=1.0, seed=42, max_tokens=25)
        other = model.generate("ab", temperature=1.2, top_k=0, top_p=1.0, seed=43, max_tokens=25)
        greedy = model.generate("ab", temperature=0, max_tokens=25)
        top1 = model.generate("ab", temperature=0.9, top_k=1, seed=3, max_tokens=25)
    assert first["text"] == again["text"] and first["tokens"] == again["tokens"] and first["seed"] == 42
    assert other["tokens"] != first["tokens"]
    assert top1["tokens"] == greedy["tokens"]
    assert len(greedy["tokens"]) == 25 and greedy["stop_reason"] == "max_tokens"
    assert greedy["tokens_per_second"] > 0 and greedy["time_to_first_token_ms"] > 0


def test_stream_pieces_add_up_to_generate_text(random_model):
    with Model(random_model) as model:
        whole = model.generate("ca", temperature=0.7, seed=9, max_tokens=20)
        stream = model.stream("ca", temperature=0.7, seed=9, max_tokens=20)
        pieces = list(stream)
    assert "".join(pieces) == whole["text"]
    assert len(pieces) >= 2
    assert stream.result["tokens"] == whole["tokens"]


@pytest.mark.parametrize("bad, named", [
    ({"temperature": -0.5}, "temperature"), ({"top_p": 2}, "top_p"), ({"top_k": -1}, "top_k"),
    ({"repetition_penalty": 0}, "repetition_penalty"), ({"max_tokens": -3}, "max_tokens"), ({"context": "wrap"}, "context"),
])
def test_invalid_sampling_values_are_clear_errors(random_model, bad, named):
    with Model(random_model) as model:
        with pytest.raises(BulletError, match=named) as error:
            model.generate("a", **bad)
        assert error.value.status == 1
        with pytest.raises(TypeError, match="temprature"):
            model.generate("a", temprature=1)


def test_perplexity_and_attention(random_model):
    with Model(random_model) as model:
        result = model.perplexity("abcabcabc " * 10)
        weights, tokens = model.attention("abcab", return_tokens=True)
    assert result["tokens_scored"] == 99 and result["windows"] > 1 and result["perplexity"] > 1
    assert result["avg_token_probability"] * result["perplexity"] == pytest.approx(1, abs=1e-9)
    assert weights.shape == (2, 4, 5, 5) and tokens == list("abcab")
    np.testing.assert_allclose(weights.sum(axis=-1), 1, atol=1e-5)
    assert np.all(np.triu(weights, k=1) == 0)


def mutate(original: bytes, rng: random.Random) -> bytes:
    """The foundation's mutations: truncation, byte flips, a large u32 over a field, a header digit, a cut-out span."""
    kind = rng.randrange(5)
    data = bytearray(original)
    if kind == 0:
        return bytes(data[:rng.randrange(len(data))])
    if kind == 1:
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
    elif kind == 2:
        at = rng.randrange(min(len(data) - 4, 20000)) if rng.random() < 0.5 else rng.randrange(len(data) - 4)
        data[at:at + 4] = rng.choice([0xFFFFFFFF, 0x7FFFFFFF, rng.randrange(2**32)]).to_bytes(4, "little")
    elif kind == 3:
        at = rng.randrange(max(1, data.index(0)))
        data[at] = ord("0") + rng.randrange(10) if chr(data[at]).isdigit() else rng.randrange(32, 127)
    else:
        start = rng.randrange(len(data))
        del data[start:start + rng.randrange(1, 65)]
    return bytes(data)


@pytest.mark.parametrize("source", ["reference-tiny.bullet", "random"])
def test_mutated_files_never_crash_model(source, random_model):
    original = (random_model if source == "random" else FIXTURES / source).read_bytes()
    rng = random.Random(2024)
    loaded = rejected = 0
    for _ in range(150):
        try:
            model = Model(mutate(original, rng))
        except BulletError:
            rejected += 1
            continue
        with model:
            loaded += 1
            model.generate("ab", temperature=0.5, seed=1, max_tokens=3)
    assert rejected > 30 and loaded + rejected == 150


def test_truncated_file_cannot_be_loaded(random_model):
    data = random_model.read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 100):
        with pytest.raises(BulletError):
            Model(data[:cut])


def test_generate_command_streams_to_stdout_and_reports_speed(random_model, capsys):
    code = main_generate([str(random_model), "abc", "--temperature", "0", "--max-tokens", "8"])
    out, err = capsys.readouterr()
    with Model(random_model) as model:
        expected = model.generate("abc", temperature=0, max_tokens=8)["text"]
    assert code == 0
    assert out == expected + "\n"
    assert "8 tokens" in err and "tokens/s" in err


def test_generate_command_reports_errors(tmp_path, capsys):
    missing = tmp_path / "nope.bullet"
    assert main_generate([str(missing), "x"]) == 1
    assert "error:" in capsys.readouterr().err


def test_closed_model_is_a_clear_error_and_stream_survives_model_close(random_model):
    model = Model(random_model)
    stream = model.stream("ab", temperature=0, max_tokens=5)
    model.close()
    assert len("".join(stream)) > 0 and stream.result["token_count"] == 5
    with pytest.raises(BulletError, match="closed"):
        model.generate("a")


def test_a_batch_gives_each_generation_its_text_alone(random_model):
    """Continuous batching through the binding: generations submitted together (from threads, with different lengths
    and a sampled one) get the tokens they get alone, and their streamed pieces add up to their texts."""
    from concurrent.futures import ThreadPoolExecutor

    prompts = ["abc", "hello there", "b", "the quick brown fox"]
    options = [dict(temperature=0, max_tokens=12 + 5 * i) for i in range(4)]
    options[2] = dict(temperature=1.1, top_k=0, top_p=0.9, seed=3, max_tokens=20)
    with Model(random_model) as model:
        alone = [model.generate(p, **o) for p, o in zip(prompts, options)]
        with model.batch(tokens_per_step=16) as batch:
            streams = [batch.submit(p, **o) for p, o in zip(prompts, options)]
            with ThreadPoolExecutor(4) as pool:
                texts = list(pool.map(lambda s: "".join(s), streams))
            whole = batch.generate(prompts[0], **options[0])
    for stream, text, expected in zip(streams, texts, alone):
        assert text == expected["text"] == stream.result["text"]
        assert stream.result["tokens"] == expected["tokens"]
    assert whole["tokens"] == alone[0]["tokens"]
    assert len({tuple(a["tokens"]) for a in alone}) > 1  # different prompts, different texts: the comparison can fail
    with pytest.raises(TypeError, match="unknown batching option"):
        Model(random_model).batch(threadz=2)
