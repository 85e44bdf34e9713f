"""Training sessions as the dashboard keeps them: a folder each (metadata, text, event log, checkpoints, worker log),
a worker process while one trains, and a manager that creates, schedules, controls and recovers them.

Each running session trains in its own worker process (``python -m bullet_native worker``): a crash, an out-of-memory
kill or a runaway config ends that worker and its session alone. The native session writes the event log itself; the
server only follows it. At most ``max_running`` sessions hold a running slot (a paused one keeps its slot), the others
wait in a queue; the cores are shared out among the running ones; a session whose memory estimate exceeds the
budget is refused before it starts.
"""
from __future__ import annotations

import itertools
import logging
import re
import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from bullet_native import BulletError
from bullet_native.config_check import validate_config
from bullet_native.event_file import EventFile
from bullet_native.session_states import FINISHED_STATES
from bullet_native.worker_client import WorkerExit, WorkerProcess

from ..atomic import read_json, write_json
from ..paths import check_name, inside
from ..settings import Settings
from .errors import Conflict, Invalid, NotFound
from .planning import LiveWorker, memory_budget, over_budget_message, thread_plan, worker_memory_limit
from .session_record import SessionRecord
from .session_worker import CONTROL_TIMEOUT, LONG_TIMEOUT, SessionWorker
from .subscribers import Subscribers

log = logging.getLogger("bullet_dashboard.sessions")

# A session name shown in lists: anything printable up to this length.
MAX_NAME = 80


def display_name(name: str) -> str:
    """A session's name as given, with control characters removed; an empty or too long one is refused."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    if not cleaned or len(cleaned) > MAX_NAME:
        raise Invalid(f"a session name must have 1-{MAX_NAME} characters")
    return cleaned


class ManagedSession:
    """One session: its folder and metadata, its event log and the record folded from it, and its worker while it lives."""

    def __init__(self, folder: Path, meta: dict[str, Any], on_event: Callable[["ManagedSession", dict[str, Any]], None]):
        self.folder = folder
        self.meta = meta
        self.id: str = meta["id"]
        self.record = SessionRecord()
        self.subscribers = Subscribers()
        self.worker: SessionWorker | None = None
        self.queued = False
        self.awaiting_worker = False   # asked to start when every slot was taken: its worker starts with its turn
        self.active = False       # holds a running slot (started and not finished; a pause keeps it)
        self.finishing = False    # finished, and its automatic export is still to come
        self.autosaved = 0.0      # when the server last asked for a safety checkpoint
        self.waiting: dict[str, Any] | None = None   # while queued: its position and why it waits
        self.lock = threading.RLock()   # one control at a time, and never two processes writing the event log
        self._on_event = on_event
        self.events = EventFile(folder / "events.jsonl", on_event=self._observe)

    def _observe(self, event: dict[str, Any]) -> None:
        self.record.observe(event)
        self._on_event(self, event)

    def refresh(self) -> None:
        """Reads the events appended since the last call and wakes the event streams when there are any."""
        if self.events.refresh():
            self.subscribers.notify()

    @property
    def live(self) -> SessionWorker | None:
        """The worker, while its process runs."""
        worker = self.worker
        return worker if worker is not None and worker.alive else None

    @property
    def streaming(self) -> bool:
        """True while events can still arrive (a worker runs, or the automatic export is still to be written)."""
        return self.live is not None or self.finishing

    @property
    def state(self) -> str:
        """One of bullet_native.SESSION_STATES: queued, the live worker's state, or the stored state once none runs."""
        if self.queued:
            return "queued"
        if self.awaiting_worker:
            return "ready"
        live = self.live
        if live is not None:
            return self.record.state if self.record.last_seq >= live.first_seq and self.record.state else "preparing"
        stored = self.meta.get("state")
        return stored if stored in FINISHED_STATES else "interrupted"

    def save_meta(self) -> None:
        """Writes session.json atomically."""
        write_json(self.folder / "session.json", self.meta)

    def require_live(self, action: str) -> SessionWorker:
        """The live worker; Conflict when the session has none (it finished, failed or was interrupted)."""
        if self.awaiting_worker:
            raise Conflict(f"cannot {action}: the session has not started yet (it waits for a running slot when started)")
        live = self.live
        if live is None:
            hint = "resume it from its checkpoint first" if self.record.latest_checkpoint() else "start a new run from its settings"
            raise Conflict(f"cannot {action}: the session is {self.state}; {hint}")
        return live

    def summary(self) -> dict[str, Any]:
        """What a list shows: identity, state, progress, last metrics, the worker and its memory."""
        record, live = self.record, self.live
        estimate = self.meta.get("estimate") or {}
        return {
            "id": self.id,
            "name": self.meta.get("name"),
            "dataset": self.meta.get("dataset"),
            "created": self.meta.get("created"),
            "state": self.state,
            "step": record.step,
            "total_steps": record.total_steps,
            "speed": self.meta.get("speed", 0),
            "last_seq": record.last_seq,
            "metrics": record.metrics,
            "best_val_loss": record.best_val_loss,
            "best_step": record.best_step,
            "model_name": self.meta.get("model_name"),
            "exports": self.meta.get("exports", []),
            "can_resume_from_checkpoint": live is None and record.latest_checkpoint() is not None,
            "pid": live.pid if live is not None else None,
            "threads": (record.compute or {}).get("threads") if live is not None else None,
            "memory": {
                "estimate_bytes": estimate.get("peak_bytes"),
                "estimate": estimate.get("summary"),
                "limit_bytes": live.memory_limit if live is not None else None,
                "rss_bytes": live.process.rss if live is not None else None,
                "peak_rss_bytes": live.process.peak_rss if live is not None else None,
            },
            "waiting": self.waiting if self.queued else None,
        }

    def detail(self) -> dict[str, Any]:
        """The summary plus config, the last export's verification, the checkpoints and the last error."""
        return {**self.summary(), "config": self.meta.get("config", {}), "resolved_config": self.meta.get("resolved_config"),
                "auto_export": self.meta.get("auto_export", False), "verification": self.record.verification,
                "error": self.record.error, "checkpoints": self.record.checkpoints()}


class SessionManager:
    """Creates, finds, schedules, controls and closes sessions (see the module's description)."""

    def __init__(self, root: Path, models_dir: Path, settings: Settings):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.models_dir = models_dir
        self.settings = settings
        self.sessions: dict[str, ManagedSession] = {}
        self._queue: list[str] = []
        self._lock = threading.RLock()
        self._threads_sent: dict[str, int] = {}
        self._background = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sessions")
        self._closed = threading.Event()
        self.ending = False
        self._load()
        threading.Thread(target=self._housekeeping, name="sessions-housekeeping", daemon=True).start()

    # --- finding ----------------------------------------------------------------------------------------------------
    def _load(self) -> None:
        """Finds every session folder again; one that was not finished is interrupted (no worker holds it now)."""
        for meta_path in sorted(self.root.glob("*/session.json")):
            meta = read_json(meta_path)
            if not isinstance(meta, dict) or meta.get("id") != meta_path.parent.name:
                log.warning("skipping %s: unreadable session metadata", meta_path)
                continue
            if meta.get("state") not in FINISHED_STATES:
                meta["state"] = "interrupted"
            try:
                self.sessions[meta["id"]] = ManagedSession(meta_path.parent, meta, self._observed)
            except (OSError, ValueError) as e:
                log.warning("skipping %s: unreadable event log: %s", meta_path.parent, e)

    def get(self, session_id: str) -> ManagedSession:
        """The session with this id; 400 for a malformed id, 404 for an unknown one."""
        check_name(session_id, "session id")
        session = self.sessions.get(session_id)
        if session is None:
            raise NotFound(f"no session {session_id!r}")
        return session

    def _all(self) -> list[ManagedSession]:
        """Every session, as a list: request threads read while others add and remove sessions."""
        return list(self.sessions.values())

    def _unused_name(self, base: str) -> str:
        """``base``, or ``base (2)``, ``base (3)``, … when another session already has that name (lists and the queue
        banner name sessions, so two started in the same minute must read apart)."""
        taken = {s.meta.get("name") for s in self._all()}
        return next(c for c in (base if n == 1 else f"{base} ({n})" for n in itertools.count(1)) if c not in taken)

    def list(self) -> list[dict[str, Any]]:
        """Every session's summary, newest first."""
        return [s.summary() for s in sorted(self._all(), key=lambda s: s.meta.get("created", ""), reverse=True)]

    def latest(self) -> ManagedSession:
        """The newest session (what the legacy routes act on)."""
        if not self.sessions:
            raise NotFound("there is no session yet")
        return max(self._all(), key=lambda s: (s.meta.get("created", ""), s.id))

    def running_count(self) -> int:
        """Sessions holding a running slot."""
        return sum(1 for s in self._all() if s.active)

    def queued_count(self) -> int:
        """Sessions waiting for a running slot."""
        return len(self._queue)

    # --- creating ---------------------------------------------------------------------------------------------------
    def _live_workers(self, excluding: ManagedSession | None = None) -> list[LiveWorker]:
        return [LiveWorker(int((s.meta.get("estimate") or {}).get("peak_bytes") or 0), s.live.process.rss)
                for s in self._all() if s.live is not None and s is not excluding]

    def budget(self, excluding: ManagedSession | None = None) -> int:
        """Bytes a new session may use now (see planning.memory_budget)."""
        return memory_budget(self._live_workers(excluding), self.settings.memory_budget_bytes)

    def validate(self, config: dict[str, Any], text_bytes: int = 0) -> dict[str, Any]:
        """The native verdict on a config (every failing field, the resolved config, the memory estimate) and whether
        the estimate fits the memory budget now."""
        verdict = validate_config(config, text_bytes)
        budget = self.budget()
        verdict["estimate"] = {**verdict["estimate"], "budget_bytes": budget, "fits": verdict["estimate"]["peak_bytes"] <= budget}
        return verdict

    def create(self, config: dict[str, Any], write_text: Callable[[Path], None], *, dataset: str | None, name: str | None,
               model_name: str | None, auto_export: bool, model_card: str = "", start: bool = False) -> ManagedSession:
        """Validates the config natively, makes the folder, places the text (``write_text`` writes it), checks the memory
        estimate against the budget and starts the session's worker (training at once with ``start``, or queued)."""
        verdict = validate_config(config)
        if not verdict["valid"]:
            raise Invalid("; ".join(e["message"] for e in verdict["errors"]), errors=verdict["errors"])
        now = time.localtime()
        session_id = f"{time.strftime('%Y%m%d-%H%M%S', now)}-{secrets.token_hex(3)}"
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", dataset or name or "model").strip("._-")[:40] or "model"
        name = display_name(name) if name else self._unused_name(f"{dataset or 'text'} {time.strftime('%b %d %H:%M', now)}")
        model_name = check_name(model_name or f"{stem}-{time.strftime('%m%d-%H%M%S', now)}", "model name")
        folder = inside(self.root, session_id)
        folder.mkdir()
        try:
            text_file = folder / "train.txt"
            write_text(text_file)
            verdict = validate_config(config, text_file.stat().st_size)
            estimate, budget = verdict["estimate"], self.budget()
            if estimate["peak_bytes"] > budget:
                message = over_budget_message(estimate["peak_bytes"], budget, estimate["summary"])
                raise Invalid(message, errors=[{"field": None, "message": message}])
            meta = {"id": session_id, "name": name, "dataset": dataset, "config": config, "resolved_config": verdict["config"],
                    "estimate": estimate, "model_name": model_name, "auto_export": auto_export, "model_card": model_card,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "state": "ready"}
            session = ManagedSession(folder, meta, self._observed)
            session.save_meta()
            # A session that will wait in the queue gets its worker (and its memory) when its turn comes.
            with self._lock:
                session.awaiting_worker = start and self.running_count() >= self.settings.max_running_sessions
            if not session.awaiting_worker:
                self._spawn(session, resume_from=None)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self._lock:
            self.sessions[session_id] = session
        if start:
            self.start(session)
        return session

    def _pinned_threads(self, session: ManagedSession) -> int | None:
        """The thread count the user's config pins (None: the server plans it)."""
        pinned = (session.meta.get("config") or {}).get("threads")
        return pinned if isinstance(pinned, int) and not isinstance(pinned, bool) else None

    def _spawn(self, session: ManagedSession, resume_from: Path | None) -> None:
        """Starts a worker holding the session (continuing from ``resume_from``); its events continue the log."""
        config = dict(session.meta.get("config") or {})
        if self._pinned_threads(session) is None:
            running = 1 + sum(1 for s in self._all() if s.active and s is not session)
            config["threads"] = max(1, self.settings.cores // running)
        options = {"text_path": str(session.folder / "train.txt"), "output_dir": str(session.folder)}
        if resume_from is not None:
            options["resume_from"] = str(resume_from)
        estimate = int((session.meta.get("estimate") or {}).get("peak_bytes") or 0)
        worker = SessionWorker(session, memory_limit=worker_memory_limit(estimate, self.settings.worker_memory_limit_bytes),
                               heartbeat_timeout=self.settings.worker_heartbeat_timeout, on_exit=self._worker_ended)
        # Named before it opens: an event it writes at once (a session failing at step 0) is then read as its own.
        previous, session.worker = session.worker, worker
        try:
            worker.open(options=options, config=config)
        except BaseException:
            session.worker = previous
            raise

    # --- scheduling -------------------------------------------------------------------------------------------------
    def start(self, session: ManagedSession) -> str:
        """Starts or resumes training now, or queues the session when every running slot is taken; returns the state."""
        with session.lock:
            if not session.awaiting_worker:
                session.require_live("start")
            with self._lock:
                if session.queued:
                    return session.state
                if not session.active and self.running_count() >= self.settings.max_running_sessions:
                    session.queued = True
                    self._queue.append(session.id)
                    self._explain_waiting()
                    return "queued"
                session.active = True
            spawned = session.awaiting_worker
            try:
                if spawned:
                    self._first_worker(session)
                session.require_live("start").call("start")
            except BaseException:
                session.active = False
                if spawned and session.worker is not None:
                    session.worker.close()   # a worker that cannot train holds no memory for nothing
                raise
        self._replan()
        session.refresh()
        return session.state

    def _first_worker(self, session: ManagedSession) -> None:
        """Starts the worker of a session that waited for its slot, at the speed set meanwhile; a worker that cannot
        start fails the session."""
        session.awaiting_worker = False
        try:
            self._spawn(session, resume_from=None)
        except BulletError as e:
            session.meta["state"] = "failed"
            session.save_meta()
            self._record_error(session, f"its worker could not start: {e}", "failed")
            raise
        if session.meta.get("speed"):
            session.require_live("set speed").call("speed", steps_per_second=session.meta["speed"])

    def _explain_waiting(self) -> None:
        """Tells each queued session why it waits and for whom (shown in its summary)."""
        holders = [f"{s.meta.get('name')} ({s.state})" for s in self._all() if s.active]
        for position, session_id in enumerate(self._queue, 1):
            session = self.sessions.get(session_id)
            if session is not None:
                session.waiting = {"position": position, "reason": (
                    f"all {self.settings.max_running_sessions} running slots are taken by {', '.join(holders)}; "
                    "a paused session keeps its slot until it is stopped or released")}

    def _dequeue(self, session: ManagedSession) -> bool:
        """Takes the session out of the queue (call holding the lock); False when it was not queued."""
        if not session.queued:
            return False
        session.queued = False
        self._queue.remove(session.id)
        session.waiting = None
        self._explain_waiting()
        return True

    def _schedule(self) -> None:
        """Starts queued sessions while there are free slots."""
        while True:
            with self._lock:
                if not self._queue or self.running_count() >= self.settings.max_running_sessions:
                    return
                session = self.sessions.get(self._queue[0])
                if session is not None:
                    self._dequeue(session)
                else:
                    self._queue.pop(0)
                    continue
            try:
                self.start(session)
            except Exception as e:  # noqa: BLE001 - one session's failure to start must not stop the queue
                log.warning("session %s could not start from the queue: %s", session.id, e)

    def _replan(self) -> None:
        """Shares the cores out among the running sessions; changed thread counts reach the workers in the background."""
        with self._lock:
            running = {s.id: self._pinned_threads(s) for s in self._all()
                       if s.live is not None and s.active and s.state in ("running", "preparing")}
            plan = thread_plan(running, self.settings.cores)
            changes = {sid: n for sid, n in plan.items() if self._threads_sent.get(sid) != n}
            self._threads_sent.update(changes)
        for sid, threads in changes.items():
            session = self.sessions.get(sid)
            live = session.live if session is not None else None
            if live is not None and self._pinned_threads(session) is None:
                self._submit(self._quietly, live.call, "threads", threads=threads)

    def _submit(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Runs ``call`` on the background pool (nothing once the manager has shut down)."""
        if not self._closed.is_set():
            self._background.submit(call, *args, **kwargs)

    @staticmethod
    def _quietly(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            call(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - background work; the session's own events say what went wrong
            log.info("background call failed: %s", e)

    # --- controls ---------------------------------------------------------------------------------------------------
    def pause(self, session: ManagedSession) -> str:
        """Pauses after the current step and saves a checkpoint; the session keeps its running slot. A queued session
        leaves the queue."""
        with session.lock:
            with self._lock:
                if self._dequeue(session):
                    return session.state
            live = session.require_live("pause")
            live.call("pause")
            try:
                live.call("checkpoint", timeout=LONG_TIMEOUT)
            except BulletError as e:
                log.info("session %s: no checkpoint on pause: %s", session.id, e)
        self._replan()
        session.refresh()
        return session.state

    def stop(self, session: ManagedSession) -> str:
        """Ends training after the current step (a queued session leaves the queue and stops at once)."""
        with session.lock:
            with self._lock:
                self._dequeue(session)
            if session.awaiting_worker:
                session.awaiting_worker = False
                session.meta["state"] = "stopped"
                session.save_meta()
                session.subscribers.notify()
                return session.state
            session.require_live("stop").call("stop")
        session.refresh()
        return session.state

    def release(self, session: ManagedSession) -> str:
        """Frees the session's slot and memory: it is paused, checkpointed and its worker ends; it resumes from the checkpoint."""
        with session.lock:
            with self._lock:
                self._dequeue(session)
            live = session.require_live("release")
            session.meta["state"] = "interrupted"
            session.save_meta()
            live.close(checkpoint=True)
            session.active = False
        self._replan()
        self._schedule()
        return session.state

    def step(self, session: ManagedSession, steps: int) -> str:
        """Runs ``steps`` steps, then waits (the session must not be running)."""
        with session.lock:
            session.require_live("step").call("step", steps=steps)
        return session.state

    def set_speed(self, session: ManagedSession, steps_per_second: float) -> str:
        """Limits training to ``steps_per_second`` (0: full speed)."""
        with session.lock:
            if not session.awaiting_worker:   # one that waits gets it with its worker
                session.require_live("set speed").call("speed", steps_per_second=steps_per_second)
            session.meta["speed"] = steps_per_second
            session.save_meta()
        return session.state

    def attention(self, session: ManagedSession, probe: str | None) -> dict[str, Any]:
        """Every layer's and head's attention on ``probe`` with the session's current weights."""
        return session.require_live("take an attention snapshot").call("attention", timeout=LONG_TIMEOUT, probe=probe)

    def rename(self, session: ManagedSession, name: str) -> None:
        """Gives the session a new display name."""
        with session.lock:
            session.meta["name"] = display_name(name)
            session.save_meta()

    def resume_from_checkpoint(self, session: ManagedSession, start: bool = True, checkpoint: str | None = None) -> str:
        """A new worker from the latest checkpoint (or the named one); the event log continues its numbering."""
        with session.lock:
            if session.live is not None:
                if session.state not in FINISHED_STATES:
                    raise Conflict(f"the session is {session.state}; pause or stop it before resuming from a checkpoint")
                session.worker.close()
            folder = self._checkpoint_folder(session, checkpoint)
            if folder is None:
                raise Conflict("the session has no checkpoint to resume from")
            try:
                self._spawn(session, resume_from=folder)
            except BulletError as e:
                raise Invalid(f"cannot resume from {folder.name}: {e}") from None
            session.meta["state"] = "ready"
            session.save_meta()
        return self.start(session) if start else session.state

    def _checkpoint_folder(self, session: ManagedSession, name: str | None) -> Path | None:
        """A checkpoint of the session by folder name ("best", "step-0000200"), or the latest when no name is given."""
        if name is None:
            return session.record.latest_checkpoint()
        check_name(name, "checkpoint")
        folder = inside(session.folder, "checkpoints", name)
        if not folder.is_dir():
            raise NotFound(f"session {session.id} has no checkpoint {name!r}")
        return folder

    # --- exporting --------------------------------------------------------------------------------------------------
    def export(self, session: ManagedSession, model_name: str, checkpoint: str | None = None) -> dict[str, Any]:
        """Writes and verifies the .bullet into the models folder. A live session exports its current weights; a finished
        one exports a checkpoint — the named one, else the best by validation loss, else its last weights."""
        target = inside(self.models_dir, f"{check_name(model_name, 'model name')}.bullet")
        options = {"path": str(target), "model_name": model_name, "model_card": session.meta.get("model_card", "")}
        with session.lock:
            live = session.live
            if live is not None and checkpoint is None:
                result = live.call("export", timeout=LONG_TIMEOUT, options=options)
                session.refresh()
            else:
                if live is not None:
                    raise Conflict("export a checkpoint once the session has finished or been released; "
                                   "while it lives, export exports its current weights")
                folder = self._checkpoint_folder(session, checkpoint) if checkpoint else self._export_checkpoint(session)
                result = self._export_from(session, folder, options)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        write_json(self.models_dir / f"{model_name}.json",
                   {"session_id": session.id, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        session.meta.setdefault("exports", []).append({"model": model_name, "step": result.get("step"),
                                                       "checkpoint": result.get("checkpoint")})
        session.save_meta()
        return result

    @staticmethod
    def _export_checkpoint(session: ManagedSession) -> Path:
        best = session.record.best_checkpoint()
        folder = Path(best["path"]) if best is not None else session.record.latest_checkpoint()
        if folder is None:
            raise Conflict("the session has no checkpoint to export")
        return folder

    def _export_from(self, session: ManagedSession, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
        """Exports a checkpoint in a short-lived worker (its own events are not kept); the session's log gets "exported"."""
        process = WorkerProcess(log_path=session.folder / "worker.log", heartbeat_timeout=self.settings.worker_heartbeat_timeout)
        try:
            process.call("open", timeout=CONTROL_TIMEOUT, config={},
                         options={"text_path": str(session.folder / "train.txt"), "resume_from": str(folder)})
            result = process.call("export", timeout=LONG_TIMEOUT, options=options)
        finally:
            process.close()
        result["checkpoint"] = folder.name
        session.events.append("exported", {**result, "state": session.state})
        session.subscribers.notify()
        return result

    # --- following --------------------------------------------------------------------------------------------------
    def _observed(self, session: ManagedSession, event: dict[str, Any]) -> None:
        """Runs for every event read from a session's log (replayed ones at load included)."""
        live = session.live
        if live is None or event["seq"] < live.first_seq:
            return
        if event["type"] in ("running", "resumed", "paused", "started"):
            self._submit(self._replan)
        if event["type"] in ("completed", "error") and event.get("state") in FINISHED_STATES:
            session.finishing = True
            self._submit(self._after_finish, session, live)

    def _after_finish(self, session: ManagedSession, worker: SessionWorker) -> None:
        """A session finished: its worker ends (returning its memory), the slot goes to the next in the queue, and a
        session asked to export automatically exports its best checkpoint (or its last weights)."""
        try:
            with session.lock:
                session.meta["state"] = session.record.state
                session.meta["finished_step"] = session.record.step
                session.save_meta()
                if session.worker is worker:
                    worker.close()
                session.active = False
            self._replan()
            self._schedule()
            if session.meta.get("auto_export") and session.record.state != "failed" and session.record.step > 0:
                try:
                    self.export(session, session.meta["model_name"])
                except Exception as e:  # noqa: BLE001 - the reason goes into the session's log
                    self._record_error(session, f"automatic export failed: {getattr(e, 'message', e)}", session.record.state)
        finally:
            session.finishing = False
            session.subscribers.notify()

    def _worker_ended(self, worker: SessionWorker, end: WorkerExit) -> None:
        """A worker ended. Asked to or not, its slot is free; an abnormal end fails an unfinished session with the reason."""
        session = worker.session
        # The session's lock orders this after a control that was waiting on the worker (it has failed by now).
        with session.lock:
            if session.worker is not worker:
                return
            record = session.record
            finished = record.state in FINISHED_STATES and record.last_seq >= worker.first_seq
            if finished:
                session.meta["state"] = record.state
            elif end.abnormal:
                self._record_error(session, end.message, "failed")
                session.meta["state"] = "failed"
            elif session.meta.get("state") not in FINISHED_STATES:
                session.meta["state"] = "interrupted"
            session.save_meta()
            session.active = False
        self._submit(self._replan)
        self._submit(self._schedule)
        session.subscribers.notify()

    def _record_error(self, session: ManagedSession, message: str, state: str | None) -> None:
        """An error event written by the server (only while no worker writes the log); ``state`` is the session's after it."""
        session.events.append("error", {"state": state, "step": session.record.step, "message": message})
        session.subscribers.notify()

    def _housekeeping(self) -> None:
        """Checkpoints running sessions at least every autosave interval, so a crash loses little."""
        while not self._closed.wait(1.0):
            now = time.time()
            for session in self._all():
                live = session.live
                if live is None or session.record.state != "running":
                    continue
                last = max(session.record.last_checkpoint_time, live.started_at, session.autosaved)
                if now - last >= self.settings.autosave_seconds:
                    session.autosaved = now
                    self._submit(self._quietly, live.call, "checkpoint", timeout=LONG_TIMEOUT)

    # --- ending -----------------------------------------------------------------------------------------------------
    def delete(self, session: ManagedSession) -> None:
        """Ends the session's worker and removes its folder (exported models stay)."""
        with session.lock:
            with self._lock:
                self._dequeue(session)
                self.sessions.pop(session.id, None)
            if session.worker is not None:
                session.worker.close()
                # Its exit is then not recorded: the folder it would be recorded in is going.
                session.worker = None
            session.active = False
        shutil.rmtree(session.folder, ignore_errors=True)
        self._replan()
        self._schedule()

    def end_streams(self) -> None:
        """Tells every event stream to end (the server is going down)."""
        self.ending = True
        for session in self._all():
            session.subscribers.notify()

    def shutdown(self) -> None:
        """Every worker pauses, checkpoints and ends (in parallel, a few seconds at most); unfinished sessions come back
        as interrupted."""
        self._closed.set()
        with self._lock:
            self._queue.clear()
            for session in self._all():
                session.queued = False
        live = [s for s in self._all() if s.live is not None]
        for session in live:
            if session.state not in FINISHED_STATES:
                session.meta["state"] = "interrupted"
                session.save_meta()
        with ThreadPoolExecutor(max_workers=max(1, len(live))) as pool:
            list(pool.map(lambda s: s.worker.close(checkpoint=True), live))
        self._background.shutdown(wait=False, cancel_futures=True)
