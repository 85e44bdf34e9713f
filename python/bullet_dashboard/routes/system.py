"""Server status, training presets, config validation and style metrics."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional

from fastapi import APIRouter, Body, Depends, Query

import bullet_native
from bullet_native.text_stats import text_stats
from bullet_native.training import presets

from .. import deps
from ..schemas.common import ErrorBody, TextBody, TrainConfig
from ..schemas.system import ConfigValidation, Status, StyleMetrics
from ..services.datasets import DatasetStore
from ..services.sessions import SessionManager
from ..settings import Settings
from ..static import ui_built

router = APIRouter(prefix="/api", tags=["system"])
SERVER_VERSION = "0.1.0"


@router.get("/status", response_model=Status, summary="Server and native library status")
def status(settings: Settings = Depends(deps.settings), sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return {
        "server": SERVER_VERSION,
        "native": bullet_native.version(),
        "cores": os.cpu_count() or 1,
        "max_running_sessions": settings.max_running_sessions,
        "running_sessions": sessions.running_count(),
        "queued_sessions": sessions.queued_count(),
        "memory_budget_bytes": sessions.budget(),
        "max_upload_bytes": settings.max_upload_bytes,
        "open_dataset": settings.open_dataset,
        "ui_built": ui_built(),
    }


@router.get("/presets", response_model=Dict[str, TrainConfig], summary="Every training preset's full config")
def list_presets() -> dict[str, Any]:
    return presets()


@router.post("/config/validate", response_model=ConfigValidation, responses={404: {"model": ErrorBody}},
             summary="Validate a training config without creating a session: every failing field, its memory estimate and the budget")
def validate(config: TrainConfig = Body(..., example={"preset": "tiny", "hidden_size": 100}),
             dataset: Optional[str] = Query(None, description="the dataset it will train on (its size enters the estimate)"),
             sessions: SessionManager = Depends(deps.sessions), datasets: DatasetStore = Depends(deps.datasets)) -> dict[str, Any]:
    return sessions.validate(config, datasets.path(dataset).stat().st_size if dataset else 0)


@router.post("/style/metrics", response_model=StyleMetrics, responses={422: {"model": ErrorBody}}, summary="Style metrics of a text (computed natively)")
def style_metrics(body: TextBody) -> dict[str, Any]:
    return text_stats(body.text, preview_chars=0)
