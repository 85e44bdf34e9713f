"""Jupyter support: HTML summaries (every text escaped), live training progress in a cell, weights as numpy arrays.

Nothing here computes model numbers: it formats what the native library reports and moves bytes.
"""
from __future__ import annotations

import html
import json
import os
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ._native import BulletError, Status

if TYPE_CHECKING:
    from .model import Model
    from .tokenizer import Tokenizer
    from .training import TrainingSession

_STYLE = ("font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;border-collapse:collapse;"
          "margin:4px 0")
_CELL = "padding:2px 10px 2px 0;text-align:left;vertical-align:top"

# safetensors dtype names → numpy dtype strings (little-endian, as the format requires).
_SAFETENSORS_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1", "I8": "i1"}


def escape(value: Any) -> str:
    """Text made safe for HTML (quotes too), so names, samples and prompts can never inject markup."""
    return html.escape(str(value), quote=True)


def format_number(value: Any) -> str:
    """Numbers for people: thousands separators, 4 significant digits for floats, sizes left to format_bytes."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def format_bytes(size: int | None) -> str:
    """A byte count as B, KB or MB (powers of 1024)."""
    if size is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def html_table(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    """A two-column table with an escaped title, labels and values (None values are left out)."""
    body = "".join(f"<tr><th style='{_CELL};font-weight:600'>{escape(k)}</th><td style='{_CELL}'>{escape(v)}</td></tr>"
                   for k, v in rows if v is not None)
    return f"<table style='{_STYLE}'><caption style='text-align:left;font-weight:700'>{escape(title)}</caption>{body}</table>"


class Report(dict):
    """A dict from the native library (inspect, build or export result) that shows itself as a table in Jupyter."""

    def _rows(self) -> list[tuple[str, Any]]:
        header = self.get("header", {})
        tokenizer = self.get("tokenizer", {})
        training = header.get("extra", {}).get("training_metrics", {}) if isinstance(header.get("extra"), dict) else {}
        verify = {**training, **{k: v for k, v in self.items() if k in _VERIFY_KEYS}}
        quant = self.get("quantization_error") or {}
        rows: list[tuple[str, Any]] = [
            ("path", self.get("path")),
            ("model", header.get("model_name")),
            ("dims", _dims(header) if header else None),
            ("parameters", format_number(self.get("parameters")) if "parameters" in self else None),
            ("quantization", header.get("quantization")),
            ("vocab", _vocab_text(tokenizer) if tokenizer else None),
            ("file size", format_bytes(self.get("file_size", self.get("bytes")))),
            ("quantization error (rel. RMSE)", format_number(quant.get("relative_rmse")) if quant else None),
        ]
        if "float_perplexity" in verify:
            rows.append(("val perplexity float → BQ4", f"{format_number(verify['float_perplexity'])} → "
                                                       f"{format_number(verify.get('bq4_perplexity'))}"))
            rows.append(("top-1 agreement", format_number(verify.get("top1_agreement"))))
        if self.get("warnings"):
            rows.append(("warnings", "; ".join(str(w) for w in self["warnings"])))
        return rows

    def _repr_html_(self) -> str:
        return html_table(".bullet", self._rows())


_VERIFY_KEYS = ("float_perplexity", "bq4_perplexity", "top1_agreement", "perplexity_ratio")


def _dims(header: dict[str, Any]) -> str:
    return (f"d={header.get('hidden_size')}, layers={header.get('num_layers')}, heads={header.get('num_heads')}, "
            f"context={header.get('max_context')}")


def _vocab_text(tokenizer: dict[str, Any]) -> str:
    first = "".join(t for t in tokenizer.get("first_tokens", [])[:12])
    return f"{tokenizer.get('vocab_size')} tokens, {tokenizer.get('merges')} merges (first: {first!r})"


def model_html(model: "Model") -> str:
    """The summary of a loaded model: name, dims, parameters, vocab, quantization, file size, runtime kernel."""
    if model._handle is None:
        return html_table("Model", [("state", "closed")])
    info = model.info
    header = info["header"]
    runtime = info.get("runtime", {})
    extra = header.get("extra")
    trained = extra.get("training_metrics") if isinstance(extra, dict) else None
    return html_table(f"Model {header.get('model_name', '')}", [
        ("dims", _dims(header)),
        ("parameters", format_number(info.get("parameters"))),
        ("vocab", _vocab_text(info.get("tokenizer", {}))),
        ("quantization", header.get("quantization")),
        ("file size", format_bytes(info.get("file_size"))),
        ("val perplexity float → BQ4", f"{format_number(trained.get('float_perplexity'))} → "
                                       f"{format_number(trained.get('bq4_perplexity'))}" if trained else None),
        ("runtime", f"{runtime.get('kernel')} kernel, {format_bytes(runtime.get('weight_bytes_per_token'))} of weights per token"),
        ("warnings", "; ".join(str(w) for w in info.get("warnings", [])) or None),
    ])


def tokenizer_html(tokenizer: "Tokenizer") -> str:
    """The summary of a tokenizer: mode, vocabulary size, merges, alphabet and a few tokens."""
    if tokenizer._handle is None:
        return html_table("Tokenizer", [("state", "closed")])
    info = tokenizer.info
    tokens = tokenizer.vocab()["tokens"]
    longest = sorted(tokens, key=len, reverse=True)[:8]
    return html_table("Tokenizer", [
        ("mode", info.get("mode")),
        ("vocab", format_number(info.get("vocab_size"))),
        ("merges", format_number(info.get("merges"))),
        ("alphabet", format_number(info.get("alphabet_size"))),
        ("longest tokens", ", ".join(repr(t) for t in longest)),
    ])


def session_html(session: "TrainingSession") -> str:
    """The summary of a training session: state, step, model dims and its last metrics."""
    if session._handle is None:
        return html_table("TrainingSession", [("state", "closed")])
    status = session.status()
    config = status.get("config", {})
    metrics = status.get("metrics") or {}
    return html_table("TrainingSession", [
        ("state", status.get("state")),
        ("step", f"{status.get('step')} / {status.get('total_steps')}"),
        ("model", f"{config.get('tokenizer')} vocab {config.get('vocab_size')}, d={config.get('hidden_size')}, "
                  f"layers={config.get('num_layers')}, heads={config.get('num_heads')}, context={config.get('max_seq_len')}"),
        ("train loss", format_number(metrics.get("train_loss")) if metrics else None),
        ("best val loss", format_number(status.get("best_val_loss"))),
        ("tokens/s", format_number(metrics.get("tokens_per_sec")) if metrics else None),
    ])


def loss_svg(train: Sequence[tuple[int, float]], val: Sequence[tuple[int, float]], width: int = 360, height: int = 120) -> str:
    """An inline SVG loss chart (train line, validation dots) that needs no plotting library or network."""
    points = list(train) + list(val)
    if not points:
        return ""
    x_max = max(s for s, _ in points) or 1
    y_lo, y_hi = min(v for _, v in points), max(v for _, v in points)
    span = (y_hi - y_lo) or 1.0

    def xy(step: int, value: float) -> str:
        return f"{4 + (width - 8) * step / x_max:.1f},{4 + (height - 8) * (y_hi - value) / span:.1f}"

    line = " ".join(xy(s, v) for s, v in train)
    dots = "".join(f"<circle cx='{xy(s, v).split(',')[0]}' cy='{xy(s, v).split(',')[1]}' r='2.5' fill='#f59e0b'/>"
                   for s, v in val)
    return (f"<svg width='{width}' height='{height}' style='background:#111827;border-radius:4px'>"
            f"<polyline fill='none' stroke='#60a5fa' stroke-width='1.5' points='{line}'/>{dots}"
            f"<text x='6' y='14' fill='#9ca3af' font-size='10'>loss {y_hi:.3f}</text>"
            f"<text x='6' y='{height - 6}' fill='#9ca3af' font-size='10'>{y_lo:.3f}</text></svg>")


class TrainingProgress:
    """What a running session reported so far, rendered as a progress bar, numbers, a loss curve and the last sample."""

    def __init__(self) -> None:
        self.train: list[tuple[int, float]] = []
        self.val: list[tuple[int, float]] = []
        self.last: dict[str, Any] = {}
        self.sample: dict[str, Any] | None = None
        self.total_steps: int | None = None
        self.reason: str | None = None
        self.error: str | None = None
        self.checkpoints: list[str] = []
        self.note: str | None = None

    def add(self, event: dict[str, Any]) -> None:
        """Takes one session event into account."""
        kind = event.get("type")
        if kind == "started":
            self.total_steps = event.get("total_steps")
        elif kind == "metrics":
            self.last = event
            self.total_steps = event.get("total_steps", self.total_steps)
            self.train.append((event["step"], event["train_loss"]))
            if event.get("val_loss") is not None:
                self.val.append((event["step"], event["val_loss"]))
        elif kind == "sample":
            self.sample = event
        elif kind == "checkpoint":
            self.checkpoints.append(event["path"])
        elif kind == "completed":
            self.reason = event.get("reason")
        elif kind == "error":
            self.reason, self.error = "failed", event.get("message")

    @property
    def step(self) -> int:
        """The last step reported."""
        return int(self.last.get("step", 0))

    def text(self) -> str:
        """One line for a terminal: step, loss, tokens/s, ETA."""
        m = self.last
        total = self.total_steps or 0
        line = (f"step {self.step}/{total}  loss {format_number(m.get('train_loss'))}"
                f"  val {format_number(self.val[-1][1] if self.val else None)}"
                f"  {format_number(m.get('tokens_per_sec'))} tok/s  ETA {_duration(m.get('eta_sec'))}")
        return line + (f"  [{self.reason}]" if self.reason else "") + (f"  {self.note}" if self.note else "")

    def html(self) -> str:
        """The progress panel as HTML."""
        m = self.last
        total = self.total_steps or 0
        fraction = min(1.0, self.step / total) if total else 0.0
        color = "#ef4444" if self.error else ("#22c55e" if self.reason else "#3b82f6")
        state = self.reason or "training"
        bar = (f"<div style='width:360px;height:10px;background:#374151;border-radius:5px;overflow:hidden'>"
               f"<div style='width:{fraction * 100:.1f}%;height:100%;background:{color}'></div></div>")
        numbers = (f"<div>{escape(state)} · step {self.step}/{total} · loss {escape(format_number(m.get('train_loss')))}"
                   f" · val {escape(format_number(self.val[-1][1] if self.val else None))}"
                   f" · {escape(format_number(m.get('tokens_per_sec')))} tok/s · ETA {escape(_duration(m.get('eta_sec')))}</div>")
        sample = ""
        if self.sample is not None:
            sample = (f"<div style='white-space:pre-wrap;max-width:600px;color:#6b7280'>step {self.sample['step']} sample: "
                      f"<b>{escape(self.sample.get('prompt', ''))}</b>{escape(self.sample.get('text', ''))}</div>")
        error = f"<div style='color:#ef4444'>{escape(self.error)}</div>" if self.error else ""
        note = f"<div>{escape(self.note)}</div>" if self.note else ""
        return (f"<div class='bullet-progress' style='font-family:ui-monospace,monospace;font-size:12px'>"
                f"{bar}{numbers}{loss_svg(self.train, self.val)}{sample}{note}{error}</div>")

    def _repr_html_(self) -> str:
        return self.html()


def _duration(seconds: Any) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(float(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class _Display:
    """Where progress goes: an updating display in IPython, a rewritten line in a terminal, or nowhere."""

    def __init__(self, enabled: bool, min_interval: float = 0.25):
        self.enabled = enabled
        self.min_interval = min_interval
        self.handle = None
        self.shown = 0.0
        if enabled and _in_ipython():
            from IPython.display import HTML, display
            self._html = HTML
            self.handle = display(HTML("<div>starting…</div>"), display_id=True)

    def show(self, progress: TrainingProgress, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self.shown < self.min_interval:
            return
        self.shown = now
        if self.handle is not None:
            self.handle.update(self._html(progress.html()))
        else:
            # Padding overwrites the remains of a longer previous line.
            sys.stdout.write("\r" + progress.text().ljust(100) + ("\n" if final else ""))
            sys.stdout.flush()


def _in_ipython() -> bool:
    """True inside an IPython kernel or shell (where display updates replace the cell's output in place)."""
    shell = sys.modules.get("IPython")
    return shell is not None and getattr(shell, "get_ipython", lambda: None)() is not None


def run_session(session: "TrainingSession", progress: bool = True, checkpoint: str | os.PathLike[str] | None = None,
                poll_ms: int = 200) -> Report:
    """Trains until the session ends, showing live progress; an interrupt (Ctrl-C, "interrupt kernel") stops it
    gracefully after the current step and saves a checkpoint (to ``checkpoint``, or the session's output folder).

    Returns a Report with reason, step, interrupted, checkpoint, first/last train loss, best val loss and history;
    raises BulletError when training failed. The native call waits at most ``poll_ms`` at a time, so the interrupt
    is seen within that.
    """
    state = TrainingProgress()
    display = _Display(progress)
    interrupted = False
    try:
        try:
            session.start()
        except BulletError:
            # Preparation may fail before start; its error event is then reported like any other failure.
            if session.status()["state"] != "failed":
                raise
        while state.reason is None:
            for event in session.poll(wait_ms=poll_ms):
                state.add(event)
            display.show(state)
    except KeyboardInterrupt:
        interrupted = True
        session.stop()
        # Drain to the terminal event: the current step finishes and the session reports "stopped".
        while state.reason is None:
            for event in session.poll(wait_ms=poll_ms):
                state.add(event)
    saved = None
    if interrupted and state.reason != "failed" and (checkpoint is not None or session.output_dir is not None):
        saved = session.checkpoint(checkpoint)
        state.checkpoints.append(saved)
        state.note = f"interrupted: stopped at step {state.step}, checkpoint saved to {saved}"
    elif interrupted:
        state.note = f"interrupted: stopped at step {state.step} (no checkpoint: give checkpoint= or output_dir)"
    display.show(state, final=True)
    if state.error is not None:
        raise BulletError(f"training failed: {state.error}", Status.INVALID_ARGUMENT)
    return TrainingRun({
        "reason": state.reason, "step": state.step, "total_steps": state.total_steps, "interrupted": interrupted,
        "checkpoint": saved, "error": state.error,
        "first_loss": state.train[0][1] if state.train else None,
        "last_loss": state.train[-1][1] if state.train else None,
        "best_val_loss": min((v for _, v in state.val), default=None),
        "history": {"train": state.train, "val": state.val},
        "sample": state.sample,
    }, state)


class TrainingRun(Report):
    """The outcome of TrainingSession.run: a dict (reason, step, losses, checkpoint, history) shown as the final progress panel."""

    def __init__(self, values: dict[str, Any], progress: TrainingProgress):
        super().__init__(values)
        self.progress = progress

    def _repr_html_(self) -> str:
        rows = [("outcome", f"{self['reason']}{' (interrupted)' if self['interrupted'] else ''}"),
                ("checkpoint", self["checkpoint"])]
        return self.progress.html() + html_table("TrainingSession.run", rows)


def read_safetensors(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Every tensor of a .safetensors file as a numpy array, by name (the file's own bytes, no copy of the math)."""
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    start = 8 + length
    arrays = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"{os.fspath(path)}: tensor {name} has dtype {entry['dtype']}, which numpy cannot hold")
        begin, end = entry["data_offsets"]
        arrays[name] = np.frombuffer(data, dtype=dtype, count=(end - begin) // np.dtype(dtype).itemsize,
                                     offset=start + begin).reshape(entry["shape"]).copy()
    return arrays


def session_weights(session: "TrainingSession") -> dict[str, Any]:
    """The session's current float weights as numpy arrays by .bullet tensor name (via a temporary checkpoint)."""
    with tempfile.TemporaryDirectory(prefix="bullet-weights-") as tmp:
        folder = session.checkpoint(os.path.join(tmp, "checkpoint"))
        return read_safetensors(os.path.join(folder, "model.safetensors"))
