"""Validating a training config without creating a session: every failing field with the native message."""
from __future__ import annotations

from typing import Any

from ._native import I32, OUT_BUF, OUT_LEN, STR, call_json, encode_json, register

register({"bullet_train_validate": (I32, [STR, OUT_BUF, OUT_LEN])})


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """{"valid": bool, "errors": [{"field", "message"}], "config": the full config, failing fields left at their preset or default}."""
    return call_json("bullet_train_validate", encode_json(config))
