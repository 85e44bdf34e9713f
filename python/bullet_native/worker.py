"""python -m bullet_native worker: one training session in a process of its own.

The process that starts it (the dashboard, or an IsolatedTrainingSession in a notebook) talks to it over the worker's
standard input and output, one JSON object per line (see ``docs/workers.md``):

    request    {"id": 7, "op": "pause", ...arguments}
    ack        {"id": 7, "ack": true}                          at once: the worker is alive and has the request
    result     {"id": 7, "ok": true, "result": ...}            when the operation is done
    failure    {"id": 7, "ok": false, "error": "...", "status": 1}
    heartbeat  {"heartbeat": 1733540000.1, "rss": ..., "peak_rss": ...}   every --heartbeat seconds

The first request is "open" (the config and TrainingSession's options); the session writes its events to the
``events_path`` it was opened with, and nothing else reads them from this channel. The worker ends after "close" or
"shutdown", or when its standard input closes (its parent is gone) or it receives SIGTERM; in those last three cases an
unfinished session is paused and checkpointed first, so it can resume.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, TextIO

from ._native import BulletError, Status
from .session_states import FINISHED_STATES
from .training import TrainingSession


class _Terminate(Exception):
    """Raised in the main thread by the SIGTERM handler to leave the request loop."""


def memory_of(pid: int | str = "self") -> dict[str, int]:
    """Resident memory now ("rss") and at its peak ("peak_rss") in bytes, from /proc (zeros where /proc is missing)."""
    fields = {"VmRSS:": "rss", "VmHWM:": "peak_rss"}
    result = {"rss": 0, "peak_rss": 0}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                parts = line.split()
                if parts and parts[0] in fields:
                    result[fields[parts[0]]] = int(parts[1]) * 1024
    except OSError:
        pass
    return result


class Worker:
    """The session this process runs and the handlers of the requests that reach it."""

    def __init__(self, out: TextIO):
        self._out = out
        self._write_lock = threading.Lock()
        self._session: TrainingSession | None = None
        self._ending = threading.Lock()
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "open": self._open,
            "start": lambda a: self._do(lambda s: s.start()),
            "pause": lambda a: self._do(lambda s: s.pause()),
            "resume": lambda a: self._do(lambda s: s.resume()),
            "stop": lambda a: self._do(lambda s: s.stop()),
            "step": lambda a: self._do(lambda s: s.step(int(a.get("steps", 1)))),
            "speed": lambda a: self._do(lambda s: s.set_speed(float(a["steps_per_second"]))),
            "threads": lambda a: self._do(lambda s: s.set_threads(int(a["threads"]))),
            "status": lambda a: self._live().status(),
            "train_step": lambda a: self._live().train_step(),
            "checkpoint": lambda a: {"path": self._live().checkpoint(a.get("path"))},
            "export": lambda a: self._live().export(**a.get("options", {})),
            "attention": lambda a: self._live().attention(a.get("probe")),
            "memory": lambda a: memory_of(),
        }

    def send(self, message: dict[str, Any]) -> None:
        """Writes one protocol line (from any thread)."""
        line = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        with self._write_lock:
            self._out.write(line + "\n")
            self._out.flush()

    def _live(self) -> TrainingSession:
        if self._session is None:
            raise BulletError("the worker has no session yet: send \"open\" first", Status.INVALID_ARGUMENT)
        return self._session

    def _do(self, action: Callable[[TrainingSession], None]) -> dict[str, Any]:
        """Runs a control and answers with the session's state and step after it."""
        session = self._live()
        action(session)
        status = session.status()
        return {"state": status["state"], "step": status["step"]}

    def _open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self._session is not None:
            raise BulletError("the worker already runs a session", Status.INVALID_ARGUMENT)
        self._session = TrainingSession(args.get("config") or {}, **(args.get("options") or {}))
        return {"pid": os.getpid()}

    def handle(self, request: dict[str, Any]) -> None:
        """Acknowledges a request, runs it and answers with its result or its error."""
        rid = request.get("id")
        self.send({"id": rid, "ack": True})
        op = request.get("op")
        try:
            if op in ("close", "shutdown"):
                self.end(checkpoint=op == "shutdown", reply_to=rid)
                return
            handler = self._handlers.get(op)
            if handler is None:
                raise BulletError(f"unknown worker operation {op!r}", Status.INVALID_ARGUMENT)
            self.send({"id": rid, "ok": True, "result": handler(request)})
        except BulletError as e:
            self.send({"id": rid, "ok": False, "error": str(e), "status": int(e.status)})
        except Exception as e:  # a bug here must reach the caller as an answer, not end the worker silently
            self.send({"id": rid, "ok": False, "error": f"{type(e).__name__}: {e}", "status": int(Status.INTERNAL_ERROR)})

    def end(self, checkpoint: bool, reply_to: Any = None) -> None:
        """Closes the session (after pausing and checkpointing an unfinished one when asked) and ends the process."""
        with self._ending:
            code = 0
            try:
                session = self._session
                if session is not None:
                    if checkpoint and session.status()["state"] not in FINISHED_STATES:
                        session.pause()
                        if session.output_dir is not None:
                            session.checkpoint()
                    session.close()
                if reply_to is not None:
                    self.send({"id": reply_to, "ok": True, "result": None})
            except BulletError as e:
                print(f"bullet worker: could not end cleanly: {e}", file=sys.stderr)
                if reply_to is not None:
                    self.send({"id": reply_to, "ok": False, "error": str(e), "status": int(e.status)})
                code = 1
            sys.stderr.flush()
            os._exit(code)

    def heartbeat(self, interval: float) -> None:
        """Sends a heartbeat with this process's memory every ``interval`` seconds, until the process ends."""
        while True:
            self.send({"heartbeat": round(time.time(), 3), **memory_of()})
            time.sleep(interval)


def _protect_protocol_channel() -> TextIO:
    """The protocol's own copy of standard output; file descriptor 1 then points at stderr, so whatever native code
    prints can never corrupt a protocol line."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _prefer_to_be_killed_first() -> None:
    """When the machine runs out of memory the kernel should end a training worker, not the server that supervises it."""
    try:
        with open("/proc/self/oom_score_adj", "w", encoding="ascii") as adj:
            adj.write("500")
    except OSError:
        pass


def main_worker(argv: list[str] | None = None) -> int:
    """Runs the worker until it is told to end or its parent goes away."""
    parser = argparse.ArgumentParser(prog="python -m bullet_native worker",
                                     description="Run one training session, controlled over stdin/stdout (JSON lines).")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="seconds between heartbeats (default 1)")
    args = parser.parse_args(argv)
    worker = Worker(_protect_protocol_channel())
    _prefer_to_be_killed_first()

    def terminate(signum, frame):
        raise _Terminate()

    signal.signal(signal.SIGTERM, terminate)
    threading.Thread(target=worker.heartbeat, args=(args.heartbeat,), name="heartbeat", daemon=True).start()
    try:
        for line in sys.stdin.buffer:
            if not line.strip():
                continue
            try:
                request = json.loads(line)
            except ValueError:
                worker.send({"id": None, "ok": False, "error": "the request is not JSON", "status": int(Status.INVALID_ARGUMENT)})
                continue
            threading.Thread(target=worker.handle, args=(request,), name=f"request-{request.get('op')}", daemon=True).start()
    except (_Terminate, KeyboardInterrupt):
        pass
    worker.end(checkpoint=True)  # the parent is gone or asked us to go: keep what was learned
    return 0
