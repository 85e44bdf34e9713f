"""Training sessions through the real app and the real native library: create, control, events, export, restart."""
from __future__ import annotations

import bullet_native
import pytest

from .conftest import assert_continuous, config, events_of, make_client, session_state, sse_messages, story_text, wait_until


def create(client, dataset="stories", speed=None, start=False, **body):
    """Creates a session; with ``speed`` the limit is set before training starts, so no step runs unthrottled."""
    r = client.post("/api/sessions", json={"dataset": dataset, **body, "start": start and speed is None})
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    if speed is not None:
        assert client.post(f"/api/sessions/{session_id}/speed", json={"steps_per_second": speed}).status_code == 200
        if start:
            assert client.post(f"/api/sessions/{session_id}/start").status_code == 200
    return session_id


def test_status_presets_and_config_validation(client):
    status = client.get("/api/status").json()
    assert status["native"] == bullet_native.version() and status["max_running_sessions"] >= 1
    presets = client.get("/api/presets").json()
    assert {"tiny", "small", "medium", "shakespeare-char"} <= set(presets)
    ok = client.post("/api/config/validate", json={"preset": "tiny"}).json()
    assert ok["valid"] and ok["config"]["hidden_size"] == presets["tiny"]["hidden_size"]
    bad = client.post("/api/config/validate", json={"preset": "tiny", "hidden_size": 100, "num_heads": 3, "learnin_rate": 1}).json()
    assert not bad["valid"]
    fields = {e["field"]: e["message"] for e in bad["errors"]}
    assert set(fields) == {"hidden_size", "num_heads", "learnin_rate"}
    assert "multiple of 32" in fields["hidden_size"] and "learning_rate" in fields["learnin_rate"]


# Deleting right after creating also checks that a deleted session's worker ending writes nothing into its removed folder.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_sessions_started_in_the_same_minute_get_short_names_that_read_apart(client, stories):
    ids = [create(client, config=config()) for _ in range(3)]
    names = [client.get(f"/api/sessions/{i}").json()["name"] for i in ids]
    # Named by dataset and minute; a minute boundary between them leaves the names apart as well.
    assert len(set(names)) == 3 and all(n.startswith("stories ") and len(n) <= 24 for n in names), names
    for i in ids:
        assert client.delete(f"/api/sessions/{i}").status_code == 204


def test_session_trains_exports_and_replays(client, stories):
    session_id = create(client, config=config(), start=True, model_name="replayed")
    body = client.get(f"/api/sessions/{session_id}/events").text
    events = events_of(body)
    assert_continuous(events)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "started" and "sample" in kinds and "attention" in kinds and kinds[-2:] == ["completed", "exported"]
    assert [e["step"] for e in events if e["type"] == "metrics"] == list(range(1, 13))
    assert sse_messages(body)[-1]["event"] == "end"

    detail = session_state(client, session_id)
    assert detail["state"] == "completed" and detail["step"] == 12
    assert detail["verification"]["bq4_perplexity"] > 1 and 0 < detail["verification"]["top1_agreement"] <= 1
    # A page opened after the end replays the same stored events, and filters by type.
    assert events_of(client.get(f"/api/sessions/{session_id}/events").text) == events
    samples = events_of(client.get(f"/api/sessions/{session_id}/events?types=sample").text)
    assert samples and {e["type"] for e in samples} == {"sample"}

    index = client.get(f"/api/sessions/{session_id}/attention").json()["snapshots"]
    assert [s["step"] for s in index] == [6, 12]
    snapshot = client.get(f"/api/sessions/{session_id}/attention/{index[0]['seq']}").json()
    assert len(snapshot["maps"]) == 1 and len(snapshot["maps"][0]) == 2 and snapshot["tokens"]
    assert client.get(f"/api/sessions/{session_id}/attention/{index[0]['seq'] + 1}").status_code == 404

    models = {m["name"]: m for m in client.get("/api/models").json()}
    assert models["replayed"]["session_id"] == session_id and models["replayed"]["hidden_size"] == 32
    assert models["replayed"]["bq4_perplexity"] == detail["verification"]["bq4_perplexity"]
    inspected = client.get("/api/models/replayed").json()
    assert inspected["header"]["num_layers"] == 1 and inspected["tensors"]

    again = client.post(f"/api/sessions/{session_id}/export", json={"model_name": "second-copy"})
    assert again.status_code == 200 and again.json()["verification"]["step"] == 12
    assert client.get("/api/models/second-copy/download").content[:4] == client.get("/api/models/replayed/download").content[:4]

    assert client.delete(f"/api/sessions/{session_id}").status_code == 204
    assert client.get(f"/api/sessions/{session_id}").status_code == 404
    assert session_id not in {s["id"] for s in client.get("/api/sessions").json()}
    assert {"replayed", "second-copy"} <= {m["name"] for m in client.get("/api/models").json()}


def test_two_sessions_train_at_once_with_independent_events(data_dir):
    with make_client(data_dir, max_running_sessions=2) as client:
        client.post("/api/datasets/text", json={"name": "stories", "text": story_text()})
        slow = config(total_steps=20)
        a = create(client, config={**slow, "seed": 1}, speed=20, start=True)
        b = create(client, config={**slow, "seed": 2, "sample_prompt": "Anna"}, speed=20, start=True)
        assert client.get("/api/status").json()["running_sessions"] == 2
        events_a = events_of(client.get(f"/api/sessions/{a}/events").text)
        events_b = events_of(client.get(f"/api/sessions/{b}/events").text)
    for events in (events_a, events_b):
        assert_continuous(events)
        assert [e["step"] for e in events if e["type"] == "metrics"] == list(range(1, 21))
    assert {e["prompt"] for e in events_b if e["type"] == "sample"} == {"Anna"}
    assert [e["train_loss"] for e in events_a if e["type"] == "metrics"] != [e["train_loss"] for e in events_b if e["type"] == "metrics"]


def test_running_limit_queues_the_rest(data_dir):
    with make_client(data_dir, max_running_sessions=1) as client:
        client.post("/api/datasets/text", json={"name": "stories", "text": story_text()})
        first = create(client, config=config(total_steps=60), speed=20, start=True)  # training while the others ask
        second = client.post("/api/sessions", json={"dataset": "stories", "config": config(), "start": True}).json()
        assert second["state"] == "queued"
        assert client.get("/api/status").json()["queued_sessions"] == 1
        # A queued session holds no worker (and none of its memory) and has logged nothing until its turn.
        assert second["pid"] is None and second["memory"]["rss_bytes"] is None
        assert events_of(client.get(f"/api/sessions/{second['id']}/events?follow=false").text) == []
        third = client.post("/api/sessions", json={"dataset": "stories", "config": config(), "start": True}).json()
        assert client.post(f"/api/sessions/{third['id']}/step", json={"steps": 1}).status_code == 409
        assert client.post(f"/api/sessions/{third['id']}/speed", json={"steps_per_second": 5}).status_code == 200
        assert client.post(f"/api/sessions/{third['id']}/stop").json()["state"] == "stopped"
        assert client.get("/api/status").json()["queued_sessions"] == 1
        assert events_of(client.get(f"/api/sessions/{first}/events").text)[-1]["type"] == "exported"
        events = events_of(client.get(f"/api/sessions/{second['id']}/events").text)
        assert [e["type"] for e in events][-2:] == ["completed", "exported"]


def test_pause_step_resume_stop(client, stories):
    session_id = create(client, config=config(total_steps=400, checkpoint_every=0), speed=40, start=True)
    wait_until(lambda: session_state(client, session_id)["step"] >= 2, what="two steps")
    assert client.post(f"/api/sessions/{session_id}/step", json={"steps": 2}).status_code == 409  # running: pause first
    assert client.post(f"/api/sessions/{session_id}/pause").json()["state"] == "paused"
    paused_at = wait_until(lambda: (lambda s: s["state"] == "paused" and s["step"])(session_state(client, session_id)), what="pause")
    assert session_state(client, session_id)["step"] == paused_at
    assert client.post(f"/api/sessions/{session_id}/step", json={"steps": 3}).status_code == 200
    wait_until(lambda: session_state(client, session_id)["step"] == paused_at + 3, what="three single steps")
    assert client.post(f"/api/sessions/{session_id}/resume").json()["state"] == "running"
    wait_until(lambda: session_state(client, session_id)["step"] > paused_at + 4, what="training after resume")
    client.post(f"/api/sessions/{session_id}/stop")
    events = events_of(client.get(f"/api/sessions/{session_id}/events").text)
    kinds = [e["type"] for e in events]
    assert "paused" in kinds and "resumed" in kinds and "checkpoint" in kinds
    completed = next(e for e in events if e["type"] == "completed")
    assert completed["reason"] == "stopped" and completed["step"] < 400
    assert session_state(client, session_id)["state"] == "stopped"
    assert client.post(f"/api/sessions/{session_id}/start").status_code == 409


def test_last_event_id_resumes_without_gaps_or_repeats(client, stories):
    session_id = create(client, config=config(total_steps=30), speed=30, start=True)
    wait_until(lambda: session_state(client, session_id)["last_seq"] >= 5, what="some events")
    first = events_of(client.get(f"/api/sessions/{session_id}/events?follow=false").text)
    cut = first[len(first) // 2]["seq"]
    rest = events_of(client.get(f"/api/sessions/{session_id}/events", headers={"Last-Event-ID": str(cut)}).text)
    joined = [e for e in first if e["seq"] <= cut] + rest
    assert_continuous(joined)
    assert joined[-1]["type"] == "exported"
    assert events_of(client.get(f"/api/sessions/{session_id}/events?last_event_id={cut}").text) == rest


def test_restart_finds_model_and_resumes_interrupted_session(data_dir):
    with make_client(data_dir) as client:
        client.post("/api/datasets/text", json={"name": "stories", "text": story_text()})
        done = create(client, config=config(), start=True, model_name="finished")
        events_of(client.get(f"/api/sessions/{done}/events").text)
        running = create(client, config=config(total_steps=200), speed=40, start=True)
        wait_until(lambda: session_state(client, running)["step"] >= 3, what="a few steps")
    # Leaving the block shut the app down: the running session was checkpointed and closed.
    with make_client(data_dir) as client:
        assert "finished" in {m["name"] for m in client.get("/api/models").json()}
        assert session_state(client, done)["state"] == "completed"
        interrupted = session_state(client, running)
        assert interrupted["state"] == "interrupted" and interrupted["can_resume_from_checkpoint"]
        stored = events_of(client.get(f"/api/sessions/{running}/events").text)
        checkpoint_step = max(e["step"] for e in stored if e["type"] == "checkpoint")
        r = client.post(f"/api/sessions/{running}/resume-from-checkpoint")
        assert r.status_code == 200, r.text
        events = events_of(client.get(f"/api/sessions/{running}/events").text)
        assert_continuous(events)
        resumed = events[len(stored):]
        assert resumed[0]["type"] == "started" and resumed[0]["step"] == checkpoint_step and resumed[0]["resumed_from"]
        metrics_steps = [e["step"] for e in resumed if e["type"] == "metrics"]
        assert metrics_steps == list(range(checkpoint_step + 1, 201))
        assert session_state(client, running)["state"] == "completed"


def test_a_failing_session_ends_with_an_error_and_others_keep_training(client, stories):
    healthy = create(client, config=config(total_steps=20), start=True)
    # A text too short for any model fails inside the native session thread, once the text is read.
    r = client.post("/api/sessions", json={"text": "tiny text", "config": {"preset": "tiny"}, "start": False})
    assert r.status_code == 201
    broken = r.json()["id"]
    events = events_of(client.get(f"/api/sessions/{broken}/events").text)
    assert [e["type"] for e in events] == ["error"] and "too short to train on" in events[0]["message"]
    detail = session_state(client, broken)
    assert detail["state"] == "failed" and detail["error"] == events[0]["message"]
    assert client.post(f"/api/sessions/{broken}/start").status_code == 409
    assert events_of(client.get(f"/api/sessions/{healthy}/events").text)[-1]["type"] == "exported"
    assert client.get("/api/status").status_code == 200
