"""Server-Sent Events as a plain StreamingResponse: ids are event seqs, Last-Event-ID replays, keep-alive comments.

Each training event is an unnamed SSE message (``onmessage``) whose data is the event JSON and whose id is its seq.
When a session can produce no more events the stream sends ``event: end`` and closes, so a browser does not
reconnect to a finished run forever.

A replay is sent in chunks of about ``CHUNK_BYTES`` with a pass through the event loop after each: a send does not
wait on the socket, so without that pass a long replay would hold the loop, the server would not see that the
browser hung up (a closed tab) until the end, and every write to the dead socket would log
"socket.send() raised exception.".
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse

from .services.sessions import ManagedSession

CHUNK_BYTES = 64 * 1024
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


def format_sse(data: Any, *, id: int | None = None, event: str | None = None) -> str:
    """One SSE message; ``data`` is sent as compact JSON on one line."""
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def last_event_id(request: Request, query_value: int | None) -> int:
    """Where a client resumes: the Last-Event-ID header (set by a reconnecting EventSource), else ?last_event_id=, else 0."""
    header = request.headers.get("last-event-id")
    if header is not None:
        try:
            return max(0, int(header.strip()))
        except ValueError:
            return 0
    return max(0, query_value or 0)


async def session_events(session: ManagedSession, after: int, *, follow: bool, types: set[str] | None,
                         keepalive: float, ending: Callable[[], bool] = lambda: False) -> AsyncIterator[str]:
    """Every event after ``after``, then live ones (with ``follow``) until the session can produce no more."""
    waiter = session.subscribers.add()
    _, wake = waiter
    sent = after
    try:
        yield "retry: 2000\n\n"
        while True:
            # Clearing before reading means an event appended in between still wakes the wait below.
            wake.clear()
            streaming = session.streaming
            batch = session.events.after(sent, limit=500)
            chunk: list[str] = []
            size = 0
            for event in batch:
                sent = event["seq"]
                if types is None or event["type"] in types:
                    chunk.append(format_sse(event, id=event["seq"]))
                    size += len(chunk[-1])
                if size >= CHUNK_BYTES:
                    yield "".join(chunk)
                    chunk, size = [], 0
                    # Lets the loop notice a client that hung up (the response is then cancelled here).
                    await asyncio.sleep(0)
            if chunk:
                yield "".join(chunk)
            if batch:
                await asyncio.sleep(0)
                continue
            if not follow or not streaming or ending():
                yield format_sse({"last_seq": sent, "state": session.state}, event="end")
                return
            try:
                await asyncio.wait_for(wake.wait(), keepalive)
            except asyncio.TimeoutError:
                yield ": keep-alive\n\n"
    finally:
        session.subscribers.remove(waiter)


class EventStream(StreamingResponse):
    """A Server-Sent Events response (as a route's response_class, it documents the route's 200 as text/event-stream)."""
    media_type = "text/event-stream"


def sse_response(stream: AsyncIterator[str]) -> StreamingResponse:
    """Wraps an SSE generator with the headers proxies and browsers need."""
    return EventStream(stream, headers=HEADERS)


def event_stream_doc(description: str, data: str | None = None) -> dict[int | str, dict[str, Any]]:
    """A route's 200 as Server-Sent Events, for the document: what the stream carries and, when it has one, the schema
    (a component name) of each message's data."""
    schema = {"type": "string", "description": f"each message's data: {data} (JSON)" if data else "SSE messages"}
    return {200: {"description": description, "content": {"text/event-stream": {"schema": schema}}}}
