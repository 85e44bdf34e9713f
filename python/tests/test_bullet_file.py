"""inspect, build_bullet and the command line against the real native library."""
from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bullet_native
from bullet_native import BulletError, build_bullet, inspect
from bullet_native._native import missing_cpu_flags
from conftest import FIXTURES, REPO, model_tensors


def test_reference_fixtures_inspect_with_documented_values():
    info = inspect(FIXTURES / "reference-597vocab.bullet")
    h = info["header"]
    assert (h["hidden_size"], h["num_layers"], h["num_heads"], h["vocab_size"], h["max_context"]) == (128, 4, 4, 597, 64)
    assert info["tensor_count"] == 39
    assert info["tokenizer"]["merges"] == 0
    names = {t["name"] for t in info["tensors"]}
    assert "layers.3.ffn.w2.weight" in names and "output_head.weight" in names
    emb = next(t for t in info["tensors"] if t["name"] == "tok_embeddings.weight")
    assert emb["shape"] == [2000, 128]
    assert any("2000 rows for a vocabulary of 597" in w for w in info["warnings"])

    tiny = inspect(FIXTURES / "reference-tiny.bullet")
    assert tiny["header"]["vocab_size"] == 100 and tiny["tensor_count"] == 23
    assert sum("unknown name" in w for w in tiny["warnings"]) == 11
    assert sum(t["used"] for t in tiny["tensors"]) == 12


def test_build_from_npy_folder_round_trips(npy_folder: Path, tmp_path: Path):
    out = tmp_path / "m.bullet"
    report = build_bullet(npy_folder, out)
    assert out.exists() and report["file_size"] == out.stat().st_size
    assert report["header"]["model_name"] == "npy-test"
    assert report["tensor_count"] == 12
    assert 0 < report["quantization_error"]["relative_rmse"] < 0.1
    again = inspect(out)
    assert again["header"] == report["header"] and again["warnings"] == []


def test_build_from_safetensors_matches_npy_build(npy_folder: Path, tmp_path: Path):
    tensors = {p.name[:-4]: np.load(p) for p in npy_folder.glob("*.npy")}
    # A safetensors file written here from its public description: u64 header size, JSON header, raw data.
    header, blobs, offset = {}, [], 0
    for name, array in sorted(tensors.items()):
        data = array.astype("<f2").tobytes()
        header[name] = {"dtype": "F16", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    st_folder = tmp_path / "st"
    st_folder.mkdir()
    for f in ("config.json", "tokenizer.json"):
        (st_folder / f).write_bytes((npy_folder / f).read_bytes())
    text = json.dumps(header).encode()
    (st_folder / "model.safetensors").write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    report = build_bullet(st_folder, tmp_path / "st.bullet")
    assert report["tensor_count"] == 12
    assert report["quantization_error"]["relative_rmse"] < 0.1


def test_missing_and_misshaped_tensors_are_named(npy_folder: Path, tmp_path: Path):
    (npy_folder / "final_layernorm.weight.npy").unlink()
    np.save(npy_folder / "layers.0.attention.key.weight.npy", np.zeros((16, 32), np.float32))
    with pytest.raises(BulletError) as e:
        build_bullet(npy_folder, tmp_path / "x.bullet")
    message = str(e.value)
    assert 'missing tensor "final_layernorm.weight" (expected shape [32])' in message
    assert 'tensor "layers.0.attention.key.weight": expected shape [32, 32], found [16, 32]' in message
    assert not (tmp_path / "x.bullet").exists()


def test_layers_subfolder_form_is_accepted(npy_folder: Path, tmp_path: Path):
    for path in list(npy_folder.glob("layers.0.*.npy")):
        target = npy_folder / "layers" / "0" / path.name[len("layers.0."):]
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    assert build_bullet(npy_folder, tmp_path / "sub.bullet")["tensor_count"] == 12


def test_errors_raise_bullet_error_with_native_message(tmp_path: Path):
    with pytest.raises(BulletError, match="no such file"):
        inspect(tmp_path / "nope.bullet")
    bad = tmp_path / "bad.bullet"
    bad.write_bytes(b'{"bullet_version": "1.0"}\0\0\0\0' + b"\0" * 64)
    with pytest.raises(BulletError, match="architecture") as e:
        inspect(bad)
    assert e.value.status == 3
    with pytest.raises(BulletError, match="unknown build option"):
        build_bullet(tmp_path, tmp_path / "o.bullet", colour="red")


def test_mutated_files_raise_bullet_error_and_the_interpreter_lives(tmp_path: Path):
    original = (FIXTURES / "reference-tiny.bullet").read_bytes()
    rng = random.Random(7)
    outcomes = {"loaded": 0, "rejected": 0}
    path = tmp_path / "m.bullet"
    for _ in range(300):
        data = bytearray(original)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
        try:
            inspect(path)
            outcomes["loaded"] += 1
        except BulletError:
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 50
    assert inspect(FIXTURES / "reference-tiny.bullet")["tensor_count"] == 23


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bullet_native", *args], capture_output=True, text=True, cwd=REPO)


def test_cli_inspect_build_and_errors(npy_folder: Path, tmp_path: Path):
    result = _cli("inspect", str(FIXTURES / "reference-tiny.bullet"))
    assert result.returncode == 0
    assert json.loads(result.stdout)["header"]["vocab_size"] == 100

    out = tmp_path / "cli.bullet"
    result = _cli("build", str(npy_folder), str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tensor_count"] == 12 and out.exists()

    result = _cli("inspect", str(tmp_path / "missing.bullet"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_version_and_library_path():
    assert bullet_native.version().count(".") == 2
    assert bullet_native.library_path().name == "libbullet_native.so"


def test_a_cpu_without_x86_64_v3_is_named_before_the_library_loads():
    assert missing_cpu_flags("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma bmi1 bmi2 abm movbe\n") == []
    assert missing_cpu_flags("processor\t: 0\nflags\t\t: fpu sse2 sse4_2 avx\n") == ["avx2", "fma", "bmi1", "bmi2"]
    with open("/proc/cpuinfo") as cpuinfo:  # this machine runs the library, so it has them all
        assert missing_cpu_flags(cpuinfo.read()) == []


def test_unpack_bullet_writes_the_builders_folder_with_the_files_decoded_weights(npy_folder, tmp_path):
    built = build_bullet(npy_folder, tmp_path / "model.bullet")
    report = bullet_native.unpack_bullet(tmp_path / "model.bullet", tmp_path / "unpacked")

    assert sorted(p.name for p in (tmp_path / "unpacked").iterdir()) == [".bullet-generated", "config.json", "model.safetensors", "tokenizer.json"]
    assert report["model"]["hidden_size"] == 32 and report["tied_head"] is False and report["tensor_count"] == 12
    config = json.loads((tmp_path / "unpacked" / "config.json").read_text())
    assert config["model_name"] == built["header"]["model_name"] == "npy-test"
    weights = bullet_native.read_safetensors(tmp_path / "unpacked" / "model.safetensors")
    source = {p.name[:-4]: np.load(p) for p in npy_folder.glob("*.npy")}
    for name, values in source.items():
        expected = bullet_native.dequantize_bq4(bullet_native.quantize_bq4(values), values.size).reshape(values.shape)
        assert np.array_equal(weights[name], expected), name
    again = build_bullet(tmp_path / "unpacked", tmp_path / "again.bullet")
    assert again["header"]["vocab_size"] == 20 and again["quantization_error"]["relative_rmse"] < 0.01

    (tmp_path / "unpacked" / "mine.txt").write_text("keep me")
    with pytest.raises(BulletError, match='already holds "mine.txt"'):
        bullet_native.unpack_bullet(tmp_path / "model.bullet", tmp_path / "unpacked")
    assert (tmp_path / "unpacked" / "mine.txt").read_text() == "keep me"
