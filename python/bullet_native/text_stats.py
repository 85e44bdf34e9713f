"""Counts and style metrics of a text (characters, words, sentences, vocabulary richness, formality), computed natively."""
from __future__ import annotations

import os
from typing import Any

from ._native import I32, OUT_BUF, OUT_LEN, STR, call_json, encode_json, register

register({"bullet_text_stats": (I32, [STR, OUT_BUF, OUT_LEN])})


def text_stats(text: str | None = None, *, path: str | os.PathLike[str] | None = None, preview_chars: int = 400) -> dict[str, Any]:
    """Statistics of ``text`` or of the UTF-8 file at ``path``; raises BulletError for empty, binary or non-UTF-8 input."""
    options: dict[str, Any] = {"preview_chars": preview_chars}
    if text is not None:
        options["text"] = text
    if path is not None:
        options["path"] = os.fspath(path)
    return call_json("bullet_text_stats", encode_json(options))
