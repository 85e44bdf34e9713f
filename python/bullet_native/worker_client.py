"""Starting and talking to a training worker process (``python -m bullet_native worker``), and watching it.

A worker runs one native training session. This side sends requests and waits for their acknowledgement and answer,
reads the worker's heartbeats, ends a worker that uses more memory than its limit or stops answering, and says in
words why a worker ended when it did not end by request.
"""
from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ._native import BulletError, Status
from .worker import memory_of

MB = 1024 * 1024
# How often the watchdog looks at the worker's memory and heartbeat.
WATCH_INTERVAL = 0.1


class WorkerGone(BulletError):
    """The worker process ended (or was ended) before it answered; the message says how."""

    def __init__(self, message: str):
        super().__init__(message, Status.CANCELLED)


class WorkerTimeout(BulletError):
    """The worker did not acknowledge a request in time."""

    def __init__(self, message: str):
        super().__init__(message, Status.CANCELLED)


@dataclass
class WorkerExit:
    """How a worker process ended."""

    returncode: int
    requested: bool       # it was told to end (close, shutdown) or ended on its own with code 0
    reason: str | None    # "memory" or "heartbeat" when the watchdog ended it
    message: str          # for a person: what happened, and the last lines it wrote to stderr

    @property
    def abnormal(self) -> bool:
        """True when the worker ended in a way nobody asked for (a signal, an error exit, the watchdog)."""
        return not self.requested


def signal_name(number: int) -> str:
    """SIGSEGV for 11, and so on."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe_end(returncode: int, reason: str | None, limit: int | None, peak: int, heartbeat_timeout: float) -> str:
    """Why a worker ended, in words a person understands (without its stderr lines)."""
    if reason == "memory":
        return (f"the training worker used {peak / MB:,.0f} MB, more than its memory limit of {(limit or 0) / MB:,.0f} MB, "
                "and was stopped (the config needs more memory than estimated; try a smaller batch, context or model)")
    if reason == "heartbeat":
        return f"the training worker stopped answering for {heartbeat_timeout:g} s and was stopped"
    if returncode < 0:
        name = signal_name(-returncode)
        if -returncode == signal.SIGKILL:
            return f"the training worker was killed ({name}) — often the system running out of memory"
        if -returncode == signal.SIGSEGV:
            return f"the training worker crashed ({name}: a segmentation fault in native code)"
        return f"the training worker ended on {name}"
    return f"the training worker exited with code {returncode}"


def tail_lines(path: Path | None, count: int = 8, max_bytes: int = 16384) -> list[str]:
    """The last non-empty lines of a log file (nothing when there is none)."""
    if path is None:
        return []
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - max_bytes))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-count:]


class WorkerProcess:
    """One worker process: requests with acknowledgement, heartbeats, a memory limit and a description of its end.

    ``log_path`` receives the worker's stderr (kept, so a crash can be explained afterwards). ``memory_limit`` (bytes)
    ends the worker when its resident memory passes it. ``on_exit`` is called once, from a background thread, with the
    WorkerExit.
    """

    def __init__(self, *, log_path: str | os.PathLike[str] | None = None, memory_limit: int | None = None,
                 heartbeat_timeout: float = 30.0, ack_timeout: float = 5.0, heartbeat_interval: float = 1.0,
                 on_exit: Callable[[WorkerExit], None] | None = None, env: dict[str, str] | None = None):
        self.log_path = Path(log_path) if log_path is not None else None
        self.memory_limit = memory_limit
        self.heartbeat_timeout = heartbeat_timeout
        self.ack_timeout = ack_timeout
        self._on_exit = on_exit
        self._ids = itertools.count(1)
        self._pending: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._ending_requested = False
        self._killed_on_request = False
        self._kill_reason: str | None = None
        self.exit: WorkerExit | None = None
        self._exited = threading.Event()
        self.last_heartbeat = time.monotonic()
        self.rss = 0
        self.peak_rss = 0
        stderr = self.log_path.open("ab") if self.log_path is not None else subprocess.DEVNULL
        package_root = str(Path(__file__).resolve().parents[1])
        environment = {**os.environ, **(env or {})}
        # The worker imports this same package, wherever it was imported from here.
        environment["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, environment.get("PYTHONPATH")) if p)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bullet_native", "worker", "--heartbeat", str(heartbeat_interval)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=environment,
                # Its own session: a Ctrl-C in the server's terminal reaches the server, which ends its workers in order.
                start_new_session=True)
        finally:
            if stderr is not subprocess.DEVNULL:
                stderr.close()
        self.pid = self.process.pid
        threading.Thread(target=self._read, name=f"worker-{self.pid}-reader", daemon=True).start()
        threading.Thread(target=self._watch, name=f"worker-{self.pid}-watchdog", daemon=True).start()

    @property
    def alive(self) -> bool:
        """True until the process has ended."""
        return not self._exited.is_set()

    def call(self, op: str, timeout: float | None = None, **args: Any) -> Any:
        """Sends a request and returns its result; BulletError with the worker's message when it fails, WorkerTimeout when
        it is not acknowledged within ack_timeout, WorkerGone when the worker ends first. ``timeout`` bounds the wait for
        the result (None: as long as the worker lives)."""
        if not self.alive:
            raise WorkerGone(self.exit.message if self.exit else "the training worker has ended")
        rid = next(self._ids)
        pending = {"acked": threading.Event(), "done": threading.Event(), "reply": None}
        with self._lock:
            self._pending[rid] = pending
        if op in ("close", "shutdown"):
            self._ending_requested = True
        try:
            self._send({"id": rid, "op": op, **args})
            if not pending["acked"].wait(self.ack_timeout):
                if not self.alive:
                    raise WorkerGone(self.exit.message if self.exit else "the training worker has ended")
                raise WorkerTimeout(f"the training worker (pid {self.pid}) did not answer \"{op}\" within {self.ack_timeout:g} s")
            if not pending["done"].wait(timeout):
                raise WorkerTimeout(f"the training worker (pid {self.pid}) did not finish \"{op}\" within {timeout:g} s")
        finally:
            with self._lock:
                self._pending.pop(rid, None)
        reply = pending["reply"]
        if reply is None:
            raise WorkerGone(self.exit.message if self.exit else "the training worker has ended")
        if not reply.get("ok"):
            raise BulletError(reply.get("error") or "the worker failed", reply.get("status", Status.INTERNAL_ERROR))
        return reply.get("result")

    def close(self, checkpoint: bool = False, timeout: float = 10.0) -> WorkerExit | None:
        """Asks the worker to end (``checkpoint``: pause and checkpoint an unfinished session first) and waits; a worker
        that does not end within ``timeout`` seconds is killed."""
        if self.alive:
            try:
                self.call("shutdown" if checkpoint else "close", timeout=timeout)
            except BulletError:
                pass
        if not self._exited.wait(timeout):
            self.kill()
            self._exited.wait(timeout)
        return self.exit

    def kill(self, reason: str | None = None) -> None:
        """Ends the worker at once (SIGKILL); ``reason`` ("memory", "heartbeat") is reported in its exit."""
        if reason is not None and self._kill_reason is None:
            self._kill_reason = reason
        elif reason is None:
            self._killed_on_request = True
        try:
            self.process.kill()
        except ProcessLookupError:
            pass

    def wait(self, timeout: float | None = None) -> WorkerExit | None:
        """Waits for the process to end; its WorkerExit (None on timeout)."""
        self._exited.wait(timeout)
        return self.exit

    def _send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            with self._write_lock:
                self.process.stdin.write(data)
                self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the reader thread reports the end

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "heartbeat" in message:
                self.last_heartbeat = time.monotonic()
                self.rss = message.get("rss", self.rss)
                self.peak_rss = max(self.peak_rss, message.get("peak_rss", 0))
                continue
            with self._lock:
                pending = self._pending.get(message.get("id"))
            if pending is None:
                continue
            if message.get("ack"):
                pending["acked"].set()
            else:
                pending["reply"] = message
                pending["acked"].set()
                pending["done"].set()
        self._finish()

    def _watch(self) -> None:
        """Ends a worker whose memory passes its limit or whose heartbeats stop."""
        while self.alive and self.process.poll() is None:
            memory = memory_of(self.pid)
            self.peak_rss = max(self.peak_rss, memory["peak_rss"], memory["rss"])
            if self.memory_limit is not None and memory["rss"] > self.memory_limit:
                self.peak_rss = max(self.peak_rss, memory["rss"])
                self.kill("memory")
                return
            if time.monotonic() - self.last_heartbeat > self.heartbeat_timeout:
                self.kill("heartbeat")
                return
            self._exited.wait(WATCH_INTERVAL)

    def _finish(self) -> None:
        returncode = self.process.wait()
        try:
            self.process.stdin.close()
        except OSError:
            pass
        # A worker told to end that still crashed (a signal other than our own kill) did not end as asked.
        requested = self._kill_reason is None and (returncode == 0 or self._killed_on_request
                                                   or (self._ending_requested and returncode > 0))
        message = describe_end(returncode, self._kill_reason, self.memory_limit, self.peak_rss, self.heartbeat_timeout)
        if not requested:
            lines = tail_lines(self.log_path)
            if lines:
                message += "; its last output: " + " | ".join(line.strip()[:300] for line in lines)
        self.exit = WorkerExit(returncode, requested, self._kill_reason, message)
        self._exited.set()
        with self._lock:
            pending = list(self._pending.values())
        for waiting in pending:
            waiting["acked"].set()
            waiting["done"].set()
        if self._on_exit is not None:
            self._on_exit(self.exit)
