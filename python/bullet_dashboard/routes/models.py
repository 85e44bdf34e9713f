"""Models: list, inspect, download, upload (validated by the native reader), delete, and running them: generate
(whole or streamed), perplexity, attention, style comparison."""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, AsyncIterator, List, Optional

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse

from bullet_native import BulletError
from bullet_native.gguf import GGUF_TYPES
from bullet_native.text_stats import text_stats

from .. import deps
from ..paths import check_name, stem_of_upload
from ..schemas.attention import AttentionMaps
from ..schemas.common import ErrorBody
from ..schemas.models import (Generation, GenerateBody, ModelInspect, ModelSummary, Perplexity, Sampling, StyleBody, StyleReport,
                              TextForModel)
from ..services.datasets import DatasetStore
from ..services.errors import DashboardError, Invalid
from ..services.models import ModelStore
from ..services.runtime import ModelRunner
from ..sse import event_stream_doc, format_sse, sse_response

log = logging.getLogger("bullet_dashboard.models")

# With stream=true the 200 is Server-Sent Events instead of JSON: a GenerationToken per piece, then 'done' with the
# Generation, or 'error' with {detail}.
GENERATION_STREAM = event_stream_doc("JSON (a Generation), or with stream=true Server-Sent Events: a GenerationToken per piece "
                                     "(id = its index), then 'done' with the Generation, or 'error' with {detail}", "GenerationToken")

router = APIRouter(prefix="/api/models", tags=["models"], responses={400: {"model": ErrorBody}, 404: {"model": ErrorBody}})


@router.get("", response_model=List[ModelSummary], summary="Every model with its dims and metrics")
def list_models(store: ModelStore = Depends(deps.models)) -> list[dict[str, Any]]:
    return store.list()


@router.get("/{name}", response_model=ModelInspect, responses={422: {"model": ErrorBody}}, summary="The native inspect report (header, tokenizer, tensors, warnings) and the summary")
def inspect_model(name: str, store: ModelStore = Depends(deps.models)) -> dict[str, Any]:
    return {**store.inspect(name), "summary": store.summary(name)}


@router.get("/{name}/download", response_class=FileResponse, summary="Download the .bullet file",
            responses={200: {"description": "the .bullet file", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
def download(name: str, store: ModelStore = Depends(deps.models)) -> FileResponse:
    return FileResponse(store.path(name), media_type="application/octet-stream", filename=f"{name}.bullet")


@router.get("/{name}/gguf", response_class=FileResponse, summary="Download the model as llama.cpp GGUF",
            description="Exported from the .bullet file on first request (its 4-bit weights dequantized, then stored as "
                        "`type`; norms stay f32), cached until the model changes. Saved as `<name>-<type>.gguf`.",
            responses={200: {"description": "the GGUF file", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                       422: {"model": ErrorBody}})
def download_gguf(name: str, gguf_type: str = Query("q8_0", alias="type", description=f"tensor type: {', '.join(GGUF_TYPES)}"),
                  store: ModelStore = Depends(deps.models)) -> FileResponse:
    return FileResponse(store.gguf(name, gguf_type), media_type="application/octet-stream", filename=f"{name}-{gguf_type}.gguf")


@router.post("", response_model=ModelSummary, status_code=201, summary="Upload a .bullet (rejected unless the native reader accepts it)",
             responses={409: {"model": ErrorBody}, 413: {"model": ErrorBody}, 415: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def upload_model(file: UploadFile = File(...), name: Optional[str] = Form(None), store: ModelStore = Depends(deps.models)) -> dict[str, Any]:
    stem, _ = stem_of_upload(file.filename, (".bullet",))
    return store.add_upload(check_name(name, "model name") if name else stem, file.file)


@router.delete("/{name}", status_code=204, response_class=Response, summary="Delete a model")
def delete_model(name: str, store: ModelStore = Depends(deps.models), run: ModelRunner = Depends(deps.runner)) -> Response:
    store.path(name)
    run.forget(name)
    store.delete(name)
    return Response(status_code=204)


@router.post("/{name}/generate", summary="Generate text (whole, or streamed as Server-Sent Events with stream=true)",
             response_model=Generation, responses={**GENERATION_STREAM, 422: {"model": ErrorBody}})
async def generate(name: str, body: GenerateBody, run: ModelRunner = Depends(deps.runner)):
    run.store.inspect(name)  # 404 / 422 as HTTP errors before any stream starts
    options = Sampling(**body.dict(include=set(Sampling.__fields__))).options()
    if body.stream:
        return sse_response(stream_tokens(run, name, body.prompt, options))

    def whole() -> dict[str, Any]:
        with run.use(name) as model:
            return model.generate(body.prompt, **options)
    return await run_in_threadpool(whole)


async def stream_tokens(run: ModelRunner, name: str, prompt: str, options: dict[str, Any]) -> AsyncIterator[str]:
    """Pieces as they are generated (id = token index from 1; with top_logprobs, each with the token's choice), then
    'done' with the native summary, or 'error'."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    cancelled = threading.Event()

    def produce() -> None:
        try:
            with run.use(name) as model, model.stream(prompt, **options) as tokens:
                started = time.perf_counter()
                for index, piece in enumerate(tokens, start=1):
                    if cancelled.is_set():
                        return
                    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
                    event = {"index": index, "text": piece, "elapsed_ms": elapsed_ms}
                    if tokens.choice is not None:
                        event["choice"] = tokens.choice
                    loop.call_soon_threadsafe(queue.put_nowait, ("token", event))
                result = tokens.result
            if result is None:  # the model was closed under the stream
                loop.call_soon_threadsafe(queue.put_nowait, ("error", {"detail": "the generation ended before it finished"}))
            else:
                loop.call_soon_threadsafe(queue.put_nowait, ("done", result))
        except (BulletError, DashboardError) as e:
            loop.call_soon_threadsafe(queue.put_nowait, ("error", {"detail": str(e)}))
        except Exception as e:  # noqa: BLE001 - the stream must end whatever went wrong (a model deleted meanwhile)
            log.exception("generation from %s failed", name)
            loop.call_soon_threadsafe(queue.put_nowait, ("error", {"detail": f"the generation failed: {e}"}))

    threading.Thread(target=produce, name=f"generate-{name}", daemon=True).start()
    try:
        while True:
            kind, data = await queue.get()
            if kind == "token":
                yield format_sse(data, id=data["index"])
            else:
                yield format_sse(data, event=kind)
                return
    finally:
        cancelled.set()


@router.post("/{name}/perplexity", response_model=Perplexity, summary="Perplexity of a text under the model",
             responses={422: {"model": ErrorBody}})
def perplexity(name: str, body: TextForModel, run: ModelRunner = Depends(deps.runner)) -> dict[str, Any]:
    with run.use(name) as model:
        return model.perplexity(body.text)


@router.post("/{name}/attention", response_model=AttentionMaps,
             summary="Attention of every layer and head for a text: tokens and maps[layer][head][query][key]",
             responses={422: {"model": ErrorBody}})
def attention(name: str, body: TextForModel, run: ModelRunner = Depends(deps.runner)) -> JSONResponse:
    with run.use(name) as model:
        weights, tokens = model.attention(body.text, return_tokens=True)
    maps = weights.tolist() if hasattr(weights, "tolist") else weights
    return JSONResponse(AttentionMaps.complete({"tokens": tokens, "layers": len(maps), "heads": len(maps[0]) if maps else 0, "maps": maps}))


def style_prompt(original: dict[str, Any]) -> str:
    """A prompt that is not the start of the original: the word that most often opens its sentences (not its first
    word), and a space, so the model goes on with the next word."""
    first = (original["preview"].split() or [""])[0].strip(".,;:!?\"'()").lower()
    openers = original.get("sentence_openers") or []
    return next((o for o in openers if o.lower() != first), openers[0] if openers else "The") + " "


@router.post("/{name}/style", response_model=StyleReport, responses={422: {"model": ErrorBody}},
             summary="Original vs generated passage with style metrics for both, how much of the passage is copied, "
                     "and the model's confidence on the original")
def style(name: str, body: StyleBody, run: ModelRunner = Depends(deps.runner), datasets: DatasetStore = Depends(deps.datasets)) -> dict[str, Any]:
    if (body.text is None) == (body.dataset is None):
        raise Invalid("give exactly one of text and dataset")
    source = {"path": datasets.path(body.dataset)} if body.dataset else {"text": body.text}
    reference = {"reference_path": source["path"]} if body.dataset else {"reference_text": body.text}
    original = text_stats(preview_chars=body.passage_chars, **source)
    passage = original["preview"]
    prompt = body.prompt if body.prompt is not None else style_prompt(original)
    options = Sampling(**body.dict(include=set(Sampling.__fields__))).options()
    with run.use(name) as model:
        generated = model.generate(prompt, **options)
        confidence = model.perplexity(passage)
    generated_stats = text_stats(generated["text"], preview_chars=0, **reference) if generated["text"].strip() else None
    return {
        "original": {"passage": passage, "metrics": original["style"], "words": original["words"]},
        "generated": {"prompt": prompt, "text": generated["text"], "metrics": generated_stats["style"] if generated_stats else None,
                      "copied": generated_stats["copied"] if generated_stats else None,
                      "tokens_per_second": generated.get("tokens_per_second")},
        "confidence": confidence,
        "definitions": {**original["definitions"],
                        "avg_token_probability": "geometric mean of the probability the model gives each next token of the original passage (1 / perplexity)",
                        "perplexity": "exp of the mean negative log-likelihood of the original passage under the model"},
    }
