"""Documents to training text: a .jsonl file (a "text" field per line) or a Word .docx, converted natively into UTF-8."""
from __future__ import annotations

import os
from typing import Any

from ._native import I32, OUT_BUF, OUT_LEN, STR, call_json, encode_json, encode_str, register

register({"bullet_text_convert": (I32, [STR, STR, STR, STR, OUT_BUF, OUT_LEN])})


def convert_document(source: str | os.PathLike[str], kind: str, destination: str | os.PathLike[str], *,
                     max_output_bytes: int | None = None, max_part_bytes: int | None = None) -> dict[str, Any]:
    """Writes the text of SOURCE (kind "jsonl" or "docx") to DESTINATION as UTF-8, atomically.

    .jsonl: the "text" of each line's object, joined by blank lines; .docx: the paragraphs of word/document.xml, one
    per line. Limits (bytes): max_output_bytes for the text (default 1 GiB), max_part_bytes for one .jsonl line or the
    .docx's XML uncompressed (default 256 MiB). Returns kind, bytes, characters, lines, and records or paragraphs;
    raises BulletError with a message naming the line or part at fault.
    """
    options: dict[str, Any] = {}
    if max_output_bytes is not None:
        options["max_output_bytes"] = int(max_output_bytes)
    if max_part_bytes is not None:
        options["max_part_bytes"] = int(max_part_bytes)
    return call_json("bullet_text_convert", encode_str(source), encode_str(kind), encode_str(destination), encode_json(options))
