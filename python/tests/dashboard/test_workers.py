"""Every session trains in its own worker process: a crash or a kill ends that session alone, it resumes from its
checkpoint with its event numbering intact, a config beyond the memory budget is refused, a worker over its hard limit
is ended with a memory message, and a killed server leaves no worker behind. Real processes, no mocks."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from bullet_native.worker import memory_of

from .conftest import assert_continuous, config, make_client, story_text, wait_until
from .test_server_process import launched

# Long enough to be killed mid-run, with checkpoints to resume from.
LONG = {"preset": "tiny", "total_steps": 160, "warmup_steps": 10, "eval_every": 40, "sample_every": 0, "attention_every": 0,
        "checkpoint_every": 20}


def alive(pid: int) -> bool:
    """True while a process with this id exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def start_session(client: httpx.Client, **cfg) -> str:
    r = client.post("/api/sessions", json={"dataset": "children_stories", "config": {**LONG, **cfg}, "start": True})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def detail(client: httpx.Client, session_id: str) -> dict:
    r = client.get(f"/api/sessions/{session_id}")
    assert r.status_code == 200, r.text
    return r.json()


def crash(pid: int, sig: signal.Signals) -> None:
    """Sends ``sig`` until the worker is gone. The .NET runtime inside a worker catches SIGSEGV to find null references
    in managed code; a SIGSEGV that is not such a fault makes it restore the default action and return, so the first one
    sent from outside is absorbed and the second ends the process (a real fault in native code ends it at once)."""
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        os.kill(pid, sig)
        time.sleep(0.3)
    assert not alive(pid), f"worker {pid} survived {sig.name}"


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
def test_a_crashed_worker_fails_its_session_alone_and_it_resumes_from_its_checkpoint(tmp_path, sig):
    with launched(tmp_path) as (process, url), httpx.Client(base_url=url.rstrip("/"), timeout=60) as client:
        crashed, other = start_session(client), start_session(client, total_steps=400)
        wait_until(lambda: detail(client, crashed)["step"] >= 25 and detail(client, other)["pid"], what="both training")
        victim = detail(client, crashed)
        assert victim["pid"] != detail(client, other)["pid"] and victim["pid"] != process.pid
        crash(victim["pid"], sig)

        failed = wait_until(lambda: (d := detail(client, crashed))["state"] == "failed" and d, what="the failed state")
        assert sig.name in failed["error"], failed["error"]
        if sig == signal.SIGKILL:
            assert "out of memory" in failed["error"]
        assert failed["pid"] is None and failed["can_resume_from_checkpoint"]
        # The server and the other session go on.
        assert client.get("/api/status").status_code == 200
        step = detail(client, other)["step"]
        wait_until(lambda: detail(client, other)["step"] > step, what="the other session to keep training")

        r = client.post(f"/api/sessions/{crashed}/resume-from-checkpoint")
        assert r.status_code == 200, r.text
        wait_until(lambda: detail(client, crashed)["state"] == "completed", what="the resumed session to complete")
        wait_until(lambda: detail(client, other)["state"] == "completed", what="the other session to complete")
        events = client.get(f"/api/sessions/{crashed}/log").json()
        assert_continuous(events)
        kinds = [e["type"] for e in events]
        assert kinds.count("started") == 2 and "error" in kinds and kinds[-1] in ("completed", "exported")
        # The latest checkpoint: a periodic one, or the best one when it was saved at that same step (after it).
        resumed = [e for e in events if e["type"] == "started"][1]
        saved = {e["path"]: e["step"] for e in events[:events.index(resumed)] if e["type"] == "checkpoint"}
        assert resumed["resumed_from"] in saved and saved[resumed["resumed_from"]] == max(saved.values()) >= 20, (resumed, saved)


def test_a_killed_server_leaves_no_worker_and_a_restarted_one_resumes(tmp_path):
    with launched(tmp_path) as (process, url), httpx.Client(base_url=url.rstrip("/"), timeout=60) as client:
        session_id = start_session(client, total_steps=2000)
        wait_until(lambda: detail(client, session_id)["step"] >= 25, what="training")
        pid = detail(client, session_id)["pid"]
        process.kill()
        process.wait()
        # The worker sees its parent go (its standard input closes), checkpoints and ends.
        wait_until(lambda: not alive(pid), timeout=30, what="the worker to end after its server")
    assert (tmp_path / "data" / "sessions" / session_id / "events.jsonl").exists()
    with launched(tmp_path) as (process, url), httpx.Client(base_url=url.rstrip("/"), timeout=60) as client:
        restored = detail(client, session_id)
        assert restored["state"] == "interrupted" and restored["can_resume_from_checkpoint"], restored
        at = restored["step"]
        r = client.post(f"/api/sessions/{session_id}/resume-from-checkpoint")
        assert r.status_code == 200, r.text
        wait_until(lambda: detail(client, session_id)["step"] > at, what="the resumed session to train")
        assert_continuous(client.get(f"/api/sessions/{session_id}/log").json())
        client.post(f"/api/sessions/{session_id}/stop")


def test_a_config_beyond_the_memory_budget_is_refused_with_the_estimate_and_the_budget(data_dir):
    huge = {"hidden_size": 8192, "num_layers": 96, "num_heads": 64, "vocab_size": 32000, "max_seq_len": 8192, "batch_size": 512}
    with make_client(data_dir) as client:
        verdict = client.post("/api/config/validate", json=huge).json()
        assert verdict["valid"] and not verdict["estimate"]["fits"]
        r = client.post("/api/sessions", json={"text": story_text(), "config": huge})
        assert r.status_code == 422
        message = r.json()["detail"]
        assert "GB of memory" in message and "budget" in message, message
        assert not list((data_dir / "sessions").iterdir()), "nothing is left on disk"
    # A budget set by the user applies too: 100 MB is less than any worker needs.
    with make_client(data_dir, memory_budget_bytes=100 * 1024 * 1024) as client:
        r = client.post("/api/sessions", json={"text": story_text(), "config": config()})
        assert r.status_code == 422 and "100 MB" in r.json()["detail"], r.text


def test_a_worker_over_its_hard_limit_ends_alone_with_a_memory_message(data_dir):
    # The worker opens its session well under 300 MB; a step of 256 windows of 64 tokens needs far more.
    greedy = config(hidden_size=64, num_layers=2, max_seq_len=64, batch_size=256, total_steps=500)
    with make_client(data_dir, worker_memory_limit_bytes=300 * 1024 * 1024) as client:
        r = client.post("/api/sessions", json={"text": story_text(), "config": greedy, "start": True})
        assert r.status_code == 201, r.text
        session_id = r.json()["id"]
        failed = wait_until(lambda: (d := client.get(f"/api/sessions/{session_id}").json())["state"] == "failed" and d,
                            what="the memory limit to end the worker")
        assert "memory limit of 300 MB" in failed["error"], failed["error"]
        assert client.get("/api/status").status_code == 200


def test_a_finished_session_returns_its_memory(data_dir):
    with make_client(data_dir) as client:
        before = memory_of(os.getpid())["rss"]
        big = {"preset": "small", "total_steps": 6, "batch_size": 32, "eval_every": 6, "sample_every": 0, "attention_every": 0}
        r = client.post("/api/sessions", json={"dataset": "children_stories", "config": big, "start": True, "auto_export": False})
        assert r.status_code == 201, r.text
        session_id = r.json()["id"]
        pid = wait_until(lambda: client.get(f"/api/sessions/{session_id}").json()["pid"], what="a worker")
        held = wait_until(lambda: memory_of(pid)["rss"] > 300 * 1024 * 1024 and memory_of(pid)["rss"], what="the worker to grow")
        wait_until(lambda: client.get(f"/api/sessions/{session_id}").json()["state"] == "completed", what="completion")
        wait_until(lambda: not alive(pid), what="the worker to end")
        after = memory_of(os.getpid())["rss"]
        print(f"server RSS {before / 2**20:.0f} MB before, {after / 2**20:.0f} MB after; the worker held {held / 2**20:.0f} MB")
        assert after - before < 64 * 1024 * 1024, (before, after)
