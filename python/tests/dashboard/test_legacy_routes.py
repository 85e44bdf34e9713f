"""The legacy routes: POST /train, GET /logs, GET /download/{model_name}, end to end."""
from __future__ import annotations

import json

import bullet_native

from .conftest import assert_continuous, config, events_of, story_text


def test_train_logs_download(client, tmp_path):
    legacy_config = {k: v for k, v in config().items() if k not in ("hidden_size", "num_layers", "max_seq_len")}
    legacy_config.update({"embedding_dim": 32, "num_layers": 1, "max_seq_length": 16, "quantization": "BQ4"})
    r = client.post("/train", data={"model_config": json.dumps(legacy_config), "quantization": "BQ4"},
                    files={"training_text": ("my story.txt", story_text().encode())})
    assert r.status_code == 201, r.text
    started = r.json()
    assert started["model_name"].startswith("my_story-") and started["download"] == f"/download/{started['model_name']}"

    early = client.get(started["download"])
    assert early.status_code == 200 or "not built yet" in early.json()["detail"]

    events = events_of(client.get("/logs").text)
    assert_continuous(events)
    assert events[0]["config"]["hidden_size"] == 32 and events[-1]["type"] == "exported"

    download = client.get(started["download"])
    assert download.status_code == 200
    path = tmp_path / "downloaded.bullet"
    path.write_bytes(download.content)
    header = bullet_native.inspect(path)["header"]
    assert (header["hidden_size"], header["num_layers"], header["max_context"]) == (32, 1, 16)
    assert client.get(f"{started['download']}.bullet").content == download.content


def test_train_rejects_other_quantizations_and_bad_configs(client):
    text = {"training_text": ("t.txt", story_text().encode())}
    r = client.post("/train", data={"model_config": "{}", "quantization": "Q8"}, files=text)
    assert r.status_code == 422 and "BQ4" in r.json()["detail"]
    r = client.post("/train", data={"model_config": json.dumps({"embedding_dim": 100})}, files=text)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hidden_size"
    assert client.get("/logs").status_code == 404
