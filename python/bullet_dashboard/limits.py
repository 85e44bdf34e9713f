"""A request body limit enforced while the body streams in, before any parser buffers it."""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from .security import refusal
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
                    await refusal(scope, 400, "the Content-Length header is not a number", "invalid_content_length")(scope, receive, send)
                    return
                if declared > self.max_bytes:
                    await self._too_large(scope, receive, send)
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
                await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]) -> None:
        """The 413, in the shape the caller reads (OpenAI's error under /v1)."""
        message = f"the request is larger than the limit of {describe_bytes(self.max_bytes)}"
        await refusal(scope, 413, message, "request_too_large")(scope, receive, send)
