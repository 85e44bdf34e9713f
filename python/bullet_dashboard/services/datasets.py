"""Datasets: the bundled texts shipped in the package and the user's texts under data_dir/datasets."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from bullet_native import BulletError
from bullet_native.documents import convert_document
from bullet_native.text_stats import text_stats

from ..atomic import atomic_file, read_json, write_json
from ..paths import check_name, inside, listable
from ..settings import describe_bytes
from .errors import Conflict, Forbidden, Invalid, NotFound, TooLarge

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "datasets"
UPLOAD_SUFFIXES = (".txt", ".md", ".jsonl", ".docx")
CHUNK = 1 << 20


def upload_too_large(limit: int) -> TooLarge:
    """The refusal of an upload or text beyond ``limit`` bytes, with the limit in the message."""
    return TooLarge(f"the upload is larger than the limit of {describe_bytes(limit)}")


def copy_limited(source: BinaryIO, target: BinaryIO, limit: int) -> int:
    """Copies in chunks (never the whole file in memory), refusing past ``limit`` bytes; returns the size."""
    total = 0
    while chunk := source.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise upload_too_large(limit)
        target.write(chunk)
    return total


class DatasetStore:
    """Lists, reads, adds and deletes datasets; statistics come from the native library and are cached per file version."""

    def __init__(self, root: Path, max_upload_bytes: int, bundled_dir: Path = BUNDLED_DIR):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_upload_bytes = max_upload_bytes
        self.bundled_dir = bundled_dir
        self._stats_cache: dict[tuple[str, int, int], dict[str, Any]] = {}
        self._lock = threading.Lock()

    # Bundled datasets are read-only and described by catalog.json.
    def _catalog(self) -> dict[str, dict[str, Any]]:
        entries = read_json(self.bundled_dir / "catalog.json", [])
        return {e["name"]: e for e in entries if isinstance(e, dict) and "name" in e and "file" in e}

    def path(self, name: str) -> Path:
        """The text file of a dataset; 404 when there is none."""
        check_name(name, "dataset name")
        bundled = self._catalog().get(name)
        if bundled:
            return self.bundled_dir / bundled["file"]
        path = inside(self.root, f"{name}.txt")
        if not path.is_file():
            raise NotFound(f"no dataset named {name!r}")
        return path

    def _describe(self, name: str) -> dict[str, Any]:
        bundled = self._catalog().get(name)
        path = self.path(name)
        if bundled:
            meta = {"title": bundled.get("title", name), "description": bundled.get("description", ""),
                    "license": bundled.get("license", ""), "source": "bundled", "bundled": True}
        else:
            meta = read_json(inside(self.root, f"{name}.json"), {}) or {}
            meta = {"title": meta.get("title", name), "description": meta.get("description", ""), "license": meta.get("license", ""),
                    "source": meta.get("source", "upload"), "bundled": False, "original_filename": meta.get("original_filename"),
                    "created": meta.get("created")}
        return {"name": name, "bytes": path.stat().st_size, **meta}

    def list(self) -> list[dict[str, Any]]:
        """Bundled datasets first, then the user's, each with its size (statistics come with get)."""
        names = list(self._catalog())
        names += [p.stem for p in sorted(self.root.glob("*.txt")) if p.stem not in names and listable(self.root, p)]
        return [self._describe(n) for n in names]

    def stats(self, name: str) -> dict[str, Any]:
        """Native statistics of the dataset's text (cached until the file changes)."""
        path = self.path(name)
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._stats_cache.get(key)
        if cached is None:
            cached = text_stats(path=path)
            with self._lock:
                self._stats_cache[key] = cached
        return cached

    def get(self, name: str) -> dict[str, Any]:
        """Description, counts, style metrics and a preview."""
        return {**self._describe(name), **self.stats(name)}

    def _reserve(self, name: str) -> Path:
        check_name(name, "dataset name")
        if name in self._catalog():
            raise Conflict(f"{name!r} is a bundled dataset; choose another name")
        target = inside(self.root, f"{name}.txt")
        if target.exists():
            raise Conflict(f"a dataset named {name!r} already exists; delete it first or choose another name")
        return target

    def _commit(self, temp: Path, name: str, meta: dict[str, Any]) -> dict[str, Any]:
        """Validates the converted text natively, then moves it into place with its description."""
        target = self._reserve(name)
        try:
            text_stats(path=temp, preview_chars=0)
        except BulletError as e:
            raise Invalid(f"the dataset cannot be used: {e}") from None
        write_json(inside(self.root, f"{name}.json"), {**meta, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        temp.replace(target)
        return self.get(name)

    def add_text(self, name: str, text: str, title: str | None = None) -> dict[str, Any]:
        """A dataset from pasted text."""
        self._reserve(name)
        data = text.encode("utf-8")
        if len(data) > self.max_upload_bytes:
            raise upload_too_large(self.max_upload_bytes)
        with self._temp() as temp:
            temp.write_bytes(data)
            return self._commit(temp, name, {"title": title or name, "source": "paste"})

    def add_upload(self, name: str, filename: str, suffix: str, source: BinaryIO, title: str | None = None) -> dict[str, Any]:
        """A dataset from an uploaded .txt, .md, .jsonl or .docx, converted to UTF-8 text on disk."""
        self._reserve(name)
        with self._temp() as temp:
            if suffix in (".txt", ".md"):
                with temp.open("wb") as out:
                    copy_limited(source, out, self.max_upload_bytes)
            else:
                self._convert(source, suffix.lstrip("."), temp)
            return self._commit(temp, name, {"title": title or name, "source": "upload", "original_filename": filename[-200:]})

    @contextmanager
    def _temp(self) -> Iterator[Path]:
        """A hidden temporary path in the datasets folder, removed afterwards unless it was moved into place."""
        fd, name = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=self.root)
        os.close(fd)
        path = Path(name)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def _convert(self, source: BinaryIO, kind: str, temp: Path) -> None:
        """Spools the upload to disk (refused past the limit), then the native library writes its text into ``temp``;
        the converted text obeys the same limit as a plain-text upload."""
        with self._temp() as spooled:
            with spooled.open("wb") as out:
                copy_limited(source, out, self.max_upload_bytes)
            try:
                convert_document(spooled, kind, temp, max_output_bytes=self.max_upload_bytes)
            except BulletError as e:
                if not e.is_client_fault:
                    raise  # a server fault (disk full, internal): the app's handler answers it as one
                raise Invalid(str(e)) from None

    def delete(self, name: str) -> None:
        """Removes a user dataset (bundled ones cannot be deleted)."""
        check_name(name, "dataset name")
        if name in self._catalog():
            raise Forbidden(f"{name!r} is a bundled dataset and cannot be deleted")
        path = self.path(name)
        path.unlink()
        inside(self.root, f"{name}.json").unlink(missing_ok=True)

    def copy_to(self, name: str, target: Path) -> None:
        """Copies a dataset's text into a session folder (a hard link when possible)."""
        source = self.path(name)
        try:
            target.hardlink_to(source)
        except OSError:
            with source.open("rb") as src, atomic_file(target) as dst:
                shutil.copyfileobj(src, dst, CHUNK)
