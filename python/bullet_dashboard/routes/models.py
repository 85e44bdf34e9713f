"""Models: list, inspect, download, upload (validated by the native reader), delete."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from fastapi.responses import FileResponse

from .. import deps
from ..paths import check_name, stem_of_upload
from ..schemas import ErrorBody, ModelSummary
from ..services.models import ModelStore

router = APIRouter(prefix="/api/models", tags=["models"], responses={400: {"model": ErrorBody}, 404: {"model": ErrorBody}})


@router.get("", response_model=List[ModelSummary], summary="Every model with its dims and metrics")
def list_models(store: ModelStore = Depends(deps.models)) -> list[dict[str, Any]]:
    return store.list()


@router.get("/{name}", response_model=Dict[str, Any], summary="The native inspect report (header, tokenizer, tensors, warnings) and the summary")
def inspect_model(name: str, store: ModelStore = Depends(deps.models)) -> dict[str, Any]:
    return {**store.inspect(name), "summary": store.summary(name)}


@router.get("/{name}/download", response_class=FileResponse, summary="Download the .bullet file")
def download(name: str, store: ModelStore = Depends(deps.models)) -> FileResponse:
    return FileResponse(store.path(name), media_type="application/octet-stream", filename=f"{name}.bullet")


@router.post("", response_model=ModelSummary, status_code=201, summary="Upload a .bullet (rejected unless the native reader accepts it)",
             responses={409: {"model": ErrorBody}, 413: {"model": ErrorBody}, 415: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def upload_model(file: UploadFile = File(...), name: Optional[str] = Form(None), store: ModelStore = Depends(deps.models)) -> dict[str, Any]:
    stem, _ = stem_of_upload(file.filename, (".bullet",))
    return store.add_upload(check_name(name, "model name") if name else stem, file.file)


@router.delete("/{name}", status_code=204, response_class=Response, summary="Delete a model")
def delete_model(name: str, store: ModelStore = Depends(deps.models)) -> Response:
    store.delete(name)
    return Response(status_code=204)
