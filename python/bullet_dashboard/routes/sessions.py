"""Training sessions: create, control, event stream, attention snapshots, checkpoints, export."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from .. import deps
from ..atomic import atomic_file
from ..schemas.attention import AttentionSnapshot
from ..schemas.common import ErrorBody
from ..schemas.sessions import (AttentionIndex, AttentionProbe, CheckpointFolder, ExportBody, ExportResult, SessionCreate,
                                SessionDetail, SessionRename, SessionSummary, SpeedBody, StepBody)
from ..services.datasets import DatasetStore, upload_too_large
from ..services.errors import Invalid, NotFound
from ..services.sessions import ManagedSession, SessionManager
from ..settings import Settings
from ..sse import EventStream, event_stream_doc, last_event_id, session_events, sse_response

router = APIRouter(prefix="/api/sessions", tags=["sessions"],
                   responses={400: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 503: {"model": ErrorBody}})


def parse_types(types: Optional[str]) -> set[str] | None:
    return {t.strip() for t in types.split(",") if t.strip()} if types else None


def apply_control(session_id: str, sessions: SessionManager, action: Callable[[ManagedSession], Any]) -> dict[str, Any]:
    """Applies one control action to the session and returns its detail as it then stands."""
    session = sessions.get(session_id)
    action(session)
    return session.detail()


def text_writer(body: SessionCreate, datasets: DatasetStore, settings: Settings):
    """How the session's train.txt is made: a link to the dataset, or the given text written atomically."""
    if (body.dataset is None) == (body.text is None):
        raise Invalid("give exactly one of dataset and text")
    if body.dataset is not None:
        datasets.path(body.dataset)  # 404 now rather than after the folder exists
        return lambda target: datasets.copy_to(body.dataset, target)
    data = body.text.encode("utf-8")
    if not data.strip():
        raise Invalid("the training text is empty")
    if len(data) > settings.max_upload_bytes:
        raise upload_too_large(settings.max_upload_bytes)

    def write(target: Path) -> None:
        with atomic_file(target) as handle:
            handle.write(data)
    return write


@router.get("", response_model=List[SessionSummary], summary="Every session, newest first")
def list_sessions(sessions: SessionManager = Depends(deps.sessions)) -> list[dict[str, Any]]:
    return sessions.list()


@router.post("", response_model=SessionDetail, status_code=201,
             summary="Create a session (config validated by the native library, memory checked against the budget)",
             responses={413: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def create_session(body: SessionCreate, sessions: SessionManager = Depends(deps.sessions),
                   datasets: DatasetStore = Depends(deps.datasets), settings: Settings = Depends(deps.settings)) -> dict[str, Any]:
    writer = text_writer(body, datasets, settings)
    session = sessions.create(body.config, writer, dataset=body.dataset, name=body.name, model_name=body.model_name,
                              auto_export=body.auto_export, model_card=body.model_card, start=body.start)
    return session.detail()


@router.get("/{session_id}", response_model=SessionDetail, summary="A session's state, progress, config, checkpoints and verification")
def get_session(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return sessions.get(session_id).detail()


@router.patch("/{session_id}", response_model=SessionDetail, summary="Rename a session")
def rename_session(session_id: str, body: SessionRename, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, lambda session: sessions.rename(session, body.name))


@router.delete("/{session_id}", status_code=204, response_class=Response, summary="End a session and delete its folder (exported models stay)")
def delete_session(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> Response:
    sessions.delete(sessions.get(session_id))
    return Response(status_code=204)


@router.post("/{session_id}/start", response_model=SessionDetail, summary="Start training (queued when every running slot is taken)")
def start(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, sessions.start)


@router.post("/{session_id}/pause", response_model=SessionDetail,
             summary="Pause after the current step and save a checkpoint (the session keeps its running slot)")
def pause(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, sessions.pause)


@router.post("/{session_id}/resume", response_model=SessionDetail, summary="Resume after a pause")
def resume(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, sessions.start)


@router.post("/{session_id}/stop", response_model=SessionDetail, summary="Stop gracefully; the model stays exportable")
def stop(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, sessions.stop)


@router.post("/{session_id}/release", response_model=SessionDetail,
             summary="Free the session's running slot and memory: pause, checkpoint and end its worker (resume from the checkpoint later)")
def release(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, sessions.release)


@router.post("/{session_id}/step", response_model=SessionDetail, summary="Run N steps, then pause (the session must not be running)")
def step(session_id: str, body: StepBody = StepBody(), sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, lambda session: sessions.step(session, body.steps))


@router.post("/{session_id}/speed", response_model=SessionDetail, summary="Limit training speed in steps per second (0 = full speed)")
def speed(session_id: str, body: SpeedBody, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, lambda session: sessions.set_speed(session, body.steps_per_second))


@router.post("/{session_id}/resume-from-checkpoint", response_model=SessionDetail,
             summary="Continue an interrupted, failed or finished session from its latest (or a named) checkpoint in a new worker")
def resume_from_checkpoint(session_id: str, start: bool = Query(True, description="start training at once"),
                           checkpoint: Optional[str] = Query(None, description='a checkpoint folder name, e.g. "best" (default: the latest)'),
                           sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    return apply_control(session_id, sessions, lambda session: sessions.resume_from_checkpoint(session, start=start, checkpoint=checkpoint))


@router.post("/{session_id}/export", response_model=ExportResult,
             summary="Write and verify the BQ4 .bullet as a model (a finished session: its best checkpoint unless another is named)")
def export(session_id: str, body: ExportBody = ExportBody(), sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    session = sessions.get(session_id)
    name = body.model_name or session.meta["model_name"]
    return {"model_name": name, "verification": sessions.export(session, name, body.checkpoint)}


@router.get("/{session_id}/events", summary="Server-Sent Events: id = seq; Last-Event-ID replays; 'end' when no more can come",
            response_class=EventStream, responses=event_stream_doc(
                "the session's events (id = seq, data the event), then an 'end' message {last_seq, state} once no more can come",
                "a training event"))
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
    return sessions.get(session_id).events.after(after, parse_types(types))


@router.get("/{session_id}/checkpoints", response_model=List[CheckpointFolder],
            summary="The session's checkpoints that still exist: step, folder name, whether it is the best, its validation loss")
def checkpoints(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> list[dict[str, Any]]:
    return [{**c, "name": Path(c["path"]).name} for c in sessions.get(session_id).record.checkpoints()]


@router.get("/{session_id}/attention", response_model=AttentionIndex, summary="Attention snapshots taken during training (seq and step)")
def attention_index(session_id: str, sessions: SessionManager = Depends(deps.sessions)) -> dict[str, Any]:
    events = sessions.get(session_id).events.after(0, {"attention"})
    return {"snapshots": [{"seq": e["seq"], "step": e.get("step")} for e in events]}


@router.post("/{session_id}/attention", response_model=AttentionSnapshot,
             summary="An attention snapshot now, with the live session's current weights (tokens, layers, heads, maps)")
def attention_now(session_id: str, body: AttentionProbe = AttentionProbe(), sessions: SessionManager = Depends(deps.sessions)) -> JSONResponse:
    return JSONResponse(AttentionSnapshot.complete(sessions.attention(sessions.get(session_id), body.text)))


@router.get("/{session_id}/attention/{seq}", response_model=AttentionSnapshot,
            summary="One attention snapshot: tokens, layers, heads, maps[layer][head][query][key]")
def attention_snapshot(session_id: str, seq: int, sessions: SessionManager = Depends(deps.sessions)) -> JSONResponse:
    session = sessions.get(session_id)
    match = [e for e in session.events.after(max(0, seq - 1), {"attention"}, limit=1) if e["seq"] == seq]
    if not match:
        raise NotFound(f"session {session_id} has no attention snapshot with seq {seq}")
    return JSONResponse(AttentionSnapshot.complete(match[0]))
