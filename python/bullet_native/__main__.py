"""Command line: python -m bullet_native <command> ... (inspect, build, generate, train, export-gguf, serve, demo)."""
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


def _demo(args: argparse.Namespace) -> None:
    """Shows the builder at work until the dashboard exists: a random test model written, then inspected."""
    import tempfile
    from pathlib import Path

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bullet-demo-")) / "demo.bullet"
    vocab = out.with_suffix(".vocab.txt")
    vocab.write_text("<unk> 0\n  0\n" + "".join(f"{c} 0\n" for c in "abcdefghijklmnopqrstuvwxyz.,\n"[:-1]), encoding="utf-8")
    config = {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "max_context": 128, "model_name": "demo"}
    report = build_bullet(None, out, config=config, vocab_txt=vocab, random_weights=True, seed=1)
    print("The dashboard is not built yet; this demo packs a random test model with the native builder.")
    print(f"wrote {report['path']} ({report['file_size']} bytes, {report['tensor_count']} tensors, "
          f"{report['parameters']} parameters, BQ4 relative RMSE {report['quantization_error']['relative_rmse']:.3f})")
    print(f"inspect it with: python -m bullet_native inspect {report['path']}")


# Commands with their own argument parsers, in their own modules: name -> (module, function).
_DELEGATED = {"generate": ("generate_cli", "main_generate"), "train": ("training_cli", "main_train"),
              "export-gguf": ("gguf", "main_export_gguf"), "serve": ("serve_cli", "main_serve")}


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
    commands.add_parser("train", help="train a preset on a text file and export a verified .bullet (train --help)")
    commands.add_parser("export-gguf", help="export a .bullet / .safetensors / float folder as llama.cpp GGUF (--type q4_0)")
    commands.add_parser("serve", help="serve .bullet models through an OpenAI-compatible HTTP API (serve --help)")
    p = commands.add_parser("demo", help="build and inspect a random test model (what ./build.sh run shows for now)")
    p.add_argument("--out", help="where to write the demo .bullet (default: a new temporary folder)")
    p.set_defaults(run=_demo)
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
