"""Following a training session's event log: the JSON-lines file the native session appends to (``events_path``).

The native session is the only writer while it runs; a supervisor appends (for example the error event of a worker
that died) only when no session holds the file. Readers never keep copies of the events: they index where each seq's
line starts and read the file again when asked.
"""
from __future__ import annotations

import bisect
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable


class EventFile:
    """An events.jsonl file: an index of its whole lines by seq, new lines as they appear, reads after a seq."""

    def __init__(self, path: str | os.PathLike[str], on_event: Callable[[dict[str, Any]], None] | None = None):
        self.path = Path(path)
        self._on_event = on_event
        self._seqs: list[int] = []
        self._offsets: list[int] = []
        self._end = 0  # bytes of whole lines indexed so far
        self._lock = threading.Lock()
        # Several threads refresh (a follower, controls, an exit handler): indexing and delivery happen under one
        # lock so on_event sees every event once and in seq order.
        self._delivering = threading.RLock()
        self.refresh()

    @property
    def last_seq(self) -> int:
        """The seq of the newest whole event in the file (0 when none)."""
        with self._lock:
            return self._seqs[-1] if self._seqs else 0

    def refresh(self) -> list[dict[str, Any]]:
        """Indexes the whole lines appended since the last call and returns their events (in order)."""
        with self._delivering:
            events = self._index_new_lines()
            if self._on_event is not None:
                for event in events:
                    self._on_event(event)
        return events

    def _index_new_lines(self) -> list[dict[str, Any]]:
        """Indexes the whole lines after the last indexed one and returns their events."""
        with self._lock:
            try:
                with self.path.open("rb") as handle:
                    handle.seek(self._end)
                    data = handle.read()
            except FileNotFoundError:
                return []
            whole = data.rfind(b"\n") + 1  # a line without its newline is still being written (or was torn by a crash)
            events = []
            offset = self._end
            for line in data[:whole].split(b"\n")[:-1]:
                event = json.loads(line)
                self._seqs.append(int(event["seq"]))
                self._offsets.append(offset)
                offset += len(line) + 1
                events.append(event)
            self._end += whole
            return events

    def after(self, seq: int, types: Iterable[str] | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Indexed events with a seq above ``seq`` (optionally only some types, at most ``limit``), read from the file."""
        wanted = set(types) if types is not None else None
        with self._lock:
            first = bisect.bisect_right(self._seqs, seq)
            if first >= len(self._seqs):
                return []
            start, end = self._offsets[first], self._end
        with self.path.open("rb") as handle:
            handle.seek(start)
            data = handle.read(end - start)
        events = []
        for line in data.split(b"\n")[:-1]:
            event = json.loads(line)
            if wanted is None or event["type"] in wanted:
                events.append(event)
                if limit is not None and len(events) >= limit:
                    break
        return events

    def append(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Writes one event after the last whole line (dropping a torn one) and forces it to disk; for when no session writes."""
        self.refresh()
        with self._lock:
            seq = (self._seqs[-1] if self._seqs else 0) + 1
            event = {"seq": seq, "type": kind, "time": round(time.time(), 3), **fields}
            line = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
            with self.path.open("ab") as handle:
                handle.truncate(self._end)
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        self.refresh()
        return event
