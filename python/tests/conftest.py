"""Shared fixtures: paths to ../shared fixtures and small models written through the builder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

from bullet_native import build_bullet

REPO = Path(__file__).resolve().parents[2]
# The API contract tests use the tool that makes the document and the frontend's types (tools/api_contract.py).
sys.path.insert(0, str(REPO / "tools"))
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"


def first_line(process: subprocess.Popen, expected: str, timeout: float = 60) -> str:
    """The first line a child prints (text mode), which must contain ``expected``; a child that prints something else
    or nothing within ``timeout`` seconds is killed and the test fails with its stderr (never a hang)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if lines and expected in lines[0]:
        return lines[0]
    process.kill()
    heard = repr(lines[0]) if lines else f"nothing within {timeout:.0f} s"
    raise AssertionError(f"expected a line with {expected!r} from {process.args!r}, got {heard}; stderr:\n{process.stderr.read()}")


TENSOR_SUFFIXES = [
    ("norm.attn.weight", lambda d: (d,)),
    ("attention.query.weight", lambda d: (d, d)),
    ("attention.key.weight", lambda d: (d, d)),
    ("attention.value.weight", lambda d: (d, d)),
    ("attention.output.weight", lambda d: (d, d)),
    ("norm.ffn.weight", lambda d: (d,)),
    ("ffn.w1.weight", lambda d: (4 * d, d)),
    ("ffn.w3.weight", lambda d: (4 * d, d)),
    ("ffn.w2.weight", lambda d: (d, 4 * d)),
]


def model_tensors(vocab: int, d: int, layers: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 tensors for every name of docs/format.md, Tensors (written here from that document)."""
    rng = np.random.default_rng(seed)
    tensors = {"tok_embeddings.weight": rng.normal(0, 0.05, (vocab, d))}
    for i in range(layers):
        for suffix, shape in TENSOR_SUFFIXES:
            s = shape(d)
            tensors[f"layers.{i}.{suffix}"] = 1 + rng.normal(0, 0.01, s) if len(s) == 1 else rng.normal(0, 0.05, s)
    tensors["final_layernorm.weight"] = 1 + rng.normal(0, 0.01, (d,))
    tensors["output_head.weight"] = rng.normal(0, 0.05, (vocab, d))
    return {k: v.astype(np.float32) for k, v in tensors.items()}


def char_vocab(n: int) -> list[str]:
    """`<unk>`, space, then n-2 distinct single characters."""
    letters = [chr(c) for c in range(ord("a"), ord("a") + n - 2)]
    return ["<unk>", " "] + letters


@pytest.fixture
def npy_folder(tmp_path: Path) -> Path:
    """A builder input folder: config.json, tokenizer.json and one .npy per tensor (d=32, 1 layer, vocab 20)."""
    folder = tmp_path / "model"
    folder.mkdir()
    vocab = char_vocab(20)
    (folder / "config.json").write_text(json.dumps(
        {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "vocab_size": 20, "max_context": 16, "model_name": "npy-test"}))
    (folder / "tokenizer.json").write_text(json.dumps({"vocab": vocab, "merges": []}))
    for name, array in model_tensors(20, 32, 1).items():
        np.save(folder / f"{name}.npy", array)
    return folder


def pytest_sessionfinish(session, exitstatus):
    """Stops anyio worker threads left behind by starlette 0.26's TestClient.

    They are non-daemon threads blocked on their work queue once the event loop that owned them has gone away
    (after streamed responses), so without this the interpreter's exit would wait on them forever.
    """
    import threading

    for thread in threading.enumerate():
        if type(thread).__name__ == "WorkerThread" and type(thread).__module__.startswith("anyio"):
            try:
                thread.queue.put_nowait(None)
            except Exception:  # a full queue means the worker is busy and will see the loop close
                pass


# The trainer caches its speed calibration per machine; tests measure into a folder of their own.
os.environ.setdefault("BULLET_NATIVE_CACHE_DIR", tempfile.mkdtemp(prefix="bullet-native-cache-"))


def write_model(folder: Path, name: str) -> Path:
    """A random character-level model (d 64, 2 layers, context 128) named `name`."""
    source = folder / f"{name}-source"
    source.mkdir(parents=True)
    (source / "config.json").write_text(json.dumps(
        {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "max_context": 128, "model_name": name}))
    (source / "tokenizer.json").write_text(json.dumps({"vocab": char_vocab(40), "merges": []}))
    for tensor, array in model_tensors(40, 64, 2, seed=3).items():
        np.save(source / f"{tensor}.npy", array)
    out = folder / f"{name}.bullet"
    build_bullet(source, out)
    return out
