"""Training sessions: each owns a native TrainingSession, a thread that pumps its events into a JSON-lines log and to
live subscribers, and a folder (config, events, checkpoints, text) from which a restarted server finds it again."""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable

from fastapi import HTTPException

from bullet_native import BulletError
from bullet_native.config_check import validate_config
from bullet_native.training import TrainingSession

from ..atomic import read_json, write_json
from ..paths import check_name, inside

log = logging.getLogger("bullet_dashboard.sessions")

FINISHED = ("completed", "stopped", "early_stopped", "failed")
POLL_WAIT_MS = 250


def config_errors_response(errors: list[dict[str, Any]]) -> HTTPException:
    """A 422 whose detail is the first message, with every field's error alongside (the UI shows them by the fields)."""
    exc = HTTPException(422, errors[0]["message"] if errors else "invalid config")
    exc.errors = errors  # type: ignore[attr-defined]
    return exc


class Subscribers:
    """Async waiters in any event loop, woken from the pump thread."""

    def __init__(self) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()

    def add(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        """A new waiter bound to the running loop."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(waiter)
        return waiter

    def remove(self, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        """Forgets a waiter (its client went away)."""
        with self._lock:
            self._waiters.discard(waiter)

    def notify(self) -> None:
        """Wakes every waiter; a closed loop is skipped."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                self.remove((loop, event))

    def __len__(self) -> int:
        return len(self._waiters)


class ManagedSession:
    """One training session as the dashboard sees it: metadata on disk, the native session while it lives, its events."""

    def __init__(self, folder: Path, meta: dict[str, Any], on_change: Callable[[], None]):
        self.folder = folder
        self.meta = meta
        self.id: str = meta["id"]
        self.native: TrainingSession | None = None
        self.events: list[dict[str, Any]] = []
        self.subscribers = Subscribers()
        self.queued = False
        self.active = False  # asked to train continuously (counts against the running limit)
        self._on_change = on_change
        self._seq_base = 0
        self._lock = threading.RLock()  # guards events, the log file and native control calls
        self._poll_lock = threading.RLock()
        self._pump: threading.Thread | None = None
        self._pumping = False
        self._closing = False
        self._load_events()

    # --- events ---------------------------------------------------------------------------------------------
    @property
    def log_path(self) -> Path:
        return self.folder / "events.jsonl"

    def _load_events(self) -> None:
        if not self.log_path.exists():
            return
        with self.log_path.open("rb") as handle:
            for line in handle:
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    # Only the last line can be torn (a crash while appending); everything before it is complete.
                    break

    @property
    def last_seq(self) -> int:
        return self.events[-1]["seq"] if self.events else 0

    def events_after(self, seq: int, types: set[str] | None = None) -> list[dict[str, Any]]:
        """Events with a seq above ``seq`` (optionally only some types); seq n is at index n-1."""
        with self._lock:
            tail = self.events[max(0, seq):]
        return [e for e in tail if types is None or e["type"] in types]

    def _append(self, events: list[dict[str, Any]], base: int | None = None) -> None:
        """Appends events to the log (one write per line, so only a crash mid-line can leave a torn last line)."""
        with self._lock:
            base = self._seq_base if base is None else base
            with self.log_path.open("ab") as handle:
                for event in events:
                    event["seq"] = base + event["seq"]
                    handle.write(json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n")
                    self.events.append(event)
                handle.flush()
        self.subscribers.notify()

    def drain(self, wait_ms: int = 0) -> list[dict[str, Any]]:
        """Moves the native session's new events into the log; returns them.

        Polls are serialized by their own lock (two concurrent polls would both return the same new events), apart
        from the lock of control calls, so a pump waiting for events never holds up a pause or a stop.
        """
        with self._poll_lock:
            native = self.native
            if native is None:
                return []
            events = native.poll(wait_ms=wait_ms)
            if events:
                self._append(events)
                for event in events:
                    self._observe(event)
            return events

    def _observe(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind in ("completed", "error"):
            self.active = False
            self.queued = False
            self.meta["state"] = event.get("reason", "completed") if kind == "completed" else "failed"
            self.meta["finished_step"] = event.get("step")
            self.save_meta()
            self._on_change()
        elif kind == "exported":
            self.meta.setdefault("exports", []).append({"model": Path(event["path"]).stem, "step": event.get("step")})
            self.save_meta()

    # --- lifetime -----------------------------------------------------------------------------------------------
    def attach(self, native: TrainingSession) -> None:
        """Takes ownership of a native session whose event numbers continue after the stored ones."""
        with self._lock:
            self._seq_base = self.last_seq
            self.native = native
            self.meta["state"] = "live"
            self._closing = False
        self.save_meta()
        self._pumping = True
        self._pump = threading.Thread(target=self._pump_events, name=f"pump-{self.id}", daemon=True)
        self._pump.start()

    def _pump_events(self) -> None:
        """Moves events until the session has finished (and auto-exported) or is closed, then wakes the listeners."""
        try:
            self._pump_until_finished()
        finally:
            # Flag first, then wake: a listener woken here must already see that no more events can come.
            self._pumping = False
            self.subscribers.notify()

    def _pump_until_finished(self) -> None:
        exported = False
        while not self._closing:
            try:
                self.drain(wait_ms=POLL_WAIT_MS)
            except BulletError as e:
                if self._closing:
                    return
                self._fail(f"lost the native session: {e}")
                return
            if self.meta.get("state") in FINISHED:
                if self.meta["state"] != "failed" and self.meta.get("auto_export") and not exported:
                    exported = True
                    try:
                        self.export(self.meta["model_name"])
                    except (BulletError, HTTPException) as e:
                        self._record_error(f"automatic export failed: {getattr(e, 'detail', e)}")
                    continue
                self.drain()
                return

    def _record_error(self, message: str) -> None:
        """An error event from the dashboard itself; later native events are numbered after it."""
        with self._lock:
            self._append([{"seq": self.last_seq + 1, "type": "error", "time": time.time(), "message": message}], base=0)
            self._seq_base += 1

    def _fail(self, message: str) -> None:
        self._record_error(message)
        self.active = self.queued = False
        self.meta["state"] = "failed"
        self.save_meta()
        self._on_change()

    @property
    def pumping(self) -> bool:
        """True while events can still arrive."""
        return self._pumping

    def close(self, checkpoint: bool) -> None:
        """Stops the pump and frees the native session; with ``checkpoint`` an unfinished run is saved first so it can resume."""
        with self._lock:
            native, self.native = self.native, None
            self._closing = True
        if native is None:
            return
        if checkpoint and self.meta.get("state") not in FINISHED:
            try:
                native.pause()
                native.checkpoint()
            except BulletError as e:
                log.warning("session %s: could not checkpoint before closing: %s", self.id, e)
        with self._poll_lock:
            try:
                while (events := native.poll(wait_ms=0)):
                    self._append(events)
            except BulletError as e:
                log.warning("session %s: events lost at close: %s", self.id, e)
        if self._pump:
            self._pump.join(timeout=5)
        native.close()
        self.active = self.queued = False
        if self.meta.get("state") not in FINISHED:
            self.meta["state"] = "interrupted"
        self.save_meta()

    def save_meta(self) -> None:
        write_json(self.folder / "session.json", self.meta)

    # --- controls -----------------------------------------------------------------------------------------------
    def require_native(self, action: str) -> TrainingSession:
        native = self.native
        if native is None:
            raise HTTPException(409, f"cannot {action}: the session is {self.state}; resume it from its checkpoint first")
        return native

    def control(self, action: str, call: Callable[[TrainingSession], Any]) -> Any:
        """Runs a native control; its refusal (e.g. stepping a running session) is a 409 with the native message."""
        with self._lock:
            native = self.require_native(action)
            try:
                return call(native)
            except BulletError as e:
                raise HTTPException(409 if e.status in (1, 4) else 500, str(e)) from None

    def export(self, model_name: str) -> dict[str, Any]:
        """Writes and verifies the .bullet into the models folder; returns the verification numbers."""
        models_dir = self.folder.parent.parent / "models"
        target = inside(models_dir, f"{check_name(model_name, 'model name')}.bullet")
        result = self.control("export", lambda n: n.export(target, model_name=model_name, model_card=self.meta.get("model_card", "")))
        write_json(models_dir / f"{model_name}.json", {"session_id": self.id, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        self.drain()
        return result

    def latest_checkpoint(self) -> Path | None:
        """The checkpoint of the highest step that still exists on disk."""
        best: tuple[int, Path] | None = None
        for event in self.events:
            if event["type"] == "checkpoint" and Path(event["path"]).is_dir():
                step = int(event.get("step", 0))
                if best is None or step >= best[0]:
                    best = (step, Path(event["path"]))
        return best[1] if best else None

    @property
    def state(self) -> str:
        """created/preparing/ready/running/paused/queued/completed/stopped/early_stopped/failed/interrupted."""
        if self.queued:
            return "queued"
        native = self.native
        if native is not None:
            try:
                return native.status()["state"]
            except BulletError:
                return "failed"
        stored = self.meta.get("state", "interrupted")
        return stored if stored in FINISHED else "interrupted"

    def summary(self) -> dict[str, Any]:
        """What a list shows: identity, state, progress, last metrics."""
        status: dict[str, Any] = {}
        if self.native is not None:
            try:
                status = self.native.status()
            except BulletError:
                status = {}
        metrics = status.get("metrics") or next((e for e in reversed(self.events) if e["type"] == "metrics"), None)
        started = next((e for e in self.events if e["type"] == "started"), None)
        return {
            "id": self.id,
            "name": self.meta.get("name"),
            "dataset": self.meta.get("dataset"),
            "created": self.meta.get("created"),
            "state": self.state,
            "step": status.get("step", metrics.get("step") if metrics else 0),
            "total_steps": status.get("total_steps") or (started or {}).get("total_steps"),
            "speed": status.get("speed", 0),
            "last_seq": self.last_seq,
            "metrics": metrics,
            "model_name": self.meta.get("model_name"),
            "exports": self.meta.get("exports", []),
            "can_resume_from_checkpoint": self.native is None and self.latest_checkpoint() is not None,
        }


class SessionManager:
    """Creates, finds, schedules and closes sessions; at most ``max_running`` train at once, the rest wait in a queue."""

    def __init__(self, root: Path, models_dir: Path, max_running: int):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.models_dir = models_dir
        self.max_running = max_running
        self.sessions: dict[str, ManagedSession] = {}
        self._queue: list[str] = []
        self._lock = threading.RLock()
        self.ending = False
        self._load()

    def _load(self) -> None:
        """Finds every session folder again; one that was not finished is interrupted."""
        for meta_path in sorted(self.root.glob("*/session.json")):
            meta = read_json(meta_path)
            if not isinstance(meta, dict) or meta.get("id") != meta_path.parent.name:
                log.warning("skipping %s: unreadable session metadata", meta_path)
                continue
            if meta.get("state") not in FINISHED:
                meta["state"] = "interrupted"
            self.sessions[meta["id"]] = ManagedSession(meta_path.parent, meta, self._schedule)

    def get(self, session_id: str) -> ManagedSession:
        check_name(session_id, "session id")
        session = self.sessions.get(session_id)
        if session is None:
            raise HTTPException(404, f"no session {session_id!r}")
        return session

    def list(self) -> list[dict[str, Any]]:
        return [s.summary() for s in sorted(self.sessions.values(), key=lambda s: s.meta.get("created", ""), reverse=True)]

    def latest(self) -> ManagedSession:
        if not self.sessions:
            raise HTTPException(404, "there is no session yet")
        return max(self.sessions.values(), key=lambda s: (s.meta.get("created", ""), s.id))

    def validate(self, config: dict[str, Any]) -> dict[str, Any]:
        """The native library's verdict on a config: every failing field with its message, and the resolved config."""
        return validate_config(config)

    def create(self, config: dict[str, Any], text_path: Callable[[Path], None], *, dataset: str | None, name: str | None,
               model_name: str | None, auto_export: bool, model_card: str = "") -> ManagedSession:
        """Validates the config natively, makes the folder, places the text (``text_path`` writes it) and creates the native session."""
        verdict = validate_config(config)
        if not verdict["valid"]:
            raise config_errors_response(verdict["errors"])
        session_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        name = check_name(name, "session name") if name else None
        model_name = check_name(model_name or f"{name or dataset or 'model'}-{session_id}", "model name")
        folder = inside(self.root, session_id)
        folder.mkdir()
        text_file = folder / "train.txt"
        try:
            text_path(text_file)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        meta = {"id": session_id, "name": name or session_id, "dataset": dataset, "config": config,
                "resolved_config": verdict["config"], "model_name": model_name, "auto_export": auto_export,
                "model_card": model_card, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "state": "live"}
        try:
            native = TrainingSession(config, text_path=text_file, output_dir=folder)
        except BulletError as e:
            shutil.rmtree(folder, ignore_errors=True)
            raise HTTPException(422, str(e)) from None
        session = ManagedSession(folder, meta, self._schedule)
        with self._lock:
            self.sessions[session_id] = session
        session.attach(native)
        return session

    def running_count(self) -> int:
        return sum(1 for s in self.sessions.values() if s.active and not s.queued)

    def start(self, session: ManagedSession) -> str:
        """Starts or resumes training now, or queues it when the running limit is reached; returns the state."""
        session.require_native("start")
        with self._lock:
            if session.active or session.queued:
                return session.state
            if self.running_count() >= self.max_running:
                session.queued = True
                self._queue.append(session.id)
                return "queued"
            session.control("start", lambda n: n.start())
            session.active = True
        return session.state

    def pause(self, session: ManagedSession) -> str:
        """Pauses (or takes it out of the queue) and saves a checkpoint to resume from after a restart."""
        with self._lock:
            if self._dequeue(session):
                return session.state
            session.control("pause", lambda n: n.pause())
            session.active = False
        try:
            session.control("checkpoint", lambda n: n.checkpoint())
        except HTTPException as e:
            log.info("session %s: no checkpoint on pause: %s", session.id, e.detail)
        self._schedule()
        return session.state

    def stop(self, session: ManagedSession) -> str:
        with self._lock:
            self._dequeue(session)
            session.control("stop", lambda n: n.stop())
            if session.state == "paused" or session.state == "ready":
                # A paused session stops on the thread's next turn; it no longer holds a slot either way.
                session.active = False
        self._schedule()
        return session.state

    def _dequeue(self, session: ManagedSession) -> bool:
        """Takes the session out of the queue (call holding the lock); False when it was not queued."""
        if not session.queued:
            return False
        session.queued = False
        self._queue.remove(session.id)
        return True

    def _schedule(self) -> None:
        """Starts queued sessions while there is room."""
        with self._lock:
            while self._queue and self.running_count() < self.max_running:
                session = self.sessions.get(self._queue.pop(0))
                if session is None or not session.queued:
                    continue
                session.queued = False
                try:
                    session.control("start", lambda n: n.start())
                    session.active = True
                except HTTPException as e:
                    session._record_error(f"could not start from the queue: {e.detail}")

    def resume_from_checkpoint(self, session: ManagedSession, start: bool = True) -> str:
        """A new native session from the latest checkpoint; events continue the same numbering."""
        if session.native is not None:
            if session.state not in FINISHED:
                raise HTTPException(409, f"the session is {session.state}; pause or stop it before resuming from a checkpoint")
            session.close(checkpoint=False)
        checkpoint = session.latest_checkpoint()
        if checkpoint is None:
            raise HTTPException(409, "the session has no checkpoint to resume from")
        try:
            native = TrainingSession({}, text_path=session.folder / "train.txt", output_dir=session.folder, resume_from=checkpoint)
        except BulletError as e:
            raise HTTPException(422, f"cannot resume from {checkpoint.name}: {e}") from None
        session.attach(native)
        return self.start(session) if start else session.state

    def delete(self, session: ManagedSession) -> None:
        """Closes the session and removes its folder (exported models stay)."""
        with self._lock:
            if session.queued:
                self._queue.remove(session.id)
            session.close(checkpoint=False)
            self.sessions.pop(session.id, None)
        shutil.rmtree(session.folder, ignore_errors=True)
        self._schedule()

    def end_streams(self) -> None:
        """Tells every event stream to end (the server is going down)."""
        self.ending = True
        for session in list(self.sessions.values()):
            session.subscribers.notify()

    def shutdown(self) -> None:
        """Checkpoints and closes every live session (they come back as interrupted)."""
        for session in list(self.sessions.values()):
            session.close(checkpoint=True)
