"""Notebook support: HTML summaries (content and escaping), interrupting a run, weights as arrays, the quickstart."""
from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bullet_native import BulletError, Model, Report, Tokenizer, TrainingSession, build_bullet, inspect, read_safetensors
from bullet_native.notebook import TrainingProgress, escape, html_table

from conftest import REPO

TEXT = ("the cat sat on the mat. a dog ate the hat. some birds sing when morning comes, "
        "quick brown foxes jump over lazy dogs. ") * 25

TINY = {"preset": "tiny", "tokenizer": "char", "vocab_size": 0, "hidden_size": 32, "num_layers": 1, "max_seq_len": 16,
        "batch_size": 4, "total_steps": 12, "eval_every": 4, "eval_batches": 2, "sample_every": 6, "sample_length": 8,
        "attention_every": 12, "attention_probe": "the cat"}

EVIL = "<script>alert('x')</script>&"


def test_escape_covers_markup_and_quotes():
    assert escape(EVIL) == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;"
    table = html_table(EVIL, [(EVIL, EVIL), ("left out", None)])
    assert "<script>" not in table and table.count("&lt;script&gt;") == 3 and "left out" not in table


def test_model_and_report_html_show_numbers_and_escape_the_name(npy_folder: Path, tmp_path: Path):
    config = json.loads((npy_folder / "config.json").read_text())
    (npy_folder / "config.json").write_text(json.dumps({**config, "model_name": EVIL}))
    out = tmp_path / "evil.bullet"
    report = build_bullet(npy_folder, out)
    assert isinstance(report, Report) and report["header"]["model_name"] == EVIL
    built = report._repr_html_()
    assert "<script>" not in built and "&lt;script&gt;" in built
    assert "d=32, layers=1, heads=2, context=16" in built and "quantization error (rel. RMSE)" in built
    assert f"{report['quantization_error']['relative_rmse']:.4g}" in built

    inspected = inspect(out)._repr_html_()
    assert "<script>" not in inspected and "BQ4" in inspected and "20 tokens" in inspected

    with Model(out) as model:
        shown = model._repr_html_()
        assert "<script>" not in shown and "&lt;script&gt;" in shown
        assert "d=32, layers=1, heads=2, context=16" in shown and f"{model.info['parameters']:,}" in shown
        assert repr(model).startswith("Model(\"<script>") or repr(model).startswith("Model('<script>")
    assert "closed" in model._repr_html_()


def test_tokenizer_html_escapes_tokens():
    with Tokenizer.train("<b>bold</b> <b>bold</b> & more <b> " * 20, vocab_size=64) as tokenizer:
        shown = tokenizer._repr_html_()
        assert "<b>" not in shown and "&lt;" in shown
        assert f"<td style='padding:2px 10px 2px 0;text-align:left;vertical-align:top'>{tokenizer.vocab_size}</td>" in shown
        assert "bpe" in shown


def test_progress_panel_escapes_samples_and_tracks_losses():
    progress = TrainingProgress()
    progress.add({"type": "started", "total_steps": 4})
    for step, loss in [(1, 3.0), (2, 2.5)]:
        progress.add({"type": "metrics", "step": step, "total_steps": 4, "train_loss": loss, "val_loss": None,
                      "tokens_per_sec": 1234.5, "eta_sec": 65})
    progress.add({"type": "metrics", "step": 3, "total_steps": 4, "train_loss": 2.0, "val_loss": 2.2,
                  "tokens_per_sec": 1500.0, "eta_sec": 5})
    progress.add({"type": "sample", "step": 3, "prompt": "<i>", "text": EVIL})
    shown = progress.html()
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "&lt;i&gt;" in shown
    assert "step 3/4" in shown and "loss 2" in shown and "val 2.2" in shown and "1,500 tok/s" in shown
    assert "width:75.0%" in shown and "<polyline" in shown and shown.count("<circle") == 1
    assert progress.text().startswith("step 3/4  loss 2  val 2.2  1,500 tok/s  ETA 0:05")


def test_session_html_and_run_without_progress(tmp_path: Path, capsys):
    with TrainingSession(TINY, text=TEXT, output_dir=tmp_path) as session:
        assert "state" in session._repr_html_()
        run = session.run(progress=False)
        assert capsys.readouterr().out == ""
        assert (run["reason"], run["step"], run["interrupted"], run["checkpoint"]) == ("completed", 12, False, None)
        assert run["last_loss"] < run["first_loss"] and len(run["history"]["val"]) == 3
        shown = session._repr_html_()
        assert "completed" in shown and "12 / 12" in shown and "d=32, layers=1" in shown
        assert repr(session) == "TrainingSession(state='completed', step=12/12)"
        assert "completed" in run._repr_html_()


def test_a_failed_run_raises_with_the_native_message():
    with TrainingSession(TINY, text="too short") as session:
        with pytest.raises(BulletError, match="training failed: .*too short"):
            session.run(progress=False)


def test_terminal_progress_prints_a_final_line(tmp_path: Path, capsys):
    with TrainingSession(TINY, text=TEXT) as session:
        session.run(progress=True)
    printed = capsys.readouterr().out
    assert printed.endswith("\n") and "step 12/12" in printed and "[completed]" in printed


def test_an_interrupt_stops_the_run_and_keeps_a_checkpoint(tmp_path: Path):
    """A kernel interrupt is SIGINT delivered to the main thread; here another thread sends it mid-training."""
    config = {**TINY, "total_steps": 100_000, "sample_every": 0, "attention_every": 0}
    # Python's own handler is what turns SIGINT into KeyboardInterrupt in a kernel; an earlier test in the same
    # process (an event loop) may have left another one installed.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    sender_errors: list[BaseException] = []
    with TrainingSession(config, text=TEXT, output_dir=tmp_path) as session:
        def interrupt_after_some_steps():
            try:
                while session.status()["step"] < 5:
                    time.sleep(0.02)
                os.kill(os.getpid(), signal.SIGINT)
            except BaseException as error:  # surfaced by the assertion below instead of dying silently
                sender_errors.append(error)

        sender = threading.Thread(target=interrupt_after_some_steps, daemon=True)
        sender.start()
        try:
            run = session.run(progress=False)
        finally:
            signal.signal(signal.SIGINT, previous)
        sender.join()
        assert sender_errors == []
        status = session.status()
        assert run["interrupted"] and run["reason"] == "stopped" and status["state"] == "stopped"
        assert 5 <= run["step"] == status["step"] < 100_000
        checkpoint = Path(run["checkpoint"])
        assert checkpoint == tmp_path / "checkpoints" / f"step-{run['step']:07d}"
        state = json.loads((checkpoint / "state.json").read_text())
        assert state["step"] == run["step"]
        saved = read_safetensors(checkpoint / "model.safetensors")
        live = session.weights()
        assert saved.keys() == live.keys()
        assert all(np.array_equal(saved[name], live[name]) for name in saved)
        assert f"checkpoint saved to {checkpoint}" in run._repr_html_()
        # What was learned survives: the session still exports a verified model.
        result = session.export(tmp_path / "interrupted.bullet")
        assert 0.9 < result["perplexity_ratio"] < 1.1

    with TrainingSession({}, text=TEXT, resume_from=checkpoint) as resumed:
        started = resumed.poll(wait_ms=10_000)[0]
        assert started["type"] == "started" and started["step"] == run["step"]


def test_weights_are_arrays_that_pack_back_into_a_bullet(tmp_path: Path):
    with TrainingSession(TINY, text=TEXT) as session:
        session.run(progress=False)
        weights = session.weights()
        exported = session.export(tmp_path / "exported.bullet", model_name="w")
    assert weights["tok_embeddings.weight"].dtype == np.float32
    assert weights["tok_embeddings.weight"].shape == (exported_vocab(tmp_path / "exported.bullet"), 32)
    assert weights["layers.0.ffn.w1.weight"].shape == (128, 32)
    folder = tmp_path / "npy"
    folder.mkdir()
    for name, array in weights.items():
        np.save(folder / f"{name}.npy", array)
    header = inspect(tmp_path / "exported.bullet")["header"]
    (folder / "config.json").write_text(json.dumps({k: header[k] for k in
                                                    ("hidden_size", "num_layers", "num_heads", "vocab_size", "max_context")}))
    with Tokenizer.load(tmp_path / "exported.bullet") as tokenizer:
        tokenizer.save(folder / "tokenizer.json")
    build_bullet(folder, tmp_path / "packed.bullet")
    with Model(tmp_path / "packed.bullet") as packed, Model(tmp_path / "exported.bullet") as original:
        ids = np.array([1, 2, 3], dtype=np.int32)
        assert np.argmax(packed.logits(ids)) == np.argmax(original.logits(ids))
        trained = original.info["header"]["extra"]["training_metrics"]
        assert f"val perplexity float → BQ4</th><td style='padding:2px 10px 2px 0;text-align:left;vertical-align:top'>" \
               f"{trained['float_perplexity']:.4g} → {trained['bq4_perplexity']:.4g}</td>" in original._repr_html_()
        assert "val perplexity" not in packed._repr_html_()


def exported_vocab(path: Path) -> int:
    return inspect(path)["header"]["vocab_size"]


def test_read_safetensors_rejects_dtypes_numpy_cannot_hold(tmp_path: Path):
    header = json.dumps({"w": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}).encode()
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0\0")
    with pytest.raises(ValueError, match="BF16"):
        read_safetensors(path)


QUICKSTART = REPO / "examples" / "quickstart.ipynb"


@pytest.fixture
def kernel_name(monkeypatch) -> str:
    """The kernel the quickstart's metadata names, as ./build.sh registered it inside this checkout's .venv.

    That registration is searched first, as `./build.sh notebook` does, so the one for the user (which another
    checkout on this machine may have made last) does not shadow it.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    monkeypatch.setenv("JUPYTER_PATH", str(REPO / ".venv" / "share" / "jupyter"))
    name = json.loads(QUICKSTART.read_text(encoding="utf-8"))["metadata"]["kernelspec"]["name"]
    spec = KernelSpecManager().get_kernel_spec(name)
    assert (name, spec.display_name) == ("bullet-native", "Python (bullet_native)")
    assert spec.argv[0] == str(REPO / ".venv" / "bin" / "python"), f"{spec.resource_dir}: run ./build.sh in this checkout"
    return name


def test_interrupting_a_real_kernel_stops_training_and_keeps_the_model(kernel_name: str, tmp_path: Path):
    from jupyter_client.manager import start_new_kernel

    config = {**TINY, "total_steps": 100_000}
    manager, client = start_new_kernel(kernel_name=kernel_name, cwd=str(tmp_path))
    try:
        client.execute(f"""
import bullet_native as bn
session = bn.TrainingSession({config!r}, text={TEXT!r}, output_dir={str(tmp_path / "out")!r})
run = session.run()
print("RESULT", run["interrupted"], run["reason"], run["checkpoint"] is not None)
""")
        interrupted = False
        printed = ""
        display_ids = {"display_data": set(), "update_display_data": set()}
        while True:
            message = client.get_iopub_msg(timeout=120)
            kind, content = message["msg_type"], message["content"]
            if kind in display_ids:
                display_ids[kind].add(content["transient"]["display_id"])
                # HTML for Jupyter, the same numbers as text for front ends that show no HTML.
                assert "bullet-progress" in content["data"]["text/html"] or "starting" in content["data"]["text/html"]
                assert content["data"]["text/plain"].startswith(("step ", "starting"))
            if kind in display_ids and not interrupted:
                shown = re.search(r"step (\d+)/", content["data"].get("text/html", ""))
                if shown and int(shown.group(1)) >= 5:
                    manager.interrupt_kernel()  # what Jupyter's "interrupt kernel" button does: SIGINT to the kernel
                    interrupted = True
            elif kind == "stream":
                printed += content["text"]
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle" and message["parent_header"].get("msg_type") == "execute_request":
                break
        assert interrupted and "RESULT True stopped True" in printed
        # One output, shown once and then updated in place.
        assert len(display_ids["display_data"]) == 1 and display_ids["update_display_data"] == display_ids["display_data"]
        # The kernel lives on and so does the model: it still exports.
        after: list[str] = []
        reply = client.execute_interactive(f"print(session.export({str(tmp_path / 'after.bullet')!r})['perplexity_ratio'] < 1.1)",
                                           timeout=120,
                                           output_hook=lambda m: after.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok" and "".join(after).strip() == "True"
        assert inspect(tmp_path / "after.bullet")["file_size"] == (tmp_path / "after.bullet").stat().st_size
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_quickstart_notebook_runs_top_to_bottom(kernel_name: str, tmp_path: Path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(QUICKSTART, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "commit it with outputs cleared"
    work = tmp_path / "run"
    work.mkdir()
    # No kernel_name: the client starts the kernel the metadata names, as Jupyter does when it opens the file.
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(work)}}).execute()

    def text_of(cell) -> str:
        return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")

    def html_of(cell) -> str:
        return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs if "data" in o)

    cells = [c for c in notebook.cells if c.cell_type == "code"]
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    printed = "".join(text_of(c) for c in cells)

    first, last = map(float, printed.split("train loss ")[1].split(" in ")[0].split(" -> "))
    assert last < first - 0.3
    training_cell = next(c for c in cells if "session.run()" in c.source)
    panel = html_of(training_cell)
    assert "bullet-progress" in panel and "step 80/80" in panel and "<polyline" in panel
    # The live panel is one output updated in place (the client applies each update to it), with a text twin.
    displays = [o for o in training_cell.outputs if o.output_type == "display_data"]
    assert len(displays) == 1 and displays[0].data["text/plain"].startswith("step 80/80")
    assert "[completed]" in displays[0].data["text/plain"] and "sample: " in displays[0].data["text/plain"]

    out = work / "quickstart-out"
    assert inspect(out / "quickstart.bullet")["header"]["model_name"] == "quickstart"
    assert "inspect ok: quickstart 21 tensors" in printed
    assert "val perplexity float → BQ4" in html_of(next(c for c in cells if "session.export" in c.source))

    generated = eval(printed.split("GENERATED: ")[1].split("\n")[0])
    assert len(generated) >= 20 and generated.strip()
    assert "attention (2, 2, " in printed and (out / "attention.png").stat().st_size > 10_000
    packed_line = next(line for line in printed.splitlines() if line.startswith("packed "))
    packed, exported = (float(x) for x in packed_line.split("perplexity packed ")[1].split(" vs exported "))
    assert abs(packed - exported) / exported < 0.05
    assert inspect(out / "packed.bullet")["tensor_count"] == 21


def test_every_example_in_docs_python_md_runs(tmp_path: Path, monkeypatch):
    """docs/python.md promises its python blocks run in order in one session; hold it to that."""
    text = (REPO / "docs" / "python.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]
    assert len(blocks) >= 35
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_python_md"}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"docs/python.md block {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"docs/python.md block {number} failed:\n{block}") from error
    assert namespace["result"]["reason"] == "completed" and (tmp_path / "packed.bullet").exists()
