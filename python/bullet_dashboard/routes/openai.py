"""The OpenAI-compatible API under /v1 over the models folder (GET /v1/models, POST /v1/completions,
POST /v1/chat/completions). The native service validates, generates and shapes every answer, errors included
(OpenAI's error object); this route hands it the request and streams back its bytes."""
from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import StreamingResponse

from bullet_native.serving import OpenAiService

router = APIRouter(prefix="/v1", tags=["openai"])
_lock = threading.Lock()


def _service(request: Request) -> OpenAiService:
    """The app's service over its models folder, made on first use (closed with the app's state when it goes)."""
    state = request.app.state
    with _lock:
        service = getattr(state, "openai", None)
        if service is None:
            service = state.openai = OpenAiService(models_dir=state.models.root)
        return service


async def _answer(request: Request) -> StreamingResponse:
    service = _service(request)
    body = await request.body()
    response = await run_in_threadpool(service.answer, request.method, request.url.path, request.headers.get("authorization"), body)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"} if response.content_type == "text/event-stream" else None
    return StreamingResponse(iterate_in_threadpool(response.chunks()), status_code=response.status,
                             media_type=response.content_type, headers=headers)


_ABOUT = ("Any OpenAI client works with base URL http://HOST:PORT/v1. Models are the .bullet files of the models folder, by "
          "name. Errors use OpenAI's shape {\"error\": {message, type, param, code}}.")


@router.get("/models", summary="OpenAI: the models (the .bullet files of the models folder)", description=_ABOUT)
async def list_models(request: Request) -> StreamingResponse:
    return await _answer(request)


@router.get("/models/{model}", summary="OpenAI: one model", description=_ABOUT)
async def get_model(model: str, request: Request) -> StreamingResponse:
    return await _answer(request)


@router.post("/completions", summary="OpenAI: a text completion (\"stream\": true for Server-Sent Events)", description=_ABOUT)
async def completions(request: Request) -> StreamingResponse:
    return await _answer(request)


@router.post("/chat/completions", summary="OpenAI: a chat completion (\"stream\": true for Server-Sent Events)",
             description=_ABOUT + " Chat messages become a prompt in the bundled dialogue dataset's turns (system text, then "
                                  "'User: ...' / 'Bot: ...' lines) and the reply stops at the next turn.")
async def chat_completions(request: Request) -> StreamingResponse:
    return await _answer(request)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def anything_else(request: Request) -> StreamingResponse:
    """Other paths and methods: OpenAI's 404 or 405, from the same native service."""
    return await _answer(request)
