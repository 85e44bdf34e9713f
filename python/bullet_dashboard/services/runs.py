"""Runs: every session as one row to compare (tokenizer, size, progress, training time, speed, best validation,
BQ4/float), folded from its events; each session's row is updated from the events it logged since the last request."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .sessions import ManagedSession, SessionManager

RUN_EVENTS = {"started", "metrics", "exported"}


@dataclass
class RunStats:
    """What a session's events say about it so far; ``seen`` is the last seq folded in."""

    seen: int = 0
    started: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    best_val_loss: float | None = None
    best_val_step: int | None = None
    best_val_bpc: float | None = None
    # A resumed run's clock restarts at 0: the time of the runs before it is carried in elapsed_before.
    elapsed_before: float = 0.0
    elapsed: float = 0.0
    exported: dict[str, Any] = field(default_factory=dict)

    def fold(self, event: dict[str, Any]) -> None:
        """Takes one started, metrics or exported event into account."""
        kind = event["type"]
        if kind == "started":
            if self.started:
                self.elapsed_before += self.elapsed
                self.elapsed = 0.0
            self.started = event
        elif kind == "metrics":
            self.metrics = event
            self.elapsed = event.get("elapsed_sec") or self.elapsed
            val = event.get("val_loss")
            if val is not None and (self.best_val_loss is None or val < self.best_val_loss):
                self.best_val_loss, self.best_val_step = val, event.get("step")
            bpc = event.get("val_bpc")
            if bpc is not None and (self.best_val_bpc is None or bpc < self.best_val_bpc):
                self.best_val_bpc = bpc
        elif kind == "exported":
            self.exported = event


class RunIndex:
    """The Runs table: a row per session, kept up to date incrementally."""

    def __init__(self, sessions: SessionManager):
        self.sessions = sessions
        self._stats: dict[str, RunStats] = {}
        self._lock = threading.Lock()

    def _stats_of(self, session: ManagedSession) -> RunStats:
        with self._lock:
            stats = self._stats.setdefault(session.id, RunStats())
            # Events logged while this runs are left for the next request, so none is folded in twice.
            upto = session.last_seq
            for event in session.events_after(stats.seen, RUN_EVENTS):
                if event["seq"] > upto:
                    break
                stats.fold(event)
            stats.seen = upto
            return stats

    def row(self, session: ManagedSession) -> dict[str, Any]:
        """One session's row."""
        summary = session.summary()
        stats = self._stats_of(session)
        config = stats.started.get("config") or session.meta.get("resolved_config") or {}
        return {
            "id": summary["id"],
            "name": summary["name"],
            "dataset": summary["dataset"],
            "created": summary["created"],
            "state": summary["state"],
            "tokenizer": config.get("tokenizer"),
            "vocab_size": stats.started.get("vocab_size"),
            "parameters": stats.started.get("parameters"),
            "step": summary["step"],
            "total_steps": summary["total_steps"],
            "training_seconds": round(stats.elapsed_before + stats.elapsed, 3) if stats.metrics else None,
            "tokens_per_sec": stats.metrics.get("tokens_per_sec"),
            "train_loss": stats.metrics.get("train_loss"),
            "best_val_loss": stats.best_val_loss,
            "best_val_step": stats.best_val_step,
            "best_val_bpc": stats.best_val_bpc,
            "perplexity_ratio": stats.exported.get("perplexity_ratio"),
            "model_name": summary["exports"][-1]["model"] if summary["exports"] else None,
            "last_seq": summary["last_seq"],
        }

    def rows(self) -> list[dict[str, Any]]:
        """Every session's row, newest first; rows of deleted sessions are forgotten."""
        sessions = sorted(self.sessions.sessions.values(), key=lambda s: s.meta.get("created", ""), reverse=True)
        with self._lock:
            for gone in set(self._stats) - {s.id for s in sessions}:
                del self._stats[gone]
        return [self.row(s) for s in sessions]
