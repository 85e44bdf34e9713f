"""The memory estimate against what a worker really holds: the peak resident memory of a worker that prepares, trains a
few steps and exports each preset stays within 30 % of the estimate (printed, so drift shows before it fails)."""
from __future__ import annotations

from pathlib import Path

import pytest

import bullet_native as bn
from bullet_native.config_check import validate_config

ROOT = Path(__file__).resolve().parents[2]
STORIES = ROOT / "python" / "bullet_dashboard" / "datasets" / "children_stories.txt"
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


@pytest.mark.parametrize("preset, text_file", [("tiny", STORIES), ("small", STORIES), ("shakespeare-char", SHAKESPEARE)])
def test_the_estimate_is_within_30_percent_of_the_workers_peak(tmp_path, preset, text_file):
    text = text_file.read_text(encoding="utf-8")
    config = {"preset": preset, "total_steps": 8, "eval_every": 8, "sample_every": 0, "attention_every": 0}
    estimate = validate_config(config, len(text.encode("utf-8")))["estimate"]["peak_bytes"]
    with bn.IsolatedTrainingSession(config, text=text, output_dir=tmp_path) as session:
        assert session.run(progress=False)["reason"] == "completed"
        session.export(tmp_path / "model.bullet")
        peak = session.memory()["peak_rss"]
    print(f"{preset}: estimate {estimate / 2**20:.0f} MB, measured peak {peak / 2**20:.0f} MB, ratio {estimate / peak:.2f}")
    assert 0.7 <= estimate / peak <= 1.3
