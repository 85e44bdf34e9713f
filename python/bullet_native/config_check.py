"""Validating a training config without creating a session: every failing field with the native message, and the
estimate of the memory the session will need."""
from __future__ import annotations

from typing import Any

from ._native import I32, OUT_BUF, OUT_LEN, STR, call_json, encode_json, register

register({"bullet_train_validate": (I32, [STR, STR, OUT_BUF, OUT_LEN])})


def validate_config(config: dict[str, Any], text_bytes: int = 0) -> dict[str, Any]:
    """{"valid", "errors": [{"field", "message"}], "config": the full config as the trainer reads it, "estimate": peak
    memory ("peak_bytes", "parameters", "parts", "summary") on a text of ``text_bytes`` bytes (0: unknown)}."""
    return call_json("bullet_train_validate", encode_json(config), encode_json({"text_bytes": int(text_bytes)}))
