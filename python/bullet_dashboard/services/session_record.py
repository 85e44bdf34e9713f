"""What a session's events say, folded as they are read: its state, progress, last metrics, checkpoints, exports and
last error. The event file is the only record; this is a summary of it kept in memory."""
from __future__ import annotations

from pathlib import Path
from typing import Any


class SessionRecord:
    """The summary of one session's events so far."""

    def __init__(self) -> None:
        self.state: str | None = None
        self.last_seq = 0
        self.step = 0
        self.total_steps: int | None = None
        self.metrics: dict[str, Any] | None = None
        self.started: dict[str, Any] | None = None
        self.compute: dict[str, Any] | None = None
        self.verification: dict[str, Any] | None = None
        self.error: str | None = None
        self.best_val_loss: float | None = None
        self.best_step: int | None = None
        self.best_val_bpc: float | None = None
        # Training seconds of the runs before the last resume (each run's clock starts at 0), and of the latest run.
        self.seconds_before = 0.0
        self.seconds = 0.0
        self.session_seconds: float | None = None  # the metrics' own count over resumes, when they carry it
        self.last_checkpoint_time = 0.0
        self._checkpoints: dict[str, dict[str, Any]] = {}

    def observe(self, event: dict[str, Any]) -> None:
        """Takes one event into account (in seq order)."""
        self.last_seq = event["seq"]
        self.state = event.get("state", self.state)
        kind = event["type"]
        # An export's step is that of the weights it took (the best checkpoint's, say), not how far training got.
        if "step" in event and isinstance(event["step"], int) and kind != "exported":
            self.step = event["step"]
        if kind == "started":
            if self.started is not None:
                self.seconds_before, self.seconds = self.seconds_before + self.seconds, 0.0
            self.started = event
            self.total_steps = event.get("total_steps")
            self.compute = event.get("compute")
            self.error = None
        elif kind == "metrics":
            self.metrics = event
            self.total_steps = event.get("total_steps", self.total_steps)
            val = event.get("val_loss")
            if isinstance(val, (int, float)) and (self.best_val_loss is None or val < self.best_val_loss):
                self.best_val_loss, self.best_step = val, event.get("step")
            bpc = event.get("val_bpc")
            if isinstance(bpc, (int, float)) and (self.best_val_bpc is None or bpc < self.best_val_bpc):
                self.best_val_bpc = bpc
            self.seconds = event.get("elapsed_sec") or self.seconds
            self.session_seconds = event.get("training_sec", self.session_seconds)
        elif kind == "compute":
            self.compute = {**(self.compute or {}), **{k: v for k, v in event.items() if k not in ("seq", "type", "time", "state")}}
        elif kind == "checkpoint":
            self._checkpoints[event["path"]] = {"step": event.get("step"), "path": event["path"], "best": bool(event.get("best")),
                                                "val_loss": event.get("val_loss"), "seq": event["seq"]}
            self.last_checkpoint_time = event.get("time", 0.0)
        elif kind == "exported":
            self.verification = event
        elif kind == "error":
            self.error = event.get("message")

    @property
    def training_seconds(self) -> float | None:
        """Time spent training over every run of the session (pauses excluded); None before the first metrics."""
        if self.metrics is None:
            return None
        return round(self.session_seconds if self.session_seconds is not None else self.seconds_before + self.seconds, 3)

    def checkpoints(self) -> list[dict[str, Any]]:
        """The checkpoints that still exist on disk, by step (the best one marked)."""
        # A copy first: the thread following the event log may add one meanwhile.
        known = list(self._checkpoints.values())
        return sorted((c for c in known if Path(c["path"]).is_dir()), key=lambda c: (c["step"] or 0, c["seq"]))

    def latest_checkpoint(self) -> Path | None:
        """The existing checkpoint of the highest step (the newest among equals)."""
        found = self.checkpoints()
        return Path(found[-1]["path"]) if found else None

    def best_checkpoint(self) -> dict[str, Any] | None:
        """The checkpoint kept for the lowest validation loss, when it exists."""
        return next((c for c in reversed(self.checkpoints()) if c["best"]), None)
