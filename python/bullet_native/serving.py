"""The OpenAI-compatible API: the native service validates, generates and shapes every response; a web server only
hands it the request and writes back the bytes it returns (see serve_cli.py and the dashboard's /v1 routes)."""
from __future__ import annotations

import ctypes
import os
from typing import Any, Iterator

from ._native import I32, I64, OUT_BUF, OUT_LEN, P, STR, NativeObject, call, call_bytes, call_json, encode_json, encode_str, register

register({
    "bullet_openai_service_create": (I32, [STR, ctypes.POINTER(ctypes.c_int64)]),
    "bullet_openai_request": (I32, [I64, STR, STR, STR, P, I64, ctypes.POINTER(ctypes.c_int64), OUT_BUF, OUT_LEN]),
    "bullet_openai_read": (I32, [I64, I32, OUT_BUF, OUT_LEN]),
})

# How long one read waits for a generated token before a streamed body gets a keep-alive comment (which also lets a
# server notice a client that went away).
READ_WAIT_MS = 10_000


class OpenAiResponse(NativeObject):
    """One response: `status`, `content_type`, then `chunks()` yields the body's bytes; close() ends a generation early."""

    _closed_message = "the response is closed"

    def __init__(self, handle: int, head: dict[str, Any]):
        self._handle: int | None = handle
        self.status: int = head["status"]
        self.content_type: str = head["content_type"]

    def chunks(self) -> Iterator[bytes]:
        """The body piece by piece as the native side produces it; closes the response at the end or when abandoned."""
        try:
            while True:
                piece = call_bytes("bullet_openai_read", self.handle, READ_WAIT_MS)
                if not piece:
                    return
                yield piece
        finally:
            self.close()


class OpenAiService(NativeObject):
    """The /v1 API over .bullet models: `models` {name: path} and/or every .bullet in `models_dir` (named by file stem).

    Keyword options: api_key (clients send "Authorization: Bearer KEY"), threads (per matrix product), cache_mb (KV
    cache limit per model), tokens_per_step (rows per batched step), keep_loaded (models kept open)."""

    _closed_message = "the service is closed"

    def __init__(self, models: dict[str, str | os.PathLike[str]] | None = None, models_dir: str | os.PathLike[str] | None = None,
                 **options: Any):
        config: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
        if models:
            config["models"] = {name: os.fspath(path) for name, path in models.items()}
        if models_dir is not None:
            config["models_dir"] = os.fspath(models_dir)
        handle = ctypes.c_int64()
        call("bullet_openai_service_create", encode_json(config), ctypes.byref(handle))
        self._handle: int | None = handle.value

    def answer(self, method: str, path: str, authorization: str | None, body: bytes = b"") -> OpenAiResponse:
        """Answers one request (path includes /v1); errors come back as responses with OpenAI's error object."""
        response = ctypes.c_int64()
        head = call_json("bullet_openai_request", self.handle, encode_str(method), encode_str(path), encode_str(authorization),
                         body, len(body), ctypes.byref(response))
        return OpenAiResponse(response.value, head)
