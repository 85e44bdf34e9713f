"""Training sessions: create, control, event stream, attention snapshots, export."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from .. import deps
from ..atomic import atomic_file
from ..paths import check_name
from ..schemas import (AttentionIndex, ErrorBody, ExportBody, ExportResult, SessionCreate, SessionDetail, SessionSummary,
                       SpeedBody, StepBody)
from ..services.datasets import DatasetStore, UploadTooLarge
from ..services.models import ModelStore
from ..services.sessions import ManagedSession, SessionManager
from ..settings import Settings
from ..sse import last_event_id, session_events, sse_response

router = APIRouter(prefix="/api/sessions", tags=["sessions"],
                   responses={400: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}})


def detail(session: ManagedSession) -> dict[str, Any]:
    """The summary plus config, the last export's verification and the last error."""
    exported = next((e for e in reversed(session.events) if e["type"] == "exported"), None)
    error = next((e for e in reversed(session.events) if e["type"] == "error"), None)
    return {**session.summary(), "config": session.meta.get("config", {}), "resolved_config": session.meta.get("resolved_config"),
            "auto_export": session.meta.get("auto_export", False), "verification": exported,
            "error": error["message"] if error else None}


def parse_types(types: Optional[str]) -> set[str] | None:
    return {t.strip() for t in types.split(",") if t.strip()} if types else None


def apply_control(session_id: str, sessions: SessionManager, action: Callable[[ManagedSession], Any]) -> dict[str, Any]:
    """Applies one control action to the session and returns its detail as it then stands."""
    session = sessions.get(session_id)
    action(session)
    return detail(session)


def text_writer(body: SessionCreate, datasets: DatasetStore, settings: Settings):
    """How the session's train.txt is made: a link to the dataset, or the given text written atomically."""
    if (body.dataset is None) == (body.text is None):
        raise HTTPException(422, "give exactly one of dataset and text")
    if body.dataset is not None:
        datasets.path(body.dataset)  # 404 now rather than after the folder exists
        return lambda target: datasets.copy_to(body.dataset, target)
    data = body.text.encode("utf-8")
    if not data.strip():
        raise HTTPException(422, "the training text is empty")
    if len(data) > settings.max_upload_bytes:
        raise UploadTooLarge(settings.max_upload_bytes)

    def write(target: Path) -> None:
        with atomic_file(target) as handle:
            handle.write(data)
    return write


def readable_name(dataset: str | None, sessions: SessionManager, models: ModelStore) -> str:
    """A name a person can read and tell apart: the dataset and the local time, e.g. "poetry-14.05" (then "poetry-14.05-2").

    It is free among the sessions and the models, so it also names the session's exported model."""
    base = f"{(dataset or 'text')[:60]}-{time.strftime('%H.%M')}"
    taken = {s.meta.get("name") for s in sessions.sessions.values()}
    n = 1
    while (name := base if n == 1 else f"{base}-{n}") in taken or model_exists(models, name):
        n += 1
    return name


def model_exists(models: ModelStore, name: str) -> bool:
    return (models.root / f"{name}.bullet").exists()


@router.get("", response_model=List[SessionSummary], summary="Every session, newest first")
def list_sessions(sessions: SessionManager = Depends(deps.sessions)) -> list[dict[str, Any]]:
    return sessions.list()


@router.post("", response_model=SessionDetail, status_code=201, summary="Create a session (config validated by the native library)",
             responses={422: {"model": ErrorBody}})
def create_session(body: SessionCreate, sessions: SessionManager = Depends(deps.sessions), datasets: DatasetStore = Depends(deps.datasets),
                   models: ModelStore = Depends(deps.models), settings: Settings = Depends(deps.settings)) -> dict[str, Any]:
    writer = text_writer(body, datasets, settings)
    name = check_name(body.name, "session name") if body.name else readable_name(body.dataset, sessions, models)
    # The session's name also names its model, unless a model has it already (then the server adds the session id).
    model_name = body.model_name or (None if model_exists(models, name) else name)
    session = sessions.create(body.config, writer, dataset=body.dataset, name=name, model_name=model_name,
                              auto_export=body.auto_export, model_card=body.model_card)
    if body.start:
        sessions.start(session)
    return detail(session)


@router.get("/{session_id}", response_model=SessionDetail, summary="A session's state, progress, config and verification")
def get_session(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return detail(sessions.get(session_id))


@router.delete("/{session_id}", status_code=204, response_class=Response, summary="Stop a session and delete its folder (exported models stay)")
def delete_session(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> Response:
    sessions.delete(sessions.get(session_id))
    return Response(status_code=204)


@router.post("/{session_id}/start", response_model=SessionDetail, summary="Start training (queued when the running limit is reached)")
def start(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, sessions.start)


@router.post("/{session_id}/pause", response_model=SessionDetail, summary="Pause after the current step (and save a checkpoint)")
def pause(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, sessions.pause)


@router.post("/{session_id}/resume", response_model=SessionDetail, summary="Resume after a pause")
def resume(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, sessions.start)


@router.post("/{session_id}/stop", response_model=SessionDetail, summary="Stop gracefully; the model stays exportable")
def stop(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, sessions.stop)


@router.post("/{session_id}/step", response_model=SessionDetail, summary="Run N steps, then pause (the session must not be running)")
def step(session_id: str, body: StepBody = StepBody(), sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, lambda session: session.control("step", lambda n: n.step(body.steps)))


@router.post("/{session_id}/speed", response_model=SessionDetail, summary="Limit training speed in steps per second (0 = full speed)")
def speed(session_id: str, body: SpeedBody, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, lambda session: session.control("set speed", lambda n: n.set_speed(body.steps_per_second)))


@router.post("/{session_id}/resume-from-checkpoint", response_model=SessionDetail,
             summary="Continue an interrupted or finished session from its latest checkpoint")
def resume_from_checkpoint(session_id: str, start: bool = Query(True, description="start training at once"),
                           sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, lambda session: sessions.resume_from_checkpoint(session, start=start))


@router.post("/{session_id}/export", response_model=ExportResult, summary="Write and verify the BQ4 .bullet as a model")
def export(session_id: str, body: ExportBody = ExportBody(), sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    session = sessions.get(session_id)
    name = body.model_name or session.meta["model_name"]
    return {"model_name": name, "verification": session.export(name)}


@router.get("/{session_id}/events", summary="Server-Sent Events: id = seq; Last-Event-ID replays; 'end' when no more can come",
            response_description="text/event-stream")
async def events(session_id: str, request: Request, last_event_id_query: Optional[int] = Query(None, alias="last_event_id", ge=0),
                 follow: bool = Query(True, description="keep streaming live events (false: replay and end)"),
                 types: Optional[str] = Query(None, description="comma-separated event types to send, e.g. metrics,sample"),
                 sessions: SessionManager = Depends(deps.sessions), settings: Settings = Depends(deps.settings)):
    session = sessions.get(session_id)
    after = last_event_id(request, last_event_id_query)
    return sse_response(session_events(session, after, follow=follow, types=parse_types(types),
                                       keepalive=settings.keepalive_seconds, ending=lambda: sessions.ending))


@router.get("/{session_id}/log", response_model=List[Dict[str, Any]], summary="Stored events after a seq, as a JSON list")
def event_log(session_id: str, after: int = Query(0, ge=0), types: Optional[str] = Query(None),
              sessions: SessionManager = Depends(deps.sessions)) -> list[dict[str, Any]]:
    return sessions.get(session_id).events_after(after, parse_types(types))


@router.get("/{session_id}/attention", response_model=AttentionIndex, summary="Attention snapshots taken during training (seq and step)")
def attention_index(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    events = sessions.get(session_id).events_after(0, {"attention"})
    return {"snapshots": [{"seq": e["seq"], "step": e.get("step")} for e in events]}


@router.get("/{session_id}/attention/{seq}", response_model=Dict[str, Any],
            summary="One attention snapshot: tokens, layers, heads, maps[layer][head][query][key]")
def attention_snapshot(session_id: str, seq: int, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    session = sessions.get(session_id)
    match = [e for e in session.events_after(max(0, seq - 1), {"attention"}) if e["seq"] == seq]
    if not match:
        raise HTTPException(404, f"session {session_id} has no attention snapshot with seq {seq}")
    return match[0]
