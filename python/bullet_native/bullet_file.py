"""Inspecting, building and unpacking .bullet files (the builder packs weights trained elsewhere)."""
from __future__ import annotations

import os
from typing import Any

from . import _native
from ._native import OUT_BUF, OUT_LEN, STR, I32
from .report import Report

_native.register({
    "bullet_inspect": (I32, [STR, OUT_BUF, OUT_LEN]),
    "bullet_build": (I32, [STR, STR, STR, OUT_BUF, OUT_LEN]),
    "bullet_unpack": (I32, [STR, STR, OUT_BUF, OUT_LEN]),
})

PathLike = "str | os.PathLike[str]"

def inspect(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Validates a .bullet file and returns its header, tokenizer summary, tensor table and warnings."""
    return Report(_native.call_json("bullet_inspect", _native.encode_str(os.fspath(path))))

def build_bullet(folder: str | os.PathLike[str] | None, out_path: str | os.PathLike[str], **options: Any) -> dict[str, Any]:
    """Packs a folder (config.json, tokenizer.json, one .npy per tensor or model.safetensors) into a .bullet file.

    Options override the folder's parts: ``config`` (path or dict), ``tokenizer`` (tokenizer.json path),
    ``vocab_txt``/``merges_txt`` (the old builder's files), ``weights`` (folder or .safetensors),
    ``random_weights`` with ``seed`` (a correctly shaped test model), ``model_name``.
    Returns the build report: the inspected file plus the BQ4 quantization error.
    """
    options = {k: (os.fspath(v) if isinstance(v, os.PathLike) else v) for k, v in options.items() if v is not None}
    return Report(_native.call_json(
        "bullet_build",
        None if folder is None else _native.encode_str(os.fspath(folder)),
        _native.encode_str(os.fspath(out_path)),
        _native.encode_json(options),
    ))


def unpack_bullet(path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Unpacks a .bullet into the folder build_bullet packs: model.safetensors (every tensor dequantized to float32),
    config.json (with ``tied_head``) and tokenizer.json. The folder appears complete or not at all; an existing one
    is replaced only when it is empty or an earlier unpack. Returns the report (paths, ``model`` config, warnings)."""
    return Report(_native.call_json("bullet_unpack", _native.encode_str(os.fspath(path)), _native.encode_str(os.fspath(out_dir))))
