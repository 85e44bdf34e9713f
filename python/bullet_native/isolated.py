"""A training session in a worker process of its own, with TrainingSession's interface.

For notebooks and scripts that want the dashboard's crash safety: a segmentation fault, an out-of-memory kill or a
runaway config ends the worker, and the notebook gets an "error" event and a message instead of a dead kernel.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from ._native import BulletError, ClosingObject, Status
from .event_file import EventFile
from .notebook import closed_html, session_html
from .report import Report, TrainingRun
from .training import TERMINAL_EVENTS, FollowsEvents, checkpoint_weights, run_session
from .worker_client import MB, WorkerExit, WorkerProcess

# Long operations (export with verification, a checkpoint of a large model) get this long to answer.
LONG_CALL_SECONDS = 3600.0


class IsolatedTrainingSession(FollowsEvents, ClosingObject):
    """TrainingSession's methods, with the native session running in ``python -m bullet_native worker``.

    Events are read from ``output_dir/events.jsonl`` (a temporary folder when no output_dir is given); the worker's
    stderr goes to ``worker.log`` beside it. ``memory_limit_mb`` ends the worker when it uses more. close() ends the
    worker; when the worker ends abnormally an "error" event says why.
    """

    def __init__(self, config: dict[str, Any] | None = None, *, text: str | None = None,
                 text_path: str | os.PathLike[str] | None = None, tokenizer_path: str | os.PathLike[str] | None = None,
                 output_dir: str | os.PathLike[str] | None = None, resume_from: str | os.PathLike[str] | None = None,
                 memory_limit_mb: float | None = None):
        self._scratch = None if output_dir is not None else tempfile.TemporaryDirectory(prefix="bullet-session-")
        folder = Path(output_dir) if output_dir is not None else Path(self._scratch.name)
        folder.mkdir(parents=True, exist_ok=True)
        self.output_dir = os.fspath(output_dir) if output_dir is not None else None
        self.events_path = folder / "events.jsonl"
        self._events = EventFile(self.events_path)
        self.last_seq = self._events.last_seq
        options = {"text": text, "text_path": text_path, "tokenizer_path": tokenizer_path, "output_dir": output_dir,
                   "resume_from": resume_from, "events_path": self.events_path}
        options = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in options.items() if v is not None}
        self._worker: WorkerProcess | None = WorkerProcess(
            log_path=folder / "worker.log", on_exit=self._record_exit,
            memory_limit=int(memory_limit_mb * MB) if memory_limit_mb is not None else None)
        try:
            self._worker.call("open", config=config or {}, options=options)
        except BulletError:
            self._worker.close()
            self._worker = None
            raise

    @property
    def pid(self) -> int | None:
        """The worker's process id (None once closed)."""
        return self._worker.pid if self._worker is not None else None

    def _call(self, op: str, timeout: float | None = 30.0, **args: Any) -> Any:
        if self._worker is None:
            raise BulletError("the training session is closed", Status.INVALID_HANDLE)
        return self._worker.call(op, timeout=timeout, **args)

    def _record_exit(self, end: WorkerExit) -> None:
        """An abnormal end becomes the session's last event, so poll() and run() report it like any failure."""
        if end.abnormal:
            self._events.append("error", {"state": "failed", "message": end.message})

    def start(self) -> None:
        """Starts (or continues) training in the background."""
        self._call("start")

    def pause(self) -> None:
        """Pauses after the current step."""
        self._call("pause")

    def resume(self) -> None:
        """Continues after a pause."""
        self._call("resume")

    def stop(self) -> None:
        """Ends training gracefully after the current step; the model stays exportable."""
        self._call("stop")

    def step(self, steps: int = 1) -> None:
        """Runs this many more steps in the background, then waits."""
        self._call("step", steps=steps)

    def set_speed(self, steps_per_second: float) -> None:
        """Limits the training speed (0 = full speed)."""
        self._call("speed", steps_per_second=float(steps_per_second))

    def set_threads(self, threads: int) -> None:
        """Sets the threads the session trains with, from its next step on."""
        self._call("threads", threads=int(threads))

    def train_step(self) -> dict[str, Any]:
        """Runs one optimizer step now and returns its metrics."""
        return self._call("train_step", timeout=LONG_CALL_SECONDS)

    def status(self) -> dict[str, Any]:
        """State, step, last metrics and config (state "failed" once the worker has ended abnormally)."""
        if self._worker is None or not self._worker.alive:
            last = self._events.after(0, types=TERMINAL_EVENTS)
            return {"state": last[-1].get("state", "failed") if last else "failed", "step": last[-1].get("step") if last else 0}
        return self._call("status")

    def poll(self, since: int | None = None, wait_ms: int = 0) -> list[dict[str, Any]]:
        """Events newer than ``since`` (default: the last one returned), waiting up to ``wait_ms`` for the first."""
        deadline = time.monotonic() + wait_ms / 1000
        while True:
            self._events.refresh()
            events = self._events.after(self.last_seq if since is None else since)
            if events or time.monotonic() >= deadline or (self._worker is not None and not self._worker.alive and not events):
                break
            time.sleep(0.02)
        if events:
            self.last_seq = max(self.last_seq, events[-1]["seq"])
        return events

    def checkpoint(self, path: str | os.PathLike[str] | None = None) -> str:
        """Saves a resumable checkpoint folder (default: under output_dir) and returns its path."""
        return self._call("checkpoint", timeout=LONG_CALL_SECONDS, path=os.fspath(path) if path is not None else None)["path"]

    def export(self, path: str | os.PathLike[str] | None = None, **options: Any) -> dict[str, Any]:
        """Writes the BQ4 .bullet in the worker, verifies it against the float model and returns the numbers."""
        if path is not None:
            options["path"] = path
        options = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in options.items()}
        return Report(self._call("export", timeout=LONG_CALL_SECONDS, options=options))

    def memory(self) -> dict[str, int]:
        """The worker's resident memory now ("rss") and at its peak ("peak_rss"), in bytes."""
        return self._call("memory")

    def attention(self, probe: str | None = None) -> dict[str, Any]:
        """Every layer's and head's attention on ``probe`` with the current weights."""
        return self._call("attention", timeout=LONG_CALL_SECONDS, probe=probe)

    def run(self, progress: bool = True, checkpoint: str | os.PathLike[str] | None = None, poll_ms: int = 200) -> TrainingRun:
        """Trains to the end with live progress, as TrainingSession.run does."""
        return run_session(self, progress=progress, checkpoint=checkpoint, poll_ms=poll_ms)

    def weights(self) -> dict[str, Any]:
        """The current float weights by .bullet tensor name (numpy arrays, or nested lists without numpy)."""
        return checkpoint_weights(self)

    def close(self) -> None:
        """Ends the worker (idempotent); a session that ended abnormally keeps its error event."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def _repr_html_(self) -> str:
        return closed_html("IsolatedTrainingSession") if self._worker is None else session_html(self.status())

    def __repr__(self) -> str:
        if self._worker is None:
            return "IsolatedTrainingSession(closed)"
        status = self.status()
        return f"IsolatedTrainingSession(pid={self.pid}, state={status['state']!r}, step={status.get('step')})"
