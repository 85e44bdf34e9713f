"""The states of a training session, as the native library names them (its SessionState enum).

Mirrored here and in the browser client (``frontend/src/lib/sessionStates.ts``); a test fails when the lists differ.
"""
from __future__ import annotations

# In the native order. "queued" and "interrupted" are set by a supervisor, never by a session itself.
SESSION_STATES = ("preparing", "ready", "running", "paused", "completed", "stopped", "early_stopped", "failed", "queued",
                  "interrupted")
# After these a session trains no more.
FINISHED_STATES = frozenset({"completed", "stopped", "early_stopped", "failed"})
