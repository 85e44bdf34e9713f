"""The drop-in for the old bullet-builder: the same script against the console program and the class."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bullet_native import BulletBuilder, BulletError, inspect
from conftest import model_tensors

# vocab.txt as the old builder read it: "token score" or just "token", CRLF endings, an empty line,
# the space token written as " <score>" after the separating space.
VOCAB = "<unk> 0\r\n  -1\r\na -2\r\nb -3\r\nc\r\n\r\nab -5\r\nabc -6\r\n"
MERGES = "a b\r\nab c\r\n"


def _write_inputs(folder: Path) -> tuple[Path, Path]:
    vocab, merges = folder / "vocab.txt", folder / "merges.txt"
    vocab.write_bytes(VOCAB.encode())
    merges.write_bytes(MERGES.encode())
    return vocab, merges


def _builder_command() -> list[str]:
    exe = shutil.which("bullet-builder", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "bullet_native.legacy_builder"]


def test_console_program_and_class_write_the_same_file(tmp_path: Path):
    vocab, merges = _write_inputs(tmp_path)
    cli_out, class_out = tmp_path / "cli.bullet", tmp_path / "class.bullet"
    result = subprocess.run([*_builder_command(), str(vocab), str(merges), str(cli_out),
                             "--hidden", "32", "--layers", "1", "--heads", "2", "--max-context", "64"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "random test weights" in result.stdout

    builder = BulletBuilder(class_out)
    builder.load_vocab(vocab)
    builder.load_merges(merges)
    builder.set_metadata(32, 1, 2, 64)
    builder.build()

    info = inspect(cli_out)
    assert info["header"]["vocab_size"] == 7
    assert info["tokenizer"]["merges"] == 2
    assert info["tokenizer"]["first_tokens"][:3] == ["<unk>", " ", "a"]
    assert cli_out.read_bytes() == class_out.read_bytes()


def test_class_with_real_tensors_and_flat_lists(tmp_path: Path):
    vocab, merges = _write_inputs(tmp_path)
    builder = BulletBuilder(tmp_path / "real.bullet")
    builder.load_vocab(vocab)
    builder.load_merges(merges)
    builder.set_metadata(32, 1, 2, 64)
    for i, (name, array) in enumerate(model_tensors(7, 32, 1).items()):
        builder.add_tensor(name, array.shape, array.ravel().tolist() if i % 2 else array)
    report = builder.build()
    assert report["quantization_error"]["relative_rmse"] < 0.1
    assert not any("random" in w for w in report["warnings"])


def test_console_program_with_weights_folder_and_bad_input(tmp_path: Path):
    vocab, merges = _write_inputs(tmp_path)
    weights = tmp_path / "w"
    weights.mkdir()
    for name, array in model_tensors(7, 32, 1).items():
        np.save(weights / f"{name}.npy", array)
    out = tmp_path / "w.bullet"
    cmd = [*_builder_command(), str(vocab), str(merges), str(out), "--hidden", "32", "--layers", "1", "--heads", "2"]
    result = subprocess.run([*cmd, "--weights", str(weights)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "random" not in result.stdout

    (weights / "output_head.weight.npy").unlink()
    result = subprocess.run([*cmd, "--weights", str(weights)], capture_output=True, text=True)
    assert result.returncode == 1
    assert 'missing tensor "output_head.weight"' in result.stderr


def test_build_without_vocab_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ValueError, match="load_vocab"):
        BulletBuilder(tmp_path / "x.bullet").build()
    builder = BulletBuilder(tmp_path / "x.bullet")
    builder.load_vocab(tmp_path / "missing.txt")
    builder.set_metadata(32, 1, 2, 64)
    with pytest.raises(BulletError):
        builder.build()
