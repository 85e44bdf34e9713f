"""Runs: every session as one row to compare (tokenizer, size, progress, training time, speed, best validation,
BQ4/float), read from the record each session folds from its events."""
from __future__ import annotations

from typing import Any

from .sessions import ManagedSession, SessionManager


def run_row(session: ManagedSession) -> dict[str, Any]:
    """One session's row."""
    summary, record = session.summary(), session.record
    started = record.started or {}
    config = started.get("config") or session.meta.get("resolved_config") or {}
    metrics = record.metrics or {}
    return {
        **{key: summary[key] for key in ("id", "name", "dataset", "created", "state", "step", "total_steps", "best_val_loss", "last_seq")},
        "tokenizer": config.get("tokenizer"),
        "vocab_size": started.get("vocab_size"),
        "parameters": started.get("parameters"),
        "training_seconds": record.training_seconds,
        "tokens_per_sec": metrics.get("tokens_per_sec"),
        "train_loss": metrics.get("train_loss"),
        "best_val_step": record.best_step,
        "best_val_bpc": record.best_val_bpc,
        "perplexity_ratio": (record.verification or {}).get("perplexity_ratio"),
        "model_name": summary["exports"][-1]["model"] if summary["exports"] else None,
    }


def run_rows(sessions: SessionManager) -> list[dict[str, Any]]:
    """Every session's row, newest first."""
    return [run_row(s) for s in sorted(sessions.sessions.values(), key=lambda s: s.meta.get("created", ""), reverse=True)]
