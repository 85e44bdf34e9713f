"""bench/serve: the dashboard server under load, measured in one run against the real server process.

  .venv/bin/python bench/serve.py [--steps 80] [--rounds 2]

Reports (1) event latency: from the native event's timestamp (written by the worker to the session's event log) to
an SSE client receiving it; (2) one session's training steps/s alone, while a second session trains, and while 20 SSE
clients listen, as ratios to the alone figure measured in the same run; (3) the same session trained in-process
(bullet_native.TrainingSession in a plain Python process, as the server trained before sessions moved into worker
processes) against the worker figure. The phases are interleaved over rounds so the machine's drift hits all of them.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

CONFIG = {"preset": "tiny", "threads": 1, "warmup_steps": 5, "eval_every": 0, "sample_every": 0, "attention_every": 0,
          "val_fraction": 0.1, "keep_best": False}
WARMUP_STEPS = 5


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "bullet_dashboard", "--port", "0", "--data-dir", str(data_dir), "--max-running", "4"],
                               stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().split()[2].rstrip("/")
    for _ in range(600):
        try:
            if httpx.get(f"{url}/api/status").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


class Listener(threading.Thread):
    """An SSE client recording (receive time - event time) for every event, and the metrics events."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.latencies: list[float] = []
        self.metrics: list[dict] = []
        self.connected = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=None) as client, client.stream("GET", self.url) as response:
            connected_at = time.time()
            self.connected.set()
            event = None
            for line in response.iter_lines():
                if line.startswith("event: end"):
                    return
                if line.startswith("data: "):
                    received = time.time()
                    event = json.loads(line[6:])
                    if event["time"] >= connected_at:  # replayed events (emitted before connecting) are not latency
                        self.latencies.append((received - event["time"]) * 1000)
                    if event["type"] == "metrics":
                        self.metrics.append(event)


def steps_per_second(metrics: list[dict]) -> float:
    """Steps/s between the first and last metrics event after warm-up (native timestamps)."""
    kept = [m for m in metrics if m["step"] > WARMUP_STEPS]
    return (kept[-1]["step"] - kept[0]["step"]) / (kept[-1]["time"] - kept[0]["time"])


def run_sessions(url: str, steps: int, sessions: int, extra_listeners: int) -> tuple[list[Listener], list[Listener]]:
    """Creates sessions (not started), attaches a listener to each plus extra listeners to the first, starts them together."""
    ids = []
    for i in range(sessions):
        r = httpx.post(f"{url}/api/sessions", json={"dataset": "children_stories", "config": {**CONFIG, "total_steps": steps, "seed": i},
                                                    "auto_export": False}, timeout=120)
        r.raise_for_status()
        ids.append(r.json()["id"])
    for session_id in ids:  # wait until prepared (tokenizer trained) so every session starts training at once
        while httpx.get(f"{url}/api/sessions/{session_id}").json()["state"] == "preparing":
            time.sleep(0.1)
    main = [Listener(f"{url}/api/sessions/{s}/events") for s in ids]
    extra = [Listener(f"{url}/api/sessions/{ids[0]}/events") for _ in range(extra_listeners)]
    for listener in main + extra:
        listener.start()
        listener.connected.wait()
    for session_id in ids:
        httpx.post(f"{url}/api/sessions/{session_id}/start").raise_for_status()
    for listener in main + extra:
        listener.join()
    return main, extra


IN_PROCESS = """
import json, sys, bullet_native as bn
config, text_path = json.loads(sys.argv[1]), sys.argv[2]
with bn.TrainingSession(config, text_path=text_path) as session:
    session.start()
    print(json.dumps([e for e in session.events() if e["type"] == "metrics"]))
"""


def in_process_steps_per_second(steps: int) -> float:
    """The same session trained by the native library inside a plain Python process (no worker, no server)."""
    text = Path(__file__).resolve().parents[1] / "python" / "bullet_dashboard" / "datasets" / "children_stories.txt"
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, json.dumps({**CONFIG, "total_steps": steps, "seed": 0}), str(text)],
                         capture_output=True, text=True, check=True).stdout
    return steps_per_second(json.loads(out))


def describe(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms over {len(ordered)} events"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=80, help="training steps per session and phase")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (alone, two sessions, 20 listeners), interleaved against drift")
    args = parser.parse_args()
    alone, two, two_other, crowd, latency_one, latency_crowd, in_process = [], [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as data_dir:
        process, url = start_server(Path(data_dir))
        try:
            for _ in range(args.rounds):
                in_process.append(in_process_steps_per_second(args.steps))
                single, _ = run_sessions(url, args.steps, 1, 0)
                pair, _ = run_sessions(url, args.steps, 2, 0)
                watched, listeners = run_sessions(url, args.steps, 1, 20)
                alone.append(steps_per_second(single[0].metrics))
                two.append(steps_per_second(pair[0].metrics))
                two_other.append(steps_per_second(pair[1].metrics))
                crowd.append(steps_per_second(watched[0].metrics))
                latency_one += single[0].latencies
                latency_crowd += [ms for x in watched + listeners for ms in x.latencies]
        finally:
            process.terminate()
            process.wait(timeout=30)
    base = statistics.mean(alone)
    print(f"tiny preset, threads=1, {args.steps} steps per session (first {WARMUP_STEPS} not timed), {args.rounds} interleaved rounds")
    print(f"event latency, 1 listener:   {describe(latency_one)}")
    print(f"event latency, 21 listeners: {describe(latency_crowd)}")
    print(f"steps/s alone:                                  {base:.2f}  (rounds: {', '.join(f'{x:.2f}' for x in alone)})")
    own = statistics.mean(in_process)
    print(f"steps/s in-process (no worker, no server):      {own:.2f}  (worker / in-process {base / own:.2f}; rounds: "
          f"{', '.join(f'{x:.2f}' for x in in_process)})")
    for label, values in [("with a second session training", two), ("the second session itself", two_other),
                          ("with 20 more SSE clients", crowd)]:
        value = statistics.mean(values)
        print(f"steps/s {label + ':':<40} {value:.2f}  (ratio to alone {value / base:.2f}; rounds: {', '.join(f'{x:.2f}' for x in values)})")


if __name__ == "__main__":
    main()
