"""How results look in Jupyter and in a terminal: HTML tables (every text escaped), the live training panel, numbers.

This module imports nothing from the package: it formats the plain dicts and events the native library returns, so
every other module can use it. Nothing here computes model numbers.
"""
from __future__ import annotations

import html
import sys
import time
from typing import Any, Iterable, Sequence

_STYLE = ("font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;border-collapse:collapse;"
          "margin:4px 0")
_CELL = "padding:2px 10px 2px 0;text-align:left;vertical-align:top"

# The export's verification of the BQ4 file against the float model, as shown in a row each:
# (label, key of the float model's number, key of the BQ4 file's number).
VERIFICATION_PAIRS = [
    ("val perplexity float → BQ4", "float_perplexity", "bq4_perplexity"),
    ("val bits per character float → BQ4", "float_bpc", "bq4_bpc"),
]


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


def closed_html(kind: str) -> str:
    """The summary of an object whose native handle is freed."""
    return html_table(kind, [("state", "closed")])


def _dims(header: dict[str, Any]) -> str:
    return (f"d={header.get('hidden_size')}, layers={header.get('num_layers')}, heads={header.get('num_heads')}, "
            f"context={header.get('max_context')}")


def _vocab_text(tokenizer: dict[str, Any]) -> str:
    first = "".join(t for t in tokenizer.get("first_tokens", [])[:12])
    return f"{tokenizer.get('vocab_size')} tokens, {tokenizer.get('merges')} merges (first: {first!r})"


def _training_metrics(header: dict[str, Any]) -> dict[str, Any]:
    """The verification numbers an exported file carries in its header (empty for files packed from elsewhere)."""
    extra = header.get("extra")
    metrics = extra.get("training_metrics") if isinstance(extra, dict) else None
    return metrics if isinstance(metrics, dict) else {}


def verification_rows(metrics: dict[str, Any]) -> list[tuple[str, Any]]:
    """Rows "float → BQ4" for each verification number present, and the top-1 agreement."""
    rows: list[tuple[str, Any]] = [(label, f"{format_number(metrics[float_key])} → {format_number(metrics.get(bq4_key))}")
                                   for label, float_key, bq4_key in VERIFICATION_PAIRS if float_key in metrics]
    if "top1_agreement" in metrics:
        rows.append(("top-1 agreement", format_number(metrics["top1_agreement"])))
    return rows


def report_html(report: dict[str, Any]) -> str:
    """An inspect, build or export result as a table: file, dims, parameters, vocab, size, BQ4 error, verification."""
    header = report.get("header", {})
    tokenizer = report.get("tokenizer", {})
    quant = report.get("quantization_error") or {}
    rows: list[tuple[str, Any]] = [
        ("path", report.get("path")),
        ("model", header.get("model_name")),
        ("dims", _dims(header) if header else None),
        ("parameters", format_number(report.get("parameters")) if "parameters" in report else None),
        ("quantization", header.get("quantization")),
        ("vocab", _vocab_text(tokenizer) if tokenizer else None),
        ("file size", format_bytes(report.get("file_size", report.get("bytes")))),
        ("quantization error (rel. RMSE)", format_number(quant.get("relative_rmse")) if quant else None),
        # An export report holds the numbers itself; an inspected file carries them in its header.
        *verification_rows({**_training_metrics(header), **report}),
    ]
    if report.get("warnings"):
        rows.append(("warnings", "; ".join(str(w) for w in report["warnings"])))
    return html_table(".bullet", rows)


def model_html(info: dict[str, Any]) -> str:
    """The summary of a loaded model (its info): name, dims, parameters, vocab, quantization, size, runtime kernel."""
    header = info["header"]
    runtime = info.get("runtime", {})
    return html_table(f"Model {header.get('model_name', '')}", [
        ("dims", _dims(header)),
        ("parameters", format_number(info.get("parameters"))),
        ("vocab", _vocab_text(info.get("tokenizer", {}))),
        ("quantization", header.get("quantization")),
        ("file size", format_bytes(info.get("file_size"))),
        *verification_rows(_training_metrics(header)),
        ("runtime", f"{runtime.get('kernel')} kernel, {format_bytes(runtime.get('weight_bytes_per_token'))} of weights per token"),
        ("warnings", "; ".join(str(w) for w in info.get("warnings", [])) or None),
    ])


def tokenizer_html(info: dict[str, Any], tokens: Sequence[str]) -> str:
    """The summary of a tokenizer (its info and tokens): mode, vocabulary size, merges, alphabet, longest tokens."""
    longest = sorted(tokens, key=len, reverse=True)[:8]
    return html_table("Tokenizer", [
        ("mode", info.get("mode")),
        ("vocab", format_number(info.get("vocab_size"))),
        ("merges", format_number(info.get("merges"))),
        ("alphabet", format_number(info.get("alphabet_size"))),
        ("longest tokens", ", ".join(repr(t) for t in longest)),
    ])


def session_html(status: dict[str, Any]) -> str:
    """The summary of a training session (its status): state, step, model dims and its last metrics."""
    config = status.get("config", {})
    metrics = status.get("metrics") or {}
    return html_table("TrainingSession", [
        ("state", status.get("state")),
        ("step", f"{format_number(status.get('step'))} / {format_number(status.get('total_steps'))}"),
        ("model", f"{config.get('tokenizer')} vocab {config.get('vocab_size')}, d={config.get('hidden_size')}, "
                  f"layers={config.get('num_layers')}, heads={config.get('num_heads')}, context={config.get('max_seq_len')}"),
        ("train loss", format_number(metrics.get("train_loss")) if metrics else None),
        ("best val loss", format_number(status.get("best_val_loss"))),
        ("best val bits per character", format_number(status.get("best_val_bpc"))),
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

    def plain(self) -> str:
        """The panel as plain text, for front ends that show no HTML: the line of text(), the last sample, the error."""
        lines = [self.text()]
        if self.sample is not None:
            lines.append(f"step {self.sample['step']} sample: {self.sample.get('prompt', '')}{self.sample.get('text', '')}")
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)

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


class ProgressDisplay:
    """Where live progress goes: one output updated in place in a Jupyter kernel (Notebook, JupyterLab, VS Code,
    Colab), a rewritten line elsewhere (a terminal, IPython in a terminal), or nowhere.

    In a kernel every update carries the panel as HTML and as plain text in one bundle, so a front end that shows
    no HTML still shows the numbers.
    """

    def __init__(self, enabled: bool, min_interval: float = 0.25):
        self.enabled = enabled
        self.min_interval = min_interval
        self.shown = 0.0
        self.handle = None
        if enabled and in_kernel():
            from IPython.display import display

            self.handle = display({"text/plain": "starting…", "text/html": "<div>starting…</div>"}, raw=True,
                                  display_id=True)

    def show(self, progress: "TrainingProgress", final: bool = False) -> None:
        """Shows the progress, at most once per min_interval unless it is the final state."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self.shown < self.min_interval:
            return
        self.shown = now
        if self.handle is not None:
            self.handle.update({"text/plain": progress.plain(), "text/html": progress.html()}, raw=True)
        else:
            # Padding overwrites the remains of a longer previous line.
            sys.stdout.write("\r" + progress.text().ljust(100) + ("\n" if final else ""))
            sys.stdout.flush()


def in_kernel() -> bool:
    """True inside a Jupyter kernel, whose front end replaces a display's output in place when it is updated."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def run_html(outcome: dict[str, Any], progress: "TrainingProgress") -> str:
    """A finished run: its last progress panel, how it ended and where its checkpoint went."""
    rows = [("outcome", f"{outcome['reason']}{' (interrupted)' if outcome['interrupted'] else ''}"),
            ("checkpoint", outcome["checkpoint"])]
    return progress.html() + html_table("TrainingSession.run", rows)
