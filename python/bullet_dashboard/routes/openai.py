"""The OpenAI-compatible API under /v1 over the models folder (GET /v1/models, POST /v1/completions,
POST /v1/chat/completions). The native service validates, generates and shapes every answer, errors included
(OpenAI's error object); this route hands it the request and streams back its bytes. The models of
schemas/openai.py only document those bytes: the routes read the raw body, so a refusal keeps OpenAI's shape."""
from __future__ import annotations

import threading
from typing import Any, Dict

from fastapi import APIRouter, Request
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import StreamingResponse

from bullet_native.serving import OpenAiService

from ..openapi import SCHEMAS
from ..schemas.openai import (OpenAIChatCompletion, OpenAIChatCompletionCreateParams, OpenAICompletion,
                              OpenAICompletionCreateParams, OpenAIErrorResponse, OpenAIModel, OpenAIModelList)
from ..sse import event_stream_doc

_lock = threading.Lock()


def _refusal(description: str) -> Dict[str, Any]:
    return {"model": OpenAIErrorResponse, "description": description}


# Every /v1 request may be refused by the access guard: a missing or wrong token, a page of another site.
router = APIRouter(prefix="/v1", tags=["openai"], responses={
    401: _refusal("no API key, or a wrong one (code invalid_api_key)"),
    403: _refusal("a request from a page of another site, or to a host name this server does not answer to"),
    413: _refusal("a body larger than the server's limit (code request_too_large)"),
})
_UNKNOWN_MODEL = {404: _refusal("no such model in the models folder (code model_not_found)")}
_GENERATION_REFUSALS = {
    400: _refusal("a body that is not a JSON object, or a parameter missing, of the wrong type, out of range or not "
                  "supported (param names it)"),
    **_UNKNOWN_MODEL,
    500: _refusal("the model file could not be loaded (type server_error)"),
}


def _request_body(model: type) -> Dict[str, Any]:
    """The request body, for the document only: the route reads the raw bytes and the native service checks them."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": SCHEMAS + model.__name__}}}}}


def _stream(whole: type, chunk: str) -> Dict[int, Dict[str, Any]]:
    return event_stream_doc(f"JSON: {whole.__name__}; or with \"stream\": true, Server-Sent Events: one {chunk} per "
                            "`data:` message, the last with finish_reason (then, with stream_options.include_usage, one "
                            "with empty choices and the usage), then `data: [DONE]`; `: keep-alive` comments while "
                            "the model is slow", chunk)


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


@router.get("/models", summary="OpenAI: the models (the .bullet files of the models folder)", description=_ABOUT,
            response_model=OpenAIModelList)
async def list_models(request: Request) -> StreamingResponse:
    return await _answer(request)


# The native service reads the model's name from the path: it is declared for the document only, so that FastAPI
# documents no 422 for it.
@router.get("/models/{model}", summary="OpenAI: one model", description=_ABOUT, response_model=OpenAIModel,
            responses=_UNKNOWN_MODEL, openapi_extra={"parameters": [
                {"name": "model", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "the model's name (its file name without .bullet)"}]})
async def get_model(request: Request) -> StreamingResponse:
    return await _answer(request)


@router.post("/completions", summary="OpenAI: a text completion (\"stream\": true for Server-Sent Events)", description=_ABOUT,
             response_model=OpenAICompletion, responses={**_stream(OpenAICompletion, "OpenAICompletionChunk"), **_GENERATION_REFUSALS},
             openapi_extra=_request_body(OpenAICompletionCreateParams))
async def completions(request: Request) -> StreamingResponse:
    return await _answer(request)


@router.post("/chat/completions", summary="OpenAI: a chat completion (\"stream\": true for Server-Sent Events)",
             description=_ABOUT + " Chat messages become a prompt in the bundled dialogue dataset's turns (system text, then "
                                  "'User: ...' / 'Bot: ...' lines) and the reply stops at the next turn.",
             response_model=OpenAIChatCompletion,
             responses={**_stream(OpenAIChatCompletion, "OpenAIChatCompletionChunk"), **_GENERATION_REFUSALS},
             openapi_extra=_request_body(OpenAIChatCompletionCreateParams))
async def chat_completions(request: Request) -> StreamingResponse:
    return await _answer(request)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def anything_else(request: Request) -> StreamingResponse:
    """Other paths and methods: OpenAI's 404 or 405, from the same native service."""
    return await _answer(request)
