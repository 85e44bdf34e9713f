"""The training session binding: events, controls, errors, export, the train command."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bullet_native import BulletError
from bullet_native.training import TrainingSession, presets
from bullet_native.training_cli import main_train

TEXT = ("the cat sat on the mat. a dog ate the hat. some birds sing when morning comes, "
        "quick brown foxes jump over lazy dogs. ") * 25

TINY = {"preset": "tiny", "tokenizer": "char", "vocab_size": 0, "hidden_size": 32, "num_layers": 1, "max_seq_len": 16,
        "batch_size": 4, "total_steps": 12, "eval_every": 4, "eval_batches": 2, "sample_every": 6, "sample_length": 8,
        "attention_every": 12, "attention_probe": "the cat"}


def test_presets_include_the_shakespeare_char_recipe():
    recipe = presets()["shakespeare-char"]
    assert (recipe["tokenizer"], recipe["hidden_size"], recipe["num_layers"], recipe["max_seq_len"]) == ("char", 128, 4, 64)
    assert (recipe["batch_size"], recipe["learning_rate"], recipe["total_steps"], recipe["tied_head"]) == (12, 1e-3, 2000, False)


def test_a_session_streams_events_in_order_until_completed():
    with TrainingSession(TINY, text=TEXT) as session:
        session.start()
        events = list(session)
        assert events[0]["type"] == "started"
        # The library loaded libtorch itself, after its MKL shim and OpenMP setting (null would mean too late).
        compute = events[0]["compute"]
        assert compute["omp_wait_policy"] == os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
        with open("/proc/cpuinfo") as cpuinfo:
            amd = "AuthenticAMD" in cpuinfo.read()
        assert compute["mkl_intel_path"] == (amd and os.environ.get("BULLET_MKL_FORCE_INTEL") != "0")
        assert events[-1]["type"] == "completed"
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        metrics = [e for e in events if e["type"] == "metrics"]
        assert [m["step"] for m in metrics] == list(range(1, 13))
        assert sum(m["val_loss"] is not None for m in metrics) == 3
        assert [e["type"] for e in events].count("sample") == 2
        attention = next(e for e in events if e["type"] == "attention")
        assert attention["tokens"] == list("the cat")
        assert len(attention["maps"]) == 1 and len(attention["maps"][0]) == 2
        assert session.status()["state"] == "completed"
        assert session.poll(since=seqs[-2]) == [events[-1]]


def test_train_step_and_export_verify_the_bullet(tmp_path):
    with TrainingSession(TINY, text=TEXT, output_dir=tmp_path) as session:
        first = session.train_step()
        assert first["step"] == 1 and first["train_loss"] > 0
        session.step(11)
        end = [e for e in session if e["type"] == "completed"]
        assert end and end[0]["step"] == 12
        result = session.export(tmp_path / "tiny.bullet", model_name="tiny", float_dir=tmp_path / "float")
        print(result)
        assert (tmp_path / "tiny.bullet").stat().st_size == result["bytes"]
        assert 0.9 < result["perplexity_ratio"] < 1.1
        assert (tmp_path / "float" / "model.safetensors").exists()
        assert (tmp_path / "tiny.bullet").read_bytes().startswith(b'{\n  "bullet_version"')


def test_bad_config_and_bad_data_are_clear_errors():
    with pytest.raises(BulletError, match="hidden_size 100 must be a positive multiple of 32"):
        TrainingSession({**TINY, "hidden_size": 100}, text=TEXT)
    with pytest.raises(BulletError, match="empty"):
        TrainingSession(TINY, text="")
    with TrainingSession(TINY, text="too short") as session:
        events = list(session)
        assert events[-1]["type"] == "error" and "too short" in events[-1]["message"]
        assert session.status()["state"] == "failed"
        with pytest.raises(BulletError, match="failed"):
            session.start()


# A letter of 100 words, written for these tests.
LETTER = (Path(__file__).parent / "data" / "letter-100-words.txt").read_text(encoding="utf-8").strip()


def test_a_100_word_text_trains_with_default_settings():
    with TrainingSession(text=LETTER) as session:
        session.start()
        events = list(session)
    started, completed = events[0], events[-1]
    assert started["type"] == "started" and started["notes"] and started["config"]["tokenizer"] == "char"
    assert completed["type"] == "completed" and completed["reason"] == "completed"
    assert any(e["type"] == "sample" and e["text"] for e in events)
    metrics = [m for m in events if m["type"] == "metrics"]
    assert metrics and all(m["train_bpc"] > 0 and m["val_loss"] is None for m in metrics), "it all trains: no validation part"
    with TrainingSession({"val_fraction": 0.2, "total_steps": 30}, text=LETTER) as session:
        session.start()
        val = [m for m in session if m["type"] == "metrics" and m["val_loss"] is not None]
    assert val and all(m["val_bpc"] > 0 and m["val_bpb"] > 0 for m in val), "a validation part the user asks for is kept"


def test_epochs_without_steps_train_that_many_epochs():
    config = {k: v for k, v in TINY.items() if k != "total_steps"} | {"epochs": 1}
    with TrainingSession(config, text=TEXT) as session:
        session.start()
        events = list(session)
    assert events[-1]["type"] == "completed"
    assert abs([e for e in events if e["type"] == "metrics"][-1]["epoch"] - 1) <= 0.1
    assert "epochs 1 given: the tiny preset's total_steps 600 is not used" in events[0]["notes"]


def test_closed_session_is_an_error():
    session = TrainingSession(TINY, text=TEXT)
    session.close()
    with pytest.raises(BulletError, match="closed"):
        session.start()


def test_train_command_prints_progress_and_verification(tmp_path, capsys):
    data = tmp_path / "text.txt"
    data.write_text(TEXT)
    out = tmp_path / "cli.bullet"
    code = main_train(["--preset", "tiny", "--data", str(data), "--out", str(out), "--config",
                       '{"tokenizer": "char", "vocab_size": 0, "hidden_size": 32, "num_layers": 1, "max_seq_len": 16, '
                       '"batch_size": 4, "eval_every": 5, "eval_batches": 2}', "--steps", "10"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "step 5/10" in printed and "step 10/10" in printed and "tok/s" in printed
    assert "top-1 agreement" in printed and out.exists()


def test_train_command_with_a_time_budget_says_what_it_chose(tmp_path, capsys):
    data = tmp_path / "text.txt"
    data.write_text(TEXT)
    out = tmp_path / "budget.bullet"
    code = main_train(["--data", str(data), "--out", str(out), "--time-budget", "3", "--config",
                       '{"hidden_size": 32, "num_layers": 1, "max_seq_len": 16, "batch_size": 4}'])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "note: time_budget_s 3 given" not in printed, "no preset: nothing was replaced"
    assert "note: shape chosen for" in printed and "for 3 s (about" in printed
    assert "bits/char" in printed and out.exists()
