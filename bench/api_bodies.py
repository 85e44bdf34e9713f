"""bench/api_bodies: what answering a large body costs the dashboard, with and without walking it through its model.

  .venv/bin/python bench/api_bodies.py [--layers 4] [--heads 8] [--tokens 256] [--rounds 3]

An attention map (layers x heads x tokens x tokens/2 floats) answered three ways, each timed in the same run, best of
--rounds: as FastAPI answers a route with a response_model (validate against AttentionMaps, encode, render), as it
answered before the routes had one (encode a plain dict, render), and as the attention routes answer now
(Reply.complete, then render). Ratios are against the first.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any, Callable

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.routing import serialize_response
from fastapi.utils import create_response_field

from bullet_dashboard.schemas.attention import AttentionMaps


def best_of(rounds: int, answer: Callable[[], bytes]) -> float:
    """The fastest of `rounds` runs, in seconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        answer()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(1)
    maps = [[[[rng.random() for _ in range(q + 1)] for q in range(args.tokens)] for _ in range(args.heads)] for _ in range(args.layers)]
    body: dict[str, Any] = {"tokens": ["a"] * args.tokens, "layers": args.layers, "heads": args.heads, "maps": maps}
    field = create_response_field(name="answer", type_=AttentionMaps)
    ways = {
        "validated (response_model)": lambda: JSONResponse(asyncio.run(serialize_response(field=field, response_content=body))).body,
        "encoded (no response_model)": lambda: JSONResponse(jsonable_encoder(body)).body,
        "completed (Reply.complete)": lambda: JSONResponse(AttentionMaps.complete(body)).body,
    }
    floats = sum(len(row) for layer in maps for head in layer for row in head)
    print(f"attention map {args.layers}x{args.heads}x{args.tokens} ({floats:,} floats), best of {args.rounds}")
    baseline = None
    for name, answer in ways.items():
        seconds = best_of(args.rounds, answer)
        baseline = baseline or seconds
        print(f"  {name:30s} {seconds:6.2f} s   {baseline / seconds:5.1f}x")


if __name__ == "__main__":
    main()
