"""One list of session states: the native enum, the Python binding and the browser client name the same states in the same order."""
from __future__ import annotations

import re
from pathlib import Path

import bullet_native
from bullet_native.training import native_session_states

CLIENT = Path(__file__).resolve().parents[2] / "frontend" / "src" / "lib" / "sessionStates.ts"


def client_list(name: str) -> list[str]:
    """A string-array constant of the TypeScript module, read from its source."""
    match = re.search(rf"export const {name}[^=]*=\s*\[(.*?)\]", CLIENT.read_text(encoding="utf-8"), re.S)
    assert match, f"{name} not found in {CLIENT}"
    return re.findall(r'"([a-z_]+)"', match.group(1))


def test_native_python_and_typescript_name_the_same_states():
    native = native_session_states()
    names = [s["name"] for s in native]
    assert names == list(bullet_native.SESSION_STATES) == client_list("SESSION_STATES")
    finished = {s["name"] for s in native if s["finished"]}
    assert finished == set(bullet_native.FINISHED_STATES) == set(client_list("FINISHED_STATES"))
    assert {s["name"] for s in native if s["set_by"] == "supervisor"} == {"queued", "interrupted"}


def test_the_comparison_sees_a_missing_state():
    # The reader of the TypeScript list must not pass vacuously: it finds every quoted state.
    assert len(client_list("SESSION_STATES")) == 10 and "early_stopped" in client_list("SESSION_STATES")
