"""Counts and style metrics of a text (characters, words, sentences, vocabulary richness, formality), and how much of
it is copied from an original, computed natively."""
from __future__ import annotations

import os
from typing import Any

from ._native import I32, OUT_BUF, OUT_LEN, STR, call_json, encode_json, register

register({"bullet_text_stats": (I32, [STR, OUT_BUF, OUT_LEN])})


def text_stats(text: str | None = None, *, path: str | os.PathLike[str] | None = None, preview_chars: int = 400,
               reference_text: str | None = None, reference_path: str | os.PathLike[str] | None = None,
               ngram: int = 8) -> dict[str, Any]:
    """Statistics of ``text`` or of the UTF-8 file at ``path``; raises BulletError for empty, binary or non-UTF-8 input.

    With ``reference_text`` or ``reference_path`` (the original), the result's ``copied`` says how much of ``text`` is
    copied from it: ``share`` of its ``ngram``-word sequences found word for word, and ``longest_copied_words``."""
    options: dict[str, Any] = {"preview_chars": preview_chars}
    if text is not None:
        options["text"] = text
    if path is not None:
        options["path"] = os.fspath(path)
    if reference_text is not None:
        options["reference_text"] = reference_text
    if reference_path is not None:
        options["reference_path"] = os.fspath(reference_path)
    if reference_text is not None or reference_path is not None:
        options["ngram"] = ngram
    return call_json("bullet_text_stats", encode_json(options))
