"""Command line: python -m bullet_native <command> ... (inspect, build, generate, train, export-gguf, serve, worker)."""
from __future__ import annotations

import argparse
import json
import sys

from ._native import BulletError
from .bullet_file import build_bullet, inspect


def _inspect(args: argparse.Namespace) -> None:
    print(json.dumps(inspect(args.file), indent=2, ensure_ascii=False))


def _build(args: argparse.Namespace) -> None:
    report = build_bullet(args.folder, args.out)
    summary = {k: report[k] for k in ("path", "file_size", "tensor_count", "parameters", "quantization_error", "warnings")}
    print(json.dumps(summary, indent=2, ensure_ascii=False))


# Commands with their own argument parsers, in their own modules: name -> (module, function).
_DELEGATED = {"generate": ("generate_cli", "main_generate"), "train": ("training_cli", "main_train"),
              "export-gguf": ("gguf", "main_export_gguf"), "serve": ("serve_cli", "main_serve"), "worker": ("worker", "main_worker")}


def main(argv: list[str] | None = None) -> int:
    """Parses the command line and runs one command; errors print one line and return 1."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in _DELEGATED:
        import importlib

        module, function = _DELEGATED[argv[0]]
        return getattr(importlib.import_module(f".{module}", __package__), function)(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bullet_native", description="Tiny language models in .bullet files.")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("inspect", help="validate a .bullet file and print its description as JSON")
    p.add_argument("file")
    p.set_defaults(run=_inspect)
    p = commands.add_parser("build", help="pack config.json + tokenizer.json + .npy/.safetensors weights into .bullet")
    p.add_argument("folder")
    p.add_argument("out")
    p.set_defaults(run=_build)
    commands.add_parser("generate", help="stream text from a .bullet model (generate FILE PROMPT --help for options)")
    commands.add_parser("train", help="train on a text file (for a time budget, or a preset) and export a verified .bullet (train --help)")
    commands.add_parser("export-gguf", help="export a .bullet / .safetensors / float folder as llama.cpp GGUF (--type q4_0)")
    commands.add_parser("serve", help="serve .bullet models through an OpenAI-compatible HTTP API (serve --help)")
    commands.add_parser("worker", help="run one training session controlled over stdin/stdout (what the dashboard starts)")
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except BulletError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
