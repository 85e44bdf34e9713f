"""Runs: every session as a row to compare; curves come from GET /api/sessions/{id}/log?types=started,metrics."""
from __future__ import annotations

from typing import Any, List

from fastapi import APIRouter, Depends

from .. import deps
from ..schemas.runs import RunRow
from ..services.runs import run_rows
from ..services.sessions import SessionManager

router = APIRouter(prefix="/api/runs", tags=["runs"])


@router.get("", response_model=List[RunRow], summary="Every session as a run: tokenizer, size, progress, time, speed, best validation, BQ4/float")
def list_runs(sessions: SessionManager = Depends(deps.sessions)) -> list[dict[str, Any]]:
    return run_rows(sessions)
