"""Any text from about 100 words trains with default settings, and what the user sets wins over preset defaults."""
from __future__ import annotations

import json
import math
from pathlib import Path

from .conftest import events_of, story_text

# A letter of 100 words, written for these tests.
LETTER = (Path(__file__).parents[1] / "data" / "letter-100-words.txt").read_text(encoding="utf-8").strip()


def test_a_100_word_text_trains_with_defaults_through_post_train(client):
    assert len(LETTER.split()) == 100
    r = client.post("/train", data={"model_config": "{}"}, files={"training_text": ("letter.txt", LETTER.encode())})
    assert r.status_code == 201, r.text
    events = events_of(client.get("/logs").text)
    started = events[0]
    assert started["type"] == "started" and started["time_budget_s"] > 0
    assert any(note.startswith("shape chosen for") for note in started["notes"])
    assert [e for e in events if e["type"] == "sample"], "a passage was generated"
    assert events[-1]["type"] == "exported" and events[-1]["bq4_bpc"] > 0
    assert events[-1]["verified_on"] == "training", "no validation part to verify on"


def test_a_100_word_text_trains_with_defaults_through_the_sessions_api(client):
    r = client.post("/api/sessions", json={"text": LETTER, "config": {}, "start": True})
    assert r.status_code == 201, r.text
    events = events_of(client.get(f"/api/sessions/{r.json()['id']}/events").text)
    started = events[0]
    assert started["type"] == "started" and any(note.startswith("shape chosen for") for note in started["notes"])
    assert [e for e in events if e["type"] == "sample"], "a passage was generated"
    assert any("it all trains" in note for note in started["notes"]), "too short for a validation part worth choosing by"
    completed = next(e for e in events if e["type"] == "completed")
    assert completed["reason"] == "completed" and completed["best_val_bpc"] is None
    assert 0 < completed["metrics"]["train_bpc"] < math.log2(started["config"]["vocab_size"]), "better than guessing"


def test_epochs_1_without_steps_trains_one_epoch(client):
    r = client.post("/train", data={"model_config": json.dumps({"epochs": 1, "embedding_dim": 32, "num_layers": 1})},
                    files={"training_text": ("stories.txt", story_text().encode())})
    assert r.status_code == 201, r.text
    events = events_of(client.get("/logs").text)
    metrics = [e for e in events if e["type"] == "metrics"]
    assert abs(metrics[-1]["epoch"] - 1) <= 0.1
    assert (events[0]["config"]["epochs"], events[0]["config"]["total_steps"]) == (1, 0)
