"""The legacy routes, kept for existing scripts: POST /train, GET /logs, GET /download/{model_name}."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse

from .. import deps
from ..atomic import atomic_file
from ..paths import check_name, stem_of_upload
from ..schemas.common import ErrorBody
from ..schemas.legacy import TrainStarted
from ..services.datasets import copy_limited
from ..services.errors import Invalid, NotFound
from ..services.models import ModelStore
from ..services.sessions import SessionManager
from ..settings import Settings
from ..sse import EventStream, event_stream_doc, last_event_id, session_events, sse_response

router = APIRouter(tags=["legacy routes"], responses={400: {"model": ErrorBody}, 422: {"model": ErrorBody}})

# The model_config names the legacy /train accepts (vocab size, embedding dim, ..., epochs) mapped to training config keys.
LEGACY_KEYS = {"embedding_dim": "hidden_size", "embed_dim": "hidden_size", "n_embd": "hidden_size", "dim": "hidden_size",
             "num_heads": "num_heads", "n_head": "num_heads", "num_layers": "num_layers", "n_layer": "num_layers",
             "max_seq_length": "max_seq_len", "max_seq_len": "max_seq_len", "block_size": "max_seq_len", "seq_len": "max_seq_len"}


def legacy_config(model_config: str) -> dict[str, Any]:
    """The model_config form field (JSON) as a training config; unknown keys reach the native check and are named there."""
    try:
        raw = json.loads(model_config)
    except ValueError as e:
        raise Invalid(f"model_config is not valid JSON: {e}") from None
    if not isinstance(raw, dict):
        raise Invalid("model_config must be a JSON object")
    config = {LEGACY_KEYS.get(k, k): v for k, v in raw.items() if k not in ("quantization", "quantization_type")}
    quantization = raw.get("quantization", raw.get("quantization_type", "BQ4"))
    check_quantization(quantization)
    return config


def check_quantization(quantization: Any) -> None:
    """Only BQ4 is built; anything else is refused with the one supported value."""
    if quantization != "BQ4":
        raise Invalid(f"quantization {quantization!r} is not supported: only \"BQ4\"")


@router.post("/train", response_model=TrainStarted, status_code=201, summary="Train on an uploaded text and build a BQ4 .bullet",
             responses={413: {"model": ErrorBody}, 415: {"model": ErrorBody}})
def train(model_config: str = Form("{}", description='JSON, e.g. {"preset": "tiny"} or {"vocab_size": 512, "embedding_dim": 64, ...}'),
          training_text: UploadFile = File(..., description="UTF-8 text (.txt or .md)"),
          quantization: str = Form("BQ4"), model_name: Optional[str] = Form(None),
          sessions: SessionManager = Depends(deps.sessions), settings: Settings = Depends(deps.settings)) -> dict[str, Any]:
    check_quantization(quantization)
    config = legacy_config(model_config)
    stem, _ = stem_of_upload(training_text.filename, (".txt", ".md"))

    def write(target: Path) -> None:
        with atomic_file(target) as handle:
            copy_limited(training_text.file, handle, settings.max_upload_bytes)

    session = sessions.create(config, write, dataset=None, name=stem, model_name=check_name(model_name, "model name") if model_name else None,
                              auto_export=True, start=True)
    name = session.meta["model_name"]
    return {"session_id": session.id, "model_name": name, "download": f"/download/{name}", "state": session.state}


@router.get("/logs", summary="The latest session's events as Server-Sent Events", response_class=EventStream,
            responses={**event_stream_doc("the latest session's events (id = seq), then 'end'", "a training event"),
                       404: {"model": ErrorBody, "description": "there is no session yet"}})
async def logs(request: Request, sessions: SessionManager = Depends(deps.sessions), settings: Settings = Depends(deps.settings)):
    session = sessions.latest()
    return sse_response(session_events(session, last_event_id(request, None), follow=True, types=None,
                                       keepalive=settings.keepalive_seconds, ending=lambda: sessions.ending))


@router.get("/download/{model_name}", response_class=FileResponse, summary="Download a built .bullet (the name may end in .bullet)",
            responses={200: {"description": "the .bullet file", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                       404: {"model": ErrorBody}})
def download(model_name: str, store: ModelStore = Depends(deps.models), sessions: SessionManager = Depends(deps.sessions)) -> FileResponse:
    name = model_name[: -len(".bullet")] if model_name.endswith(".bullet") else model_name
    try:
        path = store.path(name)
    except NotFound:
        training = next((s for s in sessions.sessions.values() if s.meta.get("model_name") == name), None)
        if training is None:
            raise
        summary = training.summary()
        raise NotFound(f"model {name!r} is not built yet: its session is {summary['state']} "
                                 f"(step {summary['step']} of {summary['total_steps']})") from None
    return FileResponse(path, media_type="application/octet-stream", filename=f"{name}.bullet")
