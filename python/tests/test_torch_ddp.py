"""examples/train_ddp.py under torchrun: 2 CPU processes (gloo) train on different windows, end with identical weights,
and rank 0's export packs into a .bullet that our runtime loads and generates from."""
from __future__ import annotations

import hashlib
import json
import socket
import subprocess

import numpy as np

import bullet_native as bn
from conftest import REPO
from torch_support import child_env, torch_python  # noqa: F401  (torch_python is a fixture)

TINY = ["--hidden-size", "32", "--layers", "1", "--heads", "2", "--context", "32", "--batch-size", "4",
        "--steps", "8", "--eval-every", "4", "--warmup", "2", "--lr", "3e-3"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_gloo_processes_train_one_model_that_packs_into_bullet(torch_python, tmp_path):
    text = (REPO / "python" / "bullet_dashboard" / "datasets" / "children_stories.txt").read_text(encoding="utf-8")[:30000]
    (tmp_path / "text.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    # --redirects/--tee 2: Debian's torch 1.13 on Python 3.11 fails on torchrun's default "0" (an enum change in 3.11).
    command = [torch_python, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(free_port()), "--redirects", "2", "--tee", "2", "--log_dir", str(tmp_path / "logs"),
               str(REPO / "examples" / "train_ddp.py"), "--text", str(tmp_path / "text.txt"), "--out", str(out),
               "--log-ranks", *TINY]
    done = subprocess.run(command, cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    print(summary)

    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    seen = [[i for step in r["windows"] for i in step] for r in ranks]
    assert len(seen[0]) == len(seen[1]) == 8 * 4
    assert not set(seen[0]) & set(seen[1]), "each rank trains on its own share of the windows"
    assert ranks[0]["weights_sha256"] == ranks[1]["weights_sha256"], "DDP kept the weights identical"

    export = out / "final"
    digest = hashlib.sha256()
    config = json.loads((export / "config.json").read_text())
    names = ["tok_embeddings.weight"] + [f"layers.0.{s}" for s in (
        "norm.attn.weight", "attention.query.weight", "attention.key.weight", "attention.value.weight",
        "attention.output.weight", "norm.ffn.weight", "ffn.w1.weight", "ffn.w3.weight", "ffn.w2.weight")] \
        + ["final_layernorm.weight", "output_head.weight"]
    for name in names:
        digest.update(np.load(export / f"{name}.npy").astype(np.float32).tobytes())
    assert digest.hexdigest() == ranks[0]["weights_sha256"], "rank 0 exported the weights both ranks ended with"

    assert summary["processes"] == 2 and summary["steps"] == 8 and summary["tokens_per_second"] > 0
    assert 0.9 < summary["perplexity_ratio"] < 1.1
    rebuilt = bn.build_bullet(export, tmp_path / "rebuilt.bullet")
    assert rebuilt["header"]["hidden_size"] == 32 and rebuilt["header"]["vocab_size"] == config["vocab_size"]
    with bn.Model(out / "model.bullet") as model:
        generated = model.generate("Once upon a time", max_tokens=24, seed=3)
    assert generated["tokens"] and len(generated["text"]) > 0
