"""The worker process that holds one session's native training session, and the thread that follows its events.

A session has at most one worker. The worker appends the session's events to ``events.jsonl``; this side reads each
new line within a few tens of milliseconds, folds it into the session's record and wakes the event streams. The
worker's stderr is kept in ``worker.log`` so an abnormal end can be explained.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol

from bullet_native import BulletError
from bullet_native.event_file import EventFile
from bullet_native.worker_client import WorkerExit, WorkerProcess

from .errors import Unavailable

# How often a live session's event file is read: the event stream's latency is about half of this.
FOLLOW_INTERVAL = 0.02
# Controls answer within this; exports and checkpoints of big models may take long.
CONTROL_TIMEOUT = 30.0
LONG_TIMEOUT = 3600.0


class WorkerOwner(Protocol):
    """What a worker needs of the session it holds."""

    id: str
    folder: Path
    events: EventFile

    def refresh(self) -> None: ...


class SessionWorker:
    """One live worker of a session: opens the native session in it, follows its events, reports how it ended.

    Starting is two steps, so the session can name its worker before the first event arrives: the constructor starts
    the process, :meth:`open` opens the native session in it and starts following its events."""

    def __init__(self, session: WorkerOwner, *, memory_limit: int, heartbeat_timeout: float,
                 on_exit: Callable[["SessionWorker", WorkerExit], None]):
        self.session = session
        self.first_seq = session.events.last_seq + 1
        self.started_at = time.time()
        self.memory_limit = memory_limit
        self.threads: int | None = None
        self._on_exit = on_exit
        self._followed = threading.Event()
        self.process = WorkerProcess(log_path=session.folder / "worker.log", memory_limit=memory_limit,
                                     heartbeat_timeout=heartbeat_timeout, on_exit=self._exited)

    def open(self, *, options: dict[str, Any], config: dict[str, Any]) -> None:
        """Opens the native session in the worker and follows its events; a worker that cannot open it is closed."""
        self.threads = config.get("threads")
        threading.Thread(target=self._follow, name=f"follow-{self.session.id}", daemon=True).start()
        try:
            self.process.call("open", timeout=CONTROL_TIMEOUT, config=config,
                              options={**options, "events_path": str(self.session.events.path)})
        except BulletError:
            self.process.close()
            raise

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    @property
    def alive(self) -> bool:
        """True until the process has ended."""
        return self.process.alive

    def call(self, op: str, timeout: float = CONTROL_TIMEOUT, **args: Any) -> Any:
        """One request to the worker; a worker that does not answer or ends first is a 503 with the reason."""
        try:
            return self.process.call(op, timeout=timeout, **args)
        except BulletError as e:
            if type(e).__name__ in ("WorkerGone", "WorkerTimeout"):
                raise Unavailable(f"session {self.session.id}: {e}") from None
            raise

    def close(self, checkpoint: bool = False) -> None:
        """Ends the worker (``checkpoint``: an unfinished session is paused and checkpointed first) and waits for it."""
        self.process.close(checkpoint=checkpoint)
        self._followed.wait(5)

    def _follow(self) -> None:
        while self.process.alive:
            self.session.refresh()
            time.sleep(FOLLOW_INTERVAL)

    def _exited(self, end: WorkerExit) -> None:
        self.session.refresh()  # whatever it wrote before it ended
        self._followed.set()
        self._on_exit(self, end)
