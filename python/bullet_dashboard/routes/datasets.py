"""Datasets: bundled and uploaded texts with their statistics."""
from __future__ import annotations

from typing import Any, List, Optional

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from fastapi.responses import FileResponse

from .. import deps
from ..paths import check_name, stem_of_upload
from ..schemas.common import ErrorBody
from ..schemas.datasets import DatasetDetail, DatasetFromText, DatasetSummary
from ..services.datasets import UPLOAD_SUFFIXES, DatasetStore

router = APIRouter(prefix="/api/datasets", tags=["datasets"], responses={400: {"model": ErrorBody}, 404: {"model": ErrorBody}})


@router.get("", response_model=List[DatasetSummary], summary="Bundled and uploaded datasets")
def list_datasets(store: DatasetStore = Depends(deps.datasets)) -> list[dict[str, Any]]:
    return store.list()


@router.get("/{name}", response_model=DatasetDetail, summary="A dataset's size, counts, style metrics and preview")
def get_dataset(name: str, store: DatasetStore = Depends(deps.datasets)) -> dict[str, Any]:
    return store.get(name)


@router.get("/{name}/text", response_class=FileResponse, summary="The dataset's text (UTF-8)",
            responses={200: {"description": "the text", "content": {"text/plain": {"schema": {"type": "string"}}}}})
def dataset_text(name: str, store: DatasetStore = Depends(deps.datasets)) -> FileResponse:
    return FileResponse(store.path(name), media_type="text/plain; charset=utf-8")


@router.post("", response_model=DatasetDetail, status_code=201, summary="Upload a .txt, .md, .jsonl (a text field per line) or .docx",
             responses={409: {"model": ErrorBody}, 413: {"model": ErrorBody}, 415: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def upload_dataset(file: UploadFile = File(...), name: Optional[str] = Form(None), title: Optional[str] = Form(None),
                   store: DatasetStore = Depends(deps.datasets)) -> dict[str, Any]:
    stem, suffix = stem_of_upload(file.filename, UPLOAD_SUFFIXES)
    return store.add_upload(check_name(name, "dataset name") if name else stem, file.filename or "", suffix, file.file, title)


@router.post("/text", response_model=DatasetDetail, status_code=201, summary="Create a dataset from pasted text",
             responses={409: {"model": ErrorBody}, 413: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def create_from_text(body: DatasetFromText, store: DatasetStore = Depends(deps.datasets)) -> dict[str, Any]:
    return store.add_text(body.name, body.text, body.title)


@router.delete("/{name}", status_code=204, response_class=Response, summary="Delete an uploaded dataset (bundled ones cannot be deleted)",
               responses={403: {"model": ErrorBody}})
def delete_dataset(name: str, store: DatasetStore = Depends(deps.datasets)) -> Response:
    store.delete(name)
    return Response(status_code=204)
