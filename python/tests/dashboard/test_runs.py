"""The Runs table: one row per session, folded from its events."""
from __future__ import annotations

from bullet_dashboard.services.session_record import SessionRecord

from .conftest import config, wait_until


def finished(client, dataset: str, **overrides) -> str:
    r = client.post("/api/sessions", json={"dataset": dataset, "config": config(**overrides), "start": True})
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    wait_until(lambda: client.get(f"/api/sessions/{session_id}").json()["exports"], what="the automatic export")
    return session_id


def test_every_session_is_a_row_with_its_best_validation_and_bq4_ratio(client, stories):
    short = finished(client, stories, total_steps=8)
    longer = finished(client, stories, total_steps=16)
    rows = {r["id"]: r for r in client.get("/api/runs").json()}
    assert set(rows) == {short, longer}
    for session_id, steps in ((short, 8), (longer, 16)):
        row = rows[session_id]
        metrics = client.get(f"/api/sessions/{session_id}/log", params={"types": "metrics"}).json()
        evaluated = [(m["val_loss"], m["step"]) for m in metrics if m["val_loss"] is not None]
        assert (row["best_val_loss"], row["best_val_step"]) == min(evaluated)
        assert row["step"] == row["total_steps"] == steps and row["state"] == "completed"
        assert row["tokenizer"] == "char" and row["parameters"] > 0
        assert row["training_seconds"] == metrics[-1]["training_sec"] and row["tokens_per_sec"] == metrics[-1]["tokens_per_sec"]
        exported = client.get(f"/api/sessions/{session_id}").json()["verification"]
        assert row["perplexity_ratio"] == exported["perplexity_ratio"] and row["model_name"]
    assert client.delete(f"/api/sessions/{short}").status_code == 204
    assert [r["id"] for r in client.get("/api/runs").json()] == [longer]


def test_training_time_adds_up_over_resumes_in_logs_without_training_sec_and_bits_per_character_are_kept():
    record = SessionRecord()
    events = [
        {"seq": 1, "type": "started"},
        {"seq": 2, "type": "metrics", "step": 1, "elapsed_sec": 2.0, "val_loss": 3.0, "val_bpc": 1.4},
        {"seq": 3, "type": "metrics", "step": 2, "elapsed_sec": 4.0, "val_loss": None},
        {"seq": 4, "type": "started"},
        {"seq": 5, "type": "metrics", "step": 2, "elapsed_sec": 1.5, "val_loss": 2.5, "val_bpc": 1.2},
    ]
    for event in events:
        record.observe(event)
    assert record.training_seconds == 5.5
    assert (record.best_val_loss, record.best_step, record.best_val_bpc) == (2.5, 2, 1.2)
    # Exporting the best checkpoint (step 1) does not move the session's progress back.
    record.observe({"seq": 6, "type": "exported", "step": 1, "checkpoint": "best"})
    assert record.step == 2
