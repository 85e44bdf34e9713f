"""Models: the .bullet files under data_dir/models, described by the native reader (cached per file version)."""
from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from bullet_native import BulletError, inspect
from bullet_native.gguf import GGUF_TYPES, export_gguf

from ..atomic import read_json, write_json
from ..paths import check_name, inside, listable
from .datasets import copy_limited
from .errors import Conflict, Invalid, NotFound

# Cached GGUF exports, data_dir/models/gguf-cache/<type>/<model>.gguf (a folder, so never listed as a model).
GGUF_CACHE = "gguf-cache"


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class ModelStore:
    """Lists, inspects, adds and deletes models."""

    def __init__(self, root: Path, max_upload_bytes: int):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_upload_bytes = max_upload_bytes
        self._inspect_cache: dict[tuple[str, int, int], dict[str, Any]] = {}
        self._gguf_locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def path(self, name: str) -> Path:
        """The file of a model; 404 when there is none."""
        path = inside(self.root, f"{check_name(name, 'model name')}.bullet")
        if not path.is_file():
            raise NotFound(f"no model named {name!r}")
        return path

    def inspect(self, name: str) -> dict[str, Any]:
        """The native reader's description: header, tokenizer summary, tensor table, warnings."""
        path = self.path(name)
        st = path.stat()
        key = (name, st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._inspect_cache.get(key)
        if cached is None:
            try:
                cached = inspect(path)
            except BulletError as e:
                raise Invalid(f"model {name!r} cannot be read: {e}") from None
            cached.pop("path", None)  # the server's file layout is nobody's business
            with self._lock:
                self._inspect_cache[key] = cached
        return cached

    def summary(self, name: str) -> dict[str, Any]:
        """What the models table shows."""
        path = self.path(name)
        sidecar = read_json(inside(self.root, f"{name}.json"), {}) or {}
        try:
            info = self.inspect(name)
        except Invalid as e:
            return {"name": name, "bytes": path.stat().st_size, "error": e.message}
        header = info["header"]
        # A file made elsewhere may hold anything in its free-form "extra": only values of the expected kind are shown.
        extra = _object(header.get("extra"))
        metrics = {k: v for k, v in _object(extra.get("training_metrics")).items() if _is_number(v) or k == "verified_on"}
        return {
            "name": name,
            "model_name": _text(header.get("model_name")),
            "bytes": info["file_size"],
            "created": _text(extra.get("created_at")) or sidecar.get("created")
            or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(path.stat().st_mtime)),
            "session_id": sidecar.get("session_id"),
            "source": sidecar.get("source", "session" if sidecar.get("session_id") else "file"),
            "vocab_size": header["vocab_size"],
            "hidden_size": header["hidden_size"],
            "num_layers": header["num_layers"],
            "num_heads": header["num_heads"],
            "max_context": header["max_context"],
            "parameters": info.get("parameters"),
            "steps": int(metrics["steps"]) if "steps" in metrics else None,
            "val_loss": metrics.get("best_val_loss", metrics.get("float_val_loss") if metrics.get("verified_on") != "training" else None),
            "float_perplexity": metrics.get("float_perplexity"),
            "bq4_perplexity": metrics.get("bq4_perplexity"),
            "top1_agreement": metrics.get("top1_agreement"),
            "warnings": len(info.get("warnings", [])),
        }

    def list(self) -> list[dict[str, Any]]:
        """Every listable model's summary, by name."""
        return [self.summary(p.stem) for p in sorted(self.root.glob("*.bullet")) if listable(self.root, p)]

    def add_upload(self, name: str, source: BinaryIO) -> dict[str, Any]:
        """Stores an uploaded .bullet after the native reader accepts it."""
        target = inside(self.root, f"{check_name(name, 'model name')}.bullet")
        if target.exists():
            raise Conflict(f"a model named {name!r} already exists; delete it first or choose another name")
        fd, temp_name = tempfile.mkstemp(prefix=".upload-", suffix=".bullet", dir=self.root)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                copy_limited(source, out, self.max_upload_bytes)
                out.flush()
                os.fsync(out.fileno())
            try:
                inspect(temp)
            except BulletError as e:
                raise Invalid(f"not a valid .bullet file: {e}") from None
            write_json(inside(self.root, f"{name}.json"), {"source": "upload", "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            temp.replace(target)
        finally:
            temp.unlink(missing_ok=True)
        return self.summary(name)

    def gguf(self, name: str, gguf_type: str) -> Path:
        """The model as a llama.cpp GGUF of ``gguf_type``: exported natively (atomically) on first request, then
        served from the cache until the .bullet file changes. 422 for an unknown type or a failed export."""
        if gguf_type not in GGUF_TYPES:
            raise Invalid(f"unknown GGUF type {gguf_type[:40]!r}: choose one of {', '.join(GGUF_TYPES)}")
        source = self.path(name)
        cached = self._gguf_path(name, gguf_type)
        with self._lock:
            lock = self._gguf_locks.setdefault((name, gguf_type), threading.Lock())
        with lock:
            version = source.stat().st_mtime_ns
            if cached.is_file() and cached.stat().st_mtime_ns == version:
                return cached
            cached.parent.mkdir(parents=True, exist_ok=True)
            try:
                export_gguf(source, cached, gguf_type)
            except BulletError as e:
                if not e.is_client_fault:
                    raise  # a server fault (disk full, internal): the app's handler answers it as one
                raise Invalid(f"model {name!r} cannot be exported as GGUF: {e}") from None
            # The cache entry carries the model's modification time: a model replaced under the same name no longer matches.
            os.utime(cached, ns=(version, version))
        return cached

    def _gguf_path(self, name: str, gguf_type: str) -> Path:
        """The cache file; the name is checked without the suffix because a model name may use all 80 characters."""
        checked = inside(self.root, GGUF_CACHE, gguf_type, name)
        return checked.with_name(f"{checked.name}.gguf")

    def delete(self, name: str) -> None:
        """Removes the model with its side file (where it came from) and its cached GGUF exports."""
        self.path(name).unlink()
        inside(self.root, f"{name}.json").unlink(missing_ok=True)
        for gguf_type in GGUF_TYPES:
            self._gguf_path(name, gguf_type).unlink(missing_ok=True)
