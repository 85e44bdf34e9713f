"""A request body limit enforced while the body streams in, before any parser buffers it."""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from .settings import describe_bytes

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware: a 413 when Content-Length or the bytes actually received exceed ``max_bytes``."""

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._reject(send, 400, "the Content-Length header is not a number")
                    return
                if declared > self.max_bytes:
                    await self._reject(send, 413, self._message())
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send, 413, self._message())

    def _message(self) -> str:
        return f"the request is larger than the limit of {describe_bytes(self.max_bytes)}"

    @staticmethod
    async def _reject(send: Callable[[Message], Awaitable[None]], status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
