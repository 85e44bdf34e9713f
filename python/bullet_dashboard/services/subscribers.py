"""Event-stream listeners in any event loop, woken from the threads that follow the sessions' event files."""
from __future__ import annotations

import asyncio
import threading


class Subscribers:
    """Async waiters of one session; notify() wakes them all from any thread."""

    def __init__(self) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()

    def add(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        """A new waiter bound to the running loop."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(waiter)
        return waiter

    def remove(self, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        """Forgets a waiter (its client went away)."""
        with self._lock:
            self._waiters.discard(waiter)

    def notify(self) -> None:
        """Wakes every waiter; a closed loop is skipped."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                self.remove((loop, event))

    def __len__(self) -> int:
        return len(self._waiters)
