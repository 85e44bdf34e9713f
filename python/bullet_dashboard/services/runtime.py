"""Loaded models for generation: a few kept open (least recently used closed first), each used by one request at a time."""
from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import Iterator

from bullet_native.model import Model

from .models import ModelStore


class ModelRunner:
    """Opens models from the store on demand; a native model handle is used from one thread at a time."""

    def __init__(self, store: ModelStore, keep_open: int = 4):
        self.store = store
        self.keep_open = keep_open
        self._open: OrderedDict[tuple[str, int, int], tuple[Model, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def use(self, name: str) -> Iterator[Model]:
        """The loaded model, held exclusively for the duration of the block (reloaded when the file changed)."""
        path = self.store.path(name)
        self.store.inspect(name)  # a file the reader rejects is a 422 here, before loading
        st = path.stat()
        key = (name, st.st_mtime_ns, st.st_size)
        while True:
            with self._lock:
                entry = self._open.get(key)
                if entry is None:
                    entry = (Model(path), threading.Lock())
                    self._open[key] = entry
                self._open.move_to_end(key)
                # Older versions of this file, then the least recently used models beyond keep_open.
                evicted = [self._open.pop(k) for k in list(self._open) if k[0] == name and k != key]
                while len(self._open) > self.keep_open:
                    evicted.append(self._open.pop(next(iter(self._open))))
            for model, lock in evicted:
                with lock:
                    model.close()
            model, lock = entry
            with lock:
                if model.closed:
                    continue  # evicted by another request between choosing it and taking its lock: load it again
                yield model
                return

    def forget(self, name: str) -> None:
        """Closes a model's loaded copies (before its file is deleted)."""
        with self._lock:
            entries = [self._open.pop(k) for k in list(self._open) if k[0] == name]
        for model, lock in entries:
            with lock:
                model.close()

    def close(self) -> None:
        """Closes every loaded model."""
        with self._lock:
            entries = list(self._open.values())
            self._open.clear()
        for model, lock in entries:
            with lock:
                model.close()
