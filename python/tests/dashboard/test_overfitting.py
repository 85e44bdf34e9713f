"""A run whose validation text differs from what it trains on: validation loss rises while training loss falls, and the
session says so in an "overfitting" event (once), with the best validation loss and where it was."""
from __future__ import annotations

import random

from .conftest import config, story_text, wait_until


def test_a_run_that_memorizes_its_text_warns_once_about_overfitting(client):
    rng = random.Random(1)
    # Stories to train on; validation is letter soup the stories never show, so the better the model fits the
    # stories, the worse it does there.
    soup = " ".join("".join(rng.choice("qxzjkvwy") for _ in range(rng.randint(2, 7))) for _ in range(90))
    text = f"{story_text(30)} {soup}"
    run = config(total_steps=120, eval_every=10, eval_batches=4, sample_every=0, attention_every=0, learning_rate=0.01,
                 hidden_size=64, val_fraction=round(len(soup) / len(text), 3))
    r = client.post("/api/sessions", json={"text": text, "config": run, "auto_export": False, "start": True})
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    wait_until(lambda: client.get(f"/api/sessions/{session_id}").json()["state"] == "completed", what="the run to finish")
    events = client.get(f"/api/sessions/{session_id}/log", params={"types": "metrics,overfitting"}).json()
    warnings = [e for e in events if e["type"] == "overfitting"]
    assert len(warnings) == 1, warnings
    warning = warnings[0]
    evaluated = [(e["step"], e["val_loss"]) for e in events if e["type"] == "metrics" and e["val_loss"] is not None
                 and e["step"] <= warning["step"]]
    best_step, best = min(evaluated, key=lambda sv: sv[1])
    assert (warning["best_step"], warning["best_val_loss"]) == (best_step, best)
    assert warning["val_loss"] == evaluated[-1][1] > evaluated[-1 - warning["evaluations"]][1]
    assert warning["train_loss_now"] < warning["train_loss_before"]
