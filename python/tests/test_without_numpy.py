"""numpy is optional: without it the same calls return lists, equal to the arrays they return with it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bullet_native import BulletBuilder, Model, build_bullet, read_safetensors, unpack_bullet
from conftest import REPO, char_vocab

# Runs in a child process where `import numpy` fails, as in an environment without it.
WITHOUT_NUMPY = """
import json, sys
sys.modules["numpy"] = None
import bullet_native as bn
from bullet_native import arrays
assert arrays.np is None
unpacked, bullet, vocab, out = sys.argv[1:5]
weights = bn.read_safetensors(unpacked)
with bn.Model(bullet) as model:
    attention = model.attention("abc")
    logits = model.logits([1, 2, 3])
builder = bn.BulletBuilder(out)
builder.load_vocab(vocab)
builder.set_metadata(32, 1, 2, 16)
for name, values in weights.items():
    flat = values if not isinstance(values[0], list) else [v for row in values for v in row]
    builder.add_tensor(name, [len(values)] + ([len(values[0])] if isinstance(values[0], list) else []), flat)
builder.build()
print(json.dumps({"weights": weights, "attention": attention, "logits": logits}))
"""


def test_lists_without_numpy_equal_the_arrays_with_it(npy_folder: Path, tmp_path: Path):
    bullet = tmp_path / "model.bullet"
    build_bullet(npy_folder, bullet)
    unpack_bullet(bullet, tmp_path / "unpacked")
    safetensors = tmp_path / "unpacked" / "model.safetensors"
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"{token} 0\n" for token in char_vocab(20)), encoding="utf-8")

    child = subprocess.run([sys.executable, "-c", WITHOUT_NUMPY, str(safetensors), str(bullet), str(vocab),
                            str(tmp_path / "lists.bullet")],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO / "python")}, timeout=300)
    assert child.returncode == 0, child.stderr
    lists = json.loads(child.stdout)

    arrays = read_safetensors(safetensors)
    assert lists["weights"] == {name: array.tolist() for name, array in arrays.items()}
    assert isinstance(lists["weights"]["tok_embeddings.weight"][0], list)
    with Model(bullet) as model:
        assert lists["attention"] == model.attention("abc").tolist()
        assert lists["logits"] == model.logits(np.array([1, 2, 3])).tolist()

    # The old builder class packs flat lists into the same file it packs from arrays.
    builder = BulletBuilder(tmp_path / "arrays.bullet")
    builder.load_vocab(vocab)
    builder.set_metadata(32, 1, 2, 16)
    for name, array in arrays.items():
        builder.add_tensor(name, array.shape, array)
    builder.build()
    assert (tmp_path / "lists.bullet").read_bytes() == (tmp_path / "arrays.bullet").read_bytes()
