"""GGUF export: any model we train or pack, as a llama-architecture GGUF that llama.cpp and its ecosystem run."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

from ._native import I32, I64, OUT_BUF, OUT_LEN, STR, BulletError, call_json, encode_json, encode_str, register

register({"bullet_export_gguf": (I32, [STR, I64, STR, STR, OUT_BUF, OUT_LEN])})

GGUF_TYPES = ("f32", "f16", "q8_0", "q4_0")


def export_gguf(source: Any, out_path: str | os.PathLike[str], type: str = "q4_0", *,
                model_name: str | None = None, check_prompt: Sequence[int] | None = None,
                check_tokens: int = 30) -> dict[str, Any]:
    """Writes OUT_PATH as GGUF from a TrainingSession, a .bullet file, a .safetensors file or a float folder.

    type: f32, f16, q8_0 or q4_0 (norms are always f32). With check_prompt (token ids) the report's "check" holds our
    float forward pass's greedy continuation of check_tokens tokens, to compare with llama.cpp's.
    """
    options: dict[str, Any] = {"type": type}
    if model_name is not None:
        options["model_name"] = model_name
    if check_prompt is not None:
        options["check_prompt"] = [int(t) for t in check_prompt]
        options["check_tokens"] = int(check_tokens)
    session_handle = getattr(source, "handle", None)
    if session_handle is not None:
        return call_json("bullet_export_gguf", None, session_handle, encode_str(out_path), encode_json(options))
    return call_json("bullet_export_gguf", encode_str(os.fspath(source)), 0, encode_str(out_path), encode_json(options))


def main_export_gguf(argv: list[str]) -> int:
    """python -m bullet_native export-gguf SOURCE OUT.gguf [--type q4_0]: prints the export report as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bullet_native export-gguf",
                                     description="Export a .bullet file, a .safetensors file or a float folder "
                                                 "(config.json + tokenizer.json + weights) as llama.cpp GGUF.")
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--type", choices=GGUF_TYPES, default="q4_0", help="tensor type of the matrices (default q4_0)")
    parser.add_argument("--model-name", help="general.name in the file (default: the source's model name)")
    args = parser.parse_args(argv)
    try:
        report = export_gguf(args.source, args.out, args.type, model_name=args.model_name)
    except (BulletError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    report.pop("metadata_keys", None)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0
