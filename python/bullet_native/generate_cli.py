"""`python -m bullet_native generate FILE "prompt" [options]`: streams generated text to stdout, speed to stderr."""
from __future__ import annotations

import argparse
import sys

from ._native import BulletError
from .model import Model


def main_generate(argv: list[str]) -> int:
    """Runs the generate command; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m bullet_native generate", description="Generate text with a .bullet model.")
    parser.add_argument("file", help=".bullet model file")
    parser.add_argument("prompt", help="text to continue")
    parser.add_argument("--temperature", type=float, help="0 is greedy (default 0.8)")
    parser.add_argument("--top-k", type=int, help="keep the k likeliest tokens; 0 keeps all (default 40)")
    parser.add_argument("--top-p", type=float, help="nucleus sampling mass (default 0.95)")
    parser.add_argument("--repetition-penalty", type=float, help="1 is off (default 1)")
    parser.add_argument("--seed", type=int, help="same seed, same text")
    parser.add_argument("--max-tokens", type=int, default=100, help="tokens to generate (default 100)")
    parser.add_argument("--stop", action="append", help="stop before this string (repeatable)")
    parser.add_argument("--threads", type=int, help="threads per matrix product (default 1)")
    args = parser.parse_args(argv)
    sampling = {
        "temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p,
        "repetition_penalty": args.repetition_penalty, "seed": args.seed, "max_tokens": args.max_tokens,
        "stop": args.stop, "threads": args.threads,
    }
    try:
        with Model(args.file) as model:
            stream = model.stream(args.prompt, **sampling)
            for piece in stream:
                sys.stdout.write(piece)
                sys.stdout.flush()
            sys.stdout.write("\n")
            result = stream.result or {}
    except BulletError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    ttft = result.get("time_to_first_token_ms")
    print(f"{result.get('token_count', 0)} tokens, {result.get('tokens_per_second', 0):.1f} tokens/s, "
          f"first token after {ttft or 0:.1f} ms, stop: {result.get('stop_reason')}, seed {result.get('seed')}", file=sys.stderr)
    return 0
