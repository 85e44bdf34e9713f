"""The PyTorch side of the test_torch_* tests, run in a child Python by torch_support.run_check (never imported by
pytest: torch must not enter the pytest process). Usage: python torch_checks.py NAME JSON_ARGUMENTS; the last line
printed is the JSON result, which the test asserts on."""
from __future__ import annotations

import json
import sys

import torch

from bullet_native import BulletError, Tokenizer, TrainingSession
from bullet_native.torch import export, from_bullet, from_checkpoint, from_config, tensor_names, to_bullet, to_gguf


def logits(bullet: str, ids: list[int]) -> dict:
    """BulletTransformer's logits for every prefix of ids (one causal forward pass) from a .bullet's dequantized weights."""
    model, _ = from_bullet(bullet)
    model.eval()
    with torch.no_grad():
        rows = model(torch.tensor([ids]))[0]
    return {"logits": rows.tolist(), "state_dict": list(model.state_dict()), "names": tensor_names(model.config),
            "parameters": sum(p.numel() for p in model.parameters())}


def round_trip(text: str, tied: bool) -> dict:
    """A fresh model → .bullet (verified on text) → back; both models exported as .npy folders for the test to compare."""
    torch.manual_seed(7)
    tokenizer = Tokenizer.train(text, mode="char")
    model = from_config({"hidden_size": 64, "num_layers": 2, "num_heads": 4, "vocab_size": tokenizer.vocab_size,
                         "max_context": 32, "tied_head": tied, "model_name": "round-trip"})
    export(model, tokenizer, "original")
    report = to_bullet(model, tokenizer, "model.bullet", val_text=text)
    back, back_tokenizer = from_bullet("model.bullet")
    export(back, back_tokenizer, "imported")
    gguf = to_gguf(model, tokenizer, "model.gguf", type="f32")
    return {"report": dict(report), "tied_back": back.output_head.weight is back.tok_embeddings.weight,
            "config_back": back.config.to_dict(), "gguf_tensors": gguf.get("tensor_count")}


def checkpoint(folder: str) -> dict:
    """A trainer checkpoint → BulletTransformer → exported folder and a .bullet packed by our builder."""
    model, tokenizer = from_checkpoint(folder)
    export(model, tokenizer, "from_checkpoint")
    to_bullet(model, tokenizer, "torch.bullet")
    return {"config": model.config.to_dict(), "vocab_size": tokenizer.vocab_size}


def trainer_beside_torch(text: str) -> dict:
    """What a TrainingSession says when torch is already imported (it must refuse, not crash)."""
    try:
        TrainingSession({"preset": "tiny", "tokenizer": "char", "vocab_size": 0, "total_steps": 2}, text=text)
    except BulletError as error:
        return {"error": str(error)}
    return {"error": None}


def docs(blocks: list[str]) -> dict:
    """Runs the given example blocks in order in one namespace (cwd: the test's folder)."""
    namespace: dict = {"__name__": "docs_python_md_torch"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"docs/python.md torch block {number}", "exec"), namespace)
    return {"blocks": len(blocks)}


CHECKS = {f.__name__: f for f in (logits, round_trip, checkpoint, trainer_beside_torch, docs)}

if __name__ == "__main__":
    result = CHECKS[sys.argv[1]](**json.loads(sys.argv[2]))
    print(json.dumps(result))
