"""The `bullet-builder` command: the old program's arguments, plus --weights for real trained weights."""
from __future__ import annotations

import argparse
import sys

from ._native import BulletError
from .bullet_file import build_bullet


def main(argv: list[str] | None = None) -> int:
    """Runs ``bullet-builder <vocab.txt> <merges.txt> <out.bullet> [--weights FOLDER|FILE.safetensors]``."""
    parser = argparse.ArgumentParser(
        prog="bullet-builder",
        description="Pack a vocabulary, merges and weights into a .bullet file (drop-in for the old bullet-builder).")
    parser.add_argument("vocab", help="vocab.txt: one token per line, optionally followed by a space and its score")
    parser.add_argument("merges", help="merges.txt: one merge 'a b' per line (may be empty)")
    parser.add_argument("out", help="the .bullet file to write")
    parser.add_argument("--weights", help="a folder of <tensor name>.npy files or a .safetensors file; "
                                          "without it a random, correctly shaped test model is written")
    parser.add_argument("--hidden", type=int, default=128, help="hidden size (default 128)")
    parser.add_argument("--layers", type=int, default=4, help="transformer blocks (default 4)")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (default 4)")
    parser.add_argument("--max-context", type=int, default=64, help="context length (default 64)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random test weights")
    parser.add_argument("--model-name", default="bullet-model")
    args = parser.parse_args(argv)
    config = {"hidden_size": args.hidden, "num_layers": args.layers, "num_heads": args.heads,
              "max_context": args.max_context, "model_name": args.model_name}
    try:
        report = build_bullet(None, args.out, config=config, vocab_txt=args.vocab, merges_txt=args.merges,
                              weights=args.weights, random_weights=args.weights is None, seed=args.seed)
    except BulletError as e:
        print(f"bullet-builder: error: {e}", file=sys.stderr)
        return 1
    h = report["header"]
    print(f"wrote {report['path']}: {report['file_size']} bytes, vocab {h['vocab_size']}, "
          f"d={h['hidden_size']}, layers={h['num_layers']}, heads={h['num_heads']}, {report['tensor_count']} tensors")
    if args.weights is None:
        print("note: no --weights given, so the file holds random test weights (it will not generate real text)")
    for warning in report["warnings"]:
        print(f"warning: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
