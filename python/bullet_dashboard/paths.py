"""Names that reach the file system: one allow-list pattern, and resolution that never leaves the data folder."""
from __future__ import annotations

import re
from pathlib import Path

from .services.errors import BadRequest, Unsupported

# Letters, digits, dot, dash, underscore; starts with a letter or digit; at most 80 characters. This rules out
# separators, "..", hidden files, NUL bytes and anything a shell or a file system could read differently.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def check_name(name: str, what: str = "name") -> str:
    """Returns ``name`` when it is allowed, else raises BadRequest saying what is wrong with it."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or ".." in name:
        shown = repr(name[:100]) if isinstance(name, str) else type(name).__name__
        raise BadRequest(f"invalid {what} {shown}: use 1-80 letters, digits, '.', '-' or '_', starting with a letter or digit")
    return name


def inside(root: Path, *parts: str) -> Path:
    """``root/parts`` after checking every part and that the resolved path (symlinks followed) stays inside root."""
    for part in parts:
        check_name(part)
    path = root.joinpath(*parts)
    resolved = path.resolve()
    if resolved != root.resolve() and root.resolve() not in resolved.parents:
        raise BadRequest(f"{'/'.join(parts)!r} resolves outside the data folder")
    return path


def stem_of_upload(filename: str | None, allowed_suffixes: tuple[str, ...]) -> tuple[str, str]:
    """(safe stem, lower-case suffix) of an uploaded file's name; only the last path component is considered."""
    if not filename:
        raise BadRequest("the upload has no file name")
    base = re.split(r"[\\/]", filename)[-1]
    suffix = Path(base).suffix.lower()
    if suffix not in allowed_suffixes:
        raise Unsupported(f"unsupported file type {suffix or '(none)'!r}: upload one of {', '.join(allowed_suffixes)}")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(base).stem).strip("._-")[:60] or "upload"
    return check_name(stem, "file name"), suffix


def listable(root: Path, path: Path) -> bool:
    """True for a file in root whose name passes the allow-list and that resolves inside root (no symlink out)."""
    return (NAME_PATTERN.fullmatch(path.stem) is not None and ".." not in path.stem
            and root.resolve() in path.resolve().parents and path.is_file())
