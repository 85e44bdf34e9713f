"""bullet_native.torch: the PyTorch model computes what our runtime computes, and weights cross between them exactly.

The PyTorch half of each test runs in a child Python (torch_checks.py); see torch_support.py for why.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bullet_native as bn
from bullet_native.training import libtorch_loaded
from conftest import REPO, char_vocab, model_tensors
from torch_support import run_check, torch_python  # noqa: F401  (torch_python is a fixture)

TEXT = ("the cat sat on the mat. a dog ate the hat. some birds sing when morning comes, "
        "quick brown foxes jump over lazy dogs. ") * 12


def load_npy_folder(folder: Path) -> dict[str, np.ndarray]:
    return {p.name[:-len(".npy")]: np.load(p) for p in folder.glob("*.npy")}


def test_logits_equal_our_runtime_on_the_same_weights(torch_python, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(
        {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "vocab_size": 40, "max_context": 32}))
    (folder / "tokenizer.json").write_text(json.dumps({"vocab": char_vocab(40), "merges": []}))
    for name, array in model_tensors(40, 64, 2, seed=5).items():
        np.save(folder / f"{name}.npy", array * (4 if array.ndim == 2 else 1))  # logits far from zero
    bn.build_bullet(folder, tmp_path / "model.bullet")
    ids = [int(i) for i in np.random.default_rng(1).integers(0, 40, 32)]

    result = run_check(torch_python, "logits", tmp_path, bullet=str(tmp_path / "model.bullet"), ids=ids)

    assert sorted(result["state_dict"]) == sorted(result["names"]), "parameter names are the .bullet tensor names"
    assert result["parameters"] == 40 * 64 * 2 + 2 * (4 * 64 * 64 + 3 * 64 * 256 + 2 * 64) + 64
    torch_logits = np.array(result["logits"], dtype=np.float32)
    with bn.Model(tmp_path / "model.bullet") as model:
        ours = np.stack([model.logits(ids[:n], reference=True) for n in range(1, len(ids) + 1)])
        fast = np.stack([model.logits(ids[:n]) for n in range(1, len(ids) + 1)])
    assert np.abs(ours).max() > 1.0
    assert np.abs(torch_logits - ours).max() < 1e-4
    # The SIMD pass (int8 activations) within the runtime's stated tolerance: 4 % of each position's logit range.
    assert (np.abs(fast - ours).max(axis=1) <= 0.04 * np.ptp(ours, axis=1)).all()


@pytest.mark.parametrize("tied", [False, True])
def test_round_trip_through_bullet_gives_the_dequantized_weights_exactly(torch_python, tmp_path, tied):
    result = run_check(torch_python, "round_trip", tmp_path, text=TEXT, tied=tied)

    original = load_npy_folder(tmp_path / "original")
    imported = load_npy_folder(tmp_path / "imported")
    assert sorted(imported) == sorted(original) and len(original) == 2 + 2 * 9 + 1
    for name, values in original.items():
        expected = bn.dequantize_bq4(bn.quantize_bq4(values), values.size).reshape(values.shape)
        assert np.array_equal(imported[name], expected), name
    assert result["tied_back"] is tied and result["config_back"]["tied_head"] is tied
    assert np.array_equal(original["tok_embeddings.weight"], original["output_head.weight"]) is tied

    # The C# trainer's initialization: N(0, 0.02), residual projections 0.02/sqrt(2 layers), norms 1.
    assert 0.018 < original["layers.0.attention.query.weight"].std() < 0.022
    assert 0.009 < original["layers.1.ffn.w2.weight"].std() < 0.011
    assert np.all(original["final_layernorm.weight"] == 1.0)

    report = result["report"]
    assert report["header"]["model_name"] == "round-trip" and report["tensor_count"] == 21
    assert 0 < report["quantization_error"]["relative_rmse"] < 0.1
    assert report["float_perplexity"] > 1 and 0.95 < report["perplexity_ratio"] < 1.05
    with bn.Model(tmp_path / "model.bullet") as model:
        assert model.perplexity(TEXT)["perplexity"] == pytest.approx(report["bq4_perplexity"], rel=1e-4)
    assert result["gguf_tensors"] == 21 and (tmp_path / "model.gguf").stat().st_size > 0


def test_a_trainer_checkpoint_loads_as_the_sessions_model(torch_python, tmp_path):
    config = {"preset": "tiny", "tokenizer": "char", "vocab_size": 0, "hidden_size": 32, "num_layers": 1,
              "num_heads": 2, "max_seq_len": 16, "batch_size": 4, "total_steps": 6, "ema_decay": 0,
              "eval_every": 0, "sample_every": 0, "attention_every": 0}
    with bn.TrainingSession(config, text=TEXT) as session:
        for _ in range(6):
            session.train_step()
        checkpoint = session.checkpoint(tmp_path / "checkpoint")
        session.export(tmp_path / "session.bullet", float_dir=tmp_path / "float")

    result = run_check(torch_python, "checkpoint", tmp_path, folder=checkpoint)

    assert result["config"]["max_context"] == 16 and result["config"]["hidden_size"] == 32
    session_weights = bn.read_safetensors(tmp_path / "float" / "model.safetensors")
    loaded = load_npy_folder(tmp_path / "from_checkpoint")
    assert sorted(loaded) == sorted(session_weights)
    for name, values in session_weights.items():
        assert np.array_equal(loaded[name], values), name
    assert bn.Tokenizer.load(tmp_path / "from_checkpoint" / "tokenizer.json").vocab() == bn.Tokenizer.load(tmp_path / "session.bullet").vocab()
    ids = bn.Tokenizer.load(tmp_path / "session.bullet").encode("the cat sat on")
    with bn.Model(tmp_path / "session.bullet") as exported, bn.Model(tmp_path / "torch.bullet") as packed:
        assert np.array_equal(packed.logits(ids), exported.logits(ids))


def test_pytorch_and_the_trainer_refuse_to_share_a_process(torch_python, tmp_path):
    beside = run_check(torch_python, "trainer_beside_torch", tmp_path, text=TEXT)
    assert "another libtorch is already loaded in this process" in beside["error"]

    with bn.TrainingSession({"preset": "tiny", "tokenizer": "char", "vocab_size": 0, "total_steps": 2}, text=TEXT) as session:
        session.train_step()
    assert libtorch_loaded()
    with pytest.raises(ImportError, match="cannot be used in this process"):
        import bullet_native.torch  # noqa: F401  (refused before torch itself is imported)


def test_the_torch_examples_in_docs_python_md_run(torch_python, tmp_path):
    text = (REPO / "docs" / "python.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in text.split("```py\n")[1:]]
    assert len(blocks) >= 5
    assert run_check(torch_python, "docs", tmp_path, blocks=blocks)["blocks"] == len(blocks)
