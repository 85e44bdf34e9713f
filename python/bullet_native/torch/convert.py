"""Between BulletTransformer and our files: export a builder folder, pack .bullet (verified) or GGUF, load a .bullet,
an unpacked or exported folder, or a trainer checkpoint back into PyTorch (dequantized)."""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..bullet_file import build_bullet, unpack_bullet
from ..gguf import export_gguf
from ..model import Model
from ..report import Report
from ..safetensors_file import read_safetensors
from ..tokenizer import Tokenizer
from .model import BulletConfig, BulletTransformer


def _unwrap(model: torch.nn.Module) -> BulletTransformer:
    """The BulletTransformer inside DistributedDataParallel / DataParallel wrappers."""
    inner = getattr(model, "module", model)
    if not isinstance(inner, BulletTransformer):
        raise TypeError(f"expected a BulletTransformer (or one wrapped by DDP), got {type(model).__name__}")
    return inner


def _tokenizer(tokenizer: "Tokenizer | str | os.PathLike[str]") -> Tokenizer:
    return tokenizer if isinstance(tokenizer, Tokenizer) else Tokenizer.load(tokenizer)


# Marks a folder as written by export (or bullet_unpack), so a later export may replace it; a user's own folder of
# .npy files looks the same by file names alone. The same name as the C# unpacker's marker.
MARKER = ".bullet-generated"


def _replace_folder(source: Path, target: Path) -> None:
    """Moves a finished temporary folder into place; an existing target must be empty or an earlier export (marked)."""
    if target.exists():
        entries = [p.name for p in target.iterdir()]
        foreign = [e for e in entries if not (e.endswith(".npy") or e in ("config.json", "tokenizer.json", MARKER))]
        if foreign:
            raise FileExistsError(f"{target} already holds {foreign[0]!r}; export into a new or empty folder")
        if entries and MARKER not in entries:
            raise FileExistsError(f"{target} already holds {entries[0]!r} and was not written by export; "
                                  "export into a new or empty folder")
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
        target.rename(old)
        source.rename(target)
        shutil.rmtree(old)
    else:
        source.rename(target)


def export(model: torch.nn.Module, tokenizer: "Tokenizer | str | os.PathLike[str]", out_dir: "str | os.PathLike[str]",
           model_name: str | None = None) -> Path:
    """Writes the folder build_bullet packs: one float32 ``<.bullet tensor name>.npy`` per tensor, config.json, tokenizer.json.

    ``tokenizer`` is a bullet_native.Tokenizer or a path it loads from. The folder appears complete or not at all.
    Returns its path.
    """
    inner = _unwrap(model)
    tok = _tokenizer(tokenizer)
    if tok.vocab_size != inner.config.vocab_size:
        raise ValueError(f"the tokenizer has {tok.vocab_size} tokens but the model's vocab_size is {inner.config.vocab_size}")
    target = Path(out_dir).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        for name, tensor in inner.bullet_tensors().items():
            np.save(temp / f"{name}.npy", tensor.to("cpu", torch.float32).numpy())
        config = inner.config.to_dict()
        if model_name is not None:
            config["model_name"] = model_name
        (temp / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        tok.save(temp / "tokenizer.json")
        (temp / MARKER).write_text("Written by bullet_native.torch.export; the next export into this folder replaces it.\n",
                                   encoding="utf-8")
        _replace_folder(temp, target)
    finally:
        if temp.exists():
            shutil.rmtree(temp)
    return target


@torch.no_grad()
def perplexity(model: torch.nn.Module, ids: "list[int] | torch.Tensor") -> dict[str, Any]:
    """Float perplexity over the windows our runtime's ``Model.perplexity`` uses: max_context tokens moving by half a
    window, every token after the first scored once. Returns perplexity, mean_nll, tokens_scored, windows."""
    inner = _unwrap(model)
    tokens = torch.as_tensor(ids, dtype=torch.long).flatten()
    if tokens.numel() < 2:
        raise ValueError(f"perplexity needs at least 2 tokens; the text has {tokens.numel()}")
    device = next(inner.parameters()).device
    window = inner.config.max_context
    stride = max(1, window // 2)
    was_training = inner.training
    inner.eval()
    total, scored, windows, last_scored, start = 0.0, 0, 0, 0, 0
    try:
        while last_scored < tokens.numel() - 1:
            end = min(tokens.numel(), start + window)
            chunk = tokens[start:end].to(device)
            logits = inner(chunk[None, :-1])[0].double()
            first_new = max(last_scored + 1, start + 1) - start  # index in chunk of the first target not yet scored
            nll = F.cross_entropy(logits[first_new - 1:], chunk[first_new:], reduction="sum")
            total += float(nll)
            scored += chunk.numel() - first_new
            windows += 1
            last_scored = end - 1
            start += stride
    finally:
        inner.train(was_training)
    mean = total / scored
    return {"perplexity": math.exp(mean), "mean_nll": mean, "tokens_scored": scored, "windows": windows}


def to_bullet(model: torch.nn.Module, tokenizer: "Tokenizer | str | os.PathLike[str]", path: "str | os.PathLike[str]",
              val_text: str | None = None, model_name: str | None = None) -> Report:
    """Packs the model into a BQ4 .bullet with our builder and returns its report (quantization error included).

    With ``val_text`` the file is also run by our runtime: the report gains ``float_perplexity`` (this module),
    ``bq4_perplexity`` (the .bullet) and their ``perplexity_ratio``, over the same windows.
    """
    tok = _tokenizer(tokenizer)
    with tempfile.TemporaryDirectory(prefix="bullet-export-") as tmp:
        folder = export(model, tok, Path(tmp) / "model", model_name=model_name)
        report = build_bullet(folder, path)
    if val_text is not None:
        floating = perplexity(model, tok.encode(val_text))
        with Model(path) as packed:
            quantized = packed.perplexity(val_text)
        report["float_perplexity"] = round(floating["perplexity"], 4)
        report["bq4_perplexity"] = round(quantized["perplexity"], 4)
        report["perplexity_ratio"] = round(math.exp(quantized["mean_nll"] - floating["mean_nll"]), 5)
        report["verify_tokens"] = quantized["tokens_scored"]
    return report


def to_gguf(model: torch.nn.Module, tokenizer: "Tokenizer | str | os.PathLike[str]", out_path: "str | os.PathLike[str]",
            type: str = "q4_0", model_name: str | None = None) -> dict[str, Any]:
    """Writes a llama-architecture GGUF (f32, f16, q8_0 or q4_0) through our GGUF exporter; returns its report."""
    with tempfile.TemporaryDirectory(prefix="bullet-export-") as tmp:
        folder = export(model, tokenizer, Path(tmp) / "model", model_name=model_name)
        return export_gguf(folder, out_path, type)


def _load_weights(folder: Path) -> dict[str, np.ndarray]:
    safetensors = folder / "model.safetensors"
    if safetensors.exists():
        return read_safetensors(safetensors)
    arrays = {p.name[:-len(".npy")]: np.load(p) for p in folder.glob("*.npy")}
    if not arrays:
        raise FileNotFoundError(f"{folder} holds neither model.safetensors nor .npy files")
    return arrays


def _model_from(config: BulletConfig, weights: dict[str, np.ndarray]) -> BulletTransformer:
    model = BulletTransformer(config)
    state = model.state_dict()
    missing = [name for name in model.bullet_names() if name not in weights]
    if missing:
        raise ValueError(f"the weights lack {len(missing)} tensor(s), first {missing[0]!r}")
    for name in model.bullet_names():
        if tuple(weights[name].shape) != tuple(state[name].shape):
            raise ValueError(f"tensor {name!r} has shape {list(weights[name].shape)}, the model needs {list(state[name].shape)}")
    if config.tied_head and not np.array_equal(weights["tok_embeddings.weight"], weights["output_head.weight"]):
        raise ValueError("tied_head is set but tok_embeddings.weight and output_head.weight differ")
    model.load_state_dict({name: torch.from_numpy(np.ascontiguousarray(weights[name], dtype=np.float32))
                           for name in model.bullet_names()})
    return model


def from_folder(folder: "str | os.PathLike[str]") -> tuple[BulletTransformer, Tokenizer]:
    """(model, tokenizer) from a builder folder: config.json, tokenizer.json and model.safetensors or .npy files
    (what ``export``, ``unpack_bullet`` and a session's ``float_dir`` export write)."""
    folder = Path(folder)
    config = BulletConfig.from_dict(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    return _model_from(config, _load_weights(folder)), Tokenizer.load(folder / "tokenizer.json")


def from_bullet(path: "str | os.PathLike[str]") -> tuple[BulletTransformer, Tokenizer]:
    """(model, tokenizer) from a .bullet file: every tensor dequantized to float32, a tied head tied again."""
    with tempfile.TemporaryDirectory(prefix="bullet-unpack-") as tmp:
        unpack_bullet(path, Path(tmp) / "model")
        model, _ = from_folder(Path(tmp) / "model")
    return model, Tokenizer.load(path)  # from the file itself, so its token scores are kept


def from_checkpoint(folder: "str | os.PathLike[str]") -> tuple[BulletTransformer, Tokenizer]:
    """(model, tokenizer) from our trainer's checkpoint folder (model.safetensors + state.json + tokenizer.json), so a
    model started in the dashboard continues in PyTorch. A folder with config.json is read as ``from_folder`` does."""
    folder = Path(folder)
    state_path = folder / "state.json"
    if not state_path.exists():
        if (folder / "config.json").exists():
            return from_folder(folder)
        raise FileNotFoundError(f"{folder} is not a checkpoint: it has neither state.json nor config.json")
    tokenizer_path = folder / "tokenizer.json"
    if not tokenizer_path.exists():
        raise FileNotFoundError(f"{folder} has no tokenizer.json (the checkpoint was made without the product tokenizer)")
    train_config = json.loads(state_path.read_text(encoding="utf-8"))["config"]
    weights = read_safetensors(folder / "model.safetensors")
    # A char run may say vocab_size 0 ("every character"); the embedding table knows the real size.
    values = {**train_config, "vocab_size": weights["tok_embeddings.weight"].shape[0]}
    return _model_from(BulletConfig.from_dict(values), weights), Tokenizer.load(tokenizer_path)
