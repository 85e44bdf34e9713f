"""IsolatedTrainingSession: the same session in a worker process, for notebooks that want crash safety."""
from __future__ import annotations

import os
import signal
import time

import bullet_native as bn

TEXT = "The cat sat on the mat. The dog ran to the park. " * 200
TINY = {"tokenizer": "char", "vocab_size": 0, "hidden_size": 32, "num_layers": 1, "num_heads": 2, "max_seq_len": 16,
        "batch_size": 4, "warmup_steps": 2, "eval_every": 5, "eval_batches": 1, "sample_every": 0, "attention_every": 0}


def test_trains_exports_and_reports_like_the_in_process_session(tmp_path):
    with bn.IsolatedTrainingSession({**TINY, "total_steps": 10}, text=TEXT, output_dir=tmp_path) as session:
        assert session.pid != os.getpid()
        report = session.run(progress=False)
        assert report["reason"] == "completed" and report["step"] == 10
        verified = session.export(tmp_path / "m.bullet")
        assert verified["step"] == 10 and verified["bq4_perplexity"] > 1
        assert set(session.weights()) >= {"tok_embeddings.weight", "output_head.weight"}
    assert bn.inspect(tmp_path / "m.bullet")["header"]["vocab_size"] > 2


def test_a_killed_worker_ends_in_an_error_event_and_the_notebook_lives_on(tmp_path):
    session = bn.IsolatedTrainingSession({**TINY, "total_steps": 100_000}, text=TEXT, output_dir=tmp_path)
    session.start()
    deadline = time.monotonic() + 120
    while not any(e["type"] == "metrics" for e in session.poll(wait_ms=200)):
        assert time.monotonic() < deadline, f"no step within 120 s: {session.status()}"
    os.kill(session.pid, signal.SIGKILL)
    last = list(session.events(wait_ms=200))[-1]
    assert last["type"] == "error" and "SIGKILL" in last["message"]
    assert session.status()["state"] == "failed"
    seqs = [e["seq"] for e in session.poll(since=0)]
    assert seqs == list(range(1, len(seqs) + 1))
    session.close()
