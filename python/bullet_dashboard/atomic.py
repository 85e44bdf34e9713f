"""Atomic writes: data goes to a hidden temporary file in the same folder, is flushed, then renamed over the target."""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterator


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Yields a binary file; on a clean exit it replaces ``path``, on an exception it disappears."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Atomically replaces ``path`` with ``data``."""
    with atomic_file(path) as handle:
        handle.write(data)


def write_json(path: Path, value: Any) -> None:
    """Atomically replaces ``path`` with ``value`` as indented UTF-8 JSON."""
    write_bytes(path, json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8"))


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON in ``path``, or ``default`` when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
