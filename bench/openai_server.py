"""bench/openai_server: the OpenAI-compatible server under concurrent streams, measured in one run.

  .venv/bin/python bench/openai_server.py [--streams 1,4,8,16] [--requests 3] [--max-tokens 64] [--threads 1]

Serves the medium shape (vocab 4000, d 256, 8 layers, 8 heads, context 512, random weights) with
`python -m bullet_native serve`, then for each number of concurrent streams N runs N clients, each sending
--requests streamed completions one after another (64-token prompts, --max-tokens tokens each, greedy). Prints the
aggregate generated tokens/s with its ratio to one stream, and the p50/p95 time to first token (request sent to the
first streamed token). Clients run in this process and share the machine's cores with the server.
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bullet_native import build_bullet

PROMPT_TOKENS = 64
CHARS = " abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()"


def medium_model(folder: Path) -> Path:
    """The medium shape with random weights and a vocabulary whose first tokens are single characters."""
    vocab = ["<unk>"] + list(CHARS)
    vocab += [f"w{i}" for i in range(4000 - len(vocab))]
    tokenizer = folder / "tokenizer.json"
    tokenizer.write_text(json.dumps({"vocab": vocab, "merges": []}))
    config = {"hidden_size": 256, "num_layers": 8, "num_heads": 8, "max_context": 512, "model_name": "bench-medium"}
    out = folder / "medium.bullet"
    build_bullet(None, out, config=config, tokenizer=tokenizer, random_weights=True, seed=1)
    return out


def start_server(model: Path, threads: int) -> tuple[subprocess.Popen, str, int]:
    process = subprocess.Popen([sys.executable, "-m", "bullet_native", "serve", str(model), "--port", "0", "--threads", str(threads)],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if "serving" not in line:
        raise SystemExit(f"the server did not start: {line}")
    host, port = line.split("http://")[1].split("/")[0].split(":")
    return process, host, int(port)


def stream_once(host: str, port: int, prompt: str, max_tokens: int) -> tuple[float, int]:
    """One streamed completion: (seconds to the first token, tokens generated)."""
    body = json.dumps({"model": "medium", "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}})
    connection = http.client.HTTPConnection(host, port, timeout=300)
    started = time.perf_counter()
    connection.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    first = None
    tokens = 0
    for raw in response:
        line = raw.strip()
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if first is None and chunk["choices"] and chunk["choices"][0]["text"]:
            first = time.perf_counter() - started
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
            assert chunk["usage"]["prompt_tokens"] == PROMPT_TOKENS, chunk["usage"]
    connection.close()
    return (first if first is not None else time.perf_counter() - started), tokens


def phase(host: str, port: int, streams: int, requests: int, max_tokens: int) -> tuple[float, list[float]]:
    """N clients at once, each `requests` completions in a row: (aggregate tokens/s, every time to first token)."""
    ttfts: list[float] = []
    totals = [0] * streams
    lock = threading.Lock()

    def client(index: int) -> None:
        for r in range(requests):
            offset = (index * 7 + r * 3) % len(CHARS)
            prompt = "".join(CHARS[(offset + i) % len(CHARS)] for i in range(PROMPT_TOKENS))
            ttft, tokens = stream_once(host, port, prompt, max_tokens)
            with lock:
                ttfts.append(ttft)
            totals[index] += tokens

    threads = [threading.Thread(target=client, args=(i,)) for i in range(streams)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(totals) / (time.perf_counter() - started), ttfts


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="1,4,8,16")
    parser.add_argument("--requests", type=int, default=3, help="completions per client in each phase")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="server threads per matrix product")
    args = parser.parse_args()
    counts = [int(n) for n in args.streams.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        model = medium_model(Path(folder))
        server, host, port = start_server(model, args.threads)
        try:
            stream_once(host, port, CHARS[:PROMPT_TOKENS], 8)
            print(f"medium model, {PROMPT_TOKENS}-token prompts, {args.max_tokens} tokens per request, greedy, "
                  f"{args.requests} requests per client, server threads {args.threads}")
            print(f"{'streams':>8} {'tokens/s':>10} {'vs 1':>6} {'TTFT p50':>10} {'TTFT p95':>10}")
            base = None
            for n in counts:
                rate, ttfts = phase(host, port, n, args.requests, args.max_tokens)
                base = base or rate
                print(f"{n:>8} {rate:>10.0f} {rate / base:>5.2f}x {percentile(ttfts, 50) * 1e3:>8.1f}ms {percentile(ttfts, 95) * 1e3:>8.1f}ms",
                      flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
