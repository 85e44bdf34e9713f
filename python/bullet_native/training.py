"""Training sessions: a native thread trains a model while Python controls it, pulls its events and shows its progress."""
from __future__ import annotations

import ctypes
import os
import tempfile
from typing import Any, Iterator

from ._native import (I32, I64, OUT_BUF, OUT_LEN, STR, BulletError, NativeObject, Status, call, call_json, encode_json,
                      encode_str, register)
from .notebook import ProgressDisplay, TrainingProgress, closed_html, session_html
from .report import Report, TrainingRun
from .safetensors_file import read_safetensors

register({
    "bullet_session_create": (I32, [STR, STR, ctypes.POINTER(ctypes.c_int64)]),
    "bullet_session_start": (I32, [I64]),
    "bullet_session_pause": (I32, [I64]),
    "bullet_session_resume": (I32, [I64]),
    "bullet_session_stop": (I32, [I64]),
    "bullet_session_step": (I32, [I64, I64]),
    "bullet_session_speed": (I32, [I64, ctypes.c_double]),
    "bullet_train_step": (I32, [I64, OUT_BUF, OUT_LEN]),
    "bullet_session_poll_events": (I32, [I64, I64, I32, OUT_BUF, OUT_LEN]),
    "bullet_session_status": (I32, [I64, OUT_BUF, OUT_LEN]),
    "bullet_session_checkpoint": (I32, [I64, STR, OUT_BUF, OUT_LEN]),
    "bullet_session_export": (I32, [I64, STR, OUT_BUF, OUT_LEN]),
    "bullet_train_presets": (I32, [OUT_BUF, OUT_LEN]),
    "bullet_libtorch_loaded": (I32, [OUT_BUF, OUT_LEN]),
    "bullet_session_threads": (I32, [I64, I32]),
    "bullet_session_attention": (I32, [I64, STR, OUT_BUF, OUT_LEN]),
    "bullet_session_states": (I32, [OUT_BUF, OUT_LEN]),
})

# Events after which a session trains no more.
TERMINAL_EVENTS = ("completed", "error")


def presets() -> dict[str, dict[str, Any]]:
    """Every training preset's full config, by name (tiny, small, medium, shakespeare-char)."""
    return call_json("bullet_train_presets")


def native_session_states() -> list[dict[str, Any]]:
    """Every session state as the native library declares it: name, whether it is final, who sets it."""
    return call_json("bullet_session_states")


def libtorch_loaded() -> bool:
    """True once the trainer has loaded its libtorch into this process (then PyTorch must not be imported here)."""
    return bool(call_json("bullet_libtorch_loaded")["loaded"])


class FollowsEvents:
    """Iteration over a session's events through its poll(): shared by the in-process and the isolated session."""

    def events(self, wait_ms: int = 500) -> Iterator[dict[str, Any]]:
        """Yields events as they come, ending after a completed or error event."""
        while True:
            for event in self.poll(wait_ms=wait_ms):
                yield event
                if event["type"] in TERMINAL_EVENTS:
                    return

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.events()


class TrainingSession(FollowsEvents, NativeObject):
    """A training run owned by the native library: control it, pull its events, checkpoint and export it.

    ``config`` is a dict of TrainConfig keys (``{"preset": "tiny", ...}`` starts from a preset). Give the text
    as ``text`` or ``text_path``. With ``events_path`` the events are also appended to that JSON-lines file (continuing
    the seq of the events already there), so another process can follow them. Iterating the session yields its events
    until training ends. close() stops the session's thread (after the step in flight) and frees the model.
    """

    _closed_message = "the training session is closed"

    def __init__(self, config: dict[str, Any] | None = None, *, text: str | None = None,
                 text_path: str | os.PathLike[str] | None = None, tokenizer_path: str | os.PathLike[str] | None = None,
                 output_dir: str | os.PathLike[str] | None = None, resume_from: str | os.PathLike[str] | None = None,
                 events_path: str | os.PathLike[str] | None = None):
        options = {"text": text, "text_path": text_path, "tokenizer_path": tokenizer_path,
                   "output_dir": output_dir, "resume_from": resume_from, "events_path": events_path}
        options = {k: os.fspath(v) for k, v in options.items() if v is not None}
        handle = ctypes.c_int64()
        call("bullet_session_create", encode_json(config or {}), encode_json(options), ctypes.byref(handle))
        self._handle: int | None = handle.value
        self.last_seq = 0
        self.output_dir = options.get("output_dir")

    def start(self) -> None:
        """Starts (or continues) training in the background."""
        call("bullet_session_start", self.handle)

    def pause(self) -> None:
        """Pauses after the current step."""
        call("bullet_session_pause", self.handle)

    def resume(self) -> None:
        """Continues after a pause."""
        call("bullet_session_resume", self.handle)

    def stop(self) -> None:
        """Ends training gracefully after the current step; the model stays exportable."""
        call("bullet_session_stop", self.handle)

    def step(self, steps: int = 1) -> None:
        """Runs this many more steps in the background, then waits."""
        call("bullet_session_step", self.handle, steps)

    def set_threads(self, threads: int) -> None:
        """Sets the threads the session trains with, from its next step on."""
        call("bullet_session_threads", self.handle, int(threads))

    def attention(self, probe: str | None = None) -> dict[str, Any]:
        """Every layer's and head's attention on ``probe`` (default: the configured probe) with the current weights."""
        return call_json("bullet_session_attention", self.handle, encode_str(probe))

    def train_step(self) -> dict[str, Any]:
        """Runs one optimizer step now and returns its metrics."""
        return call_json("bullet_train_step", self.handle)

    def set_speed(self, steps_per_second: float) -> None:
        """Limits the training speed (0 = full speed)."""
        call("bullet_session_speed", self.handle, float(steps_per_second))

    def poll(self, since: int | None = None, wait_ms: int = 0) -> list[dict[str, Any]]:
        """Events newer than ``since`` (default: the last one returned), waiting up to ``wait_ms`` for the first."""
        events = call_json("bullet_session_poll_events", self.handle, self.last_seq if since is None else since, wait_ms)
        if events:
            self.last_seq = max(self.last_seq, events[-1]["seq"])
        return events

    def status(self) -> dict[str, Any]:
        """State, step, last metrics and config."""
        return call_json("bullet_session_status", self.handle)

    def checkpoint(self, path: str | os.PathLike[str] | None = None) -> str:
        """Saves a resumable checkpoint folder (default: under output_dir) and returns its path."""
        return call_json("bullet_session_checkpoint", self.handle, encode_str(path))["path"]

    def export(self, path: str | os.PathLike[str] | None = None, **options: Any) -> dict[str, Any]:
        """Writes the BQ4 .bullet, verifies it against the float model and returns the numbers.

        Options: model_name, model_card, float_dir (also write FP32 safetensors there), verify_windows.
        """
        if path is not None:
            options["path"] = path
        options = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in options.items()}
        return Report(call_json("bullet_session_export", self.handle, encode_json(options)))

    def run(self, progress: bool = True, checkpoint: str | os.PathLike[str] | None = None, poll_ms: int = 200) -> TrainingRun:
        """Trains to the end with a live progress panel (in Jupyter) or line (in a terminal); an interrupt
        (Ctrl-C, "interrupt kernel") stops gracefully and saves a checkpoint to ``checkpoint`` or output_dir."""
        return run_session(self, progress=progress, checkpoint=checkpoint, poll_ms=poll_ms)

    def weights(self) -> dict[str, Any]:
        """The current float weights by .bullet tensor name, read from a temporary checkpoint: numpy arrays (plot
        them, or save them as .npy), or nested lists where numpy is not installed."""
        return checkpoint_weights(self)

    def _repr_html_(self) -> str:
        return closed_html("TrainingSession") if self._handle is None else session_html(self.status())

    def __repr__(self) -> str:
        if self._handle is None:
            return "TrainingSession(closed)"
        status = self.status()
        return f"TrainingSession(state={status['state']!r}, step={status['step']}/{status['total_steps']})"


def checkpoint_weights(session: Any) -> dict[str, Any]:
    """A session's current float weights by tensor name, through a temporary checkpoint (any object with checkpoint())."""
    with tempfile.TemporaryDirectory(prefix="bullet-weights-") as tmp:
        return read_safetensors(os.path.join(session.checkpoint(os.path.join(tmp, "checkpoint")), "model.safetensors"))


def run_session(session: Any, progress: bool = True, checkpoint: str | os.PathLike[str] | None = None,
                poll_ms: int = 200) -> TrainingRun:
    """Trains until the session ends, showing live progress; an interrupt (Ctrl-C, "interrupt kernel") stops it
    gracefully after the current step and saves a checkpoint (to ``checkpoint``, or the session's output folder).

    ``session`` is anything with TrainingSession's control methods (start, poll, stop, status, checkpoint, output_dir).
    Returns a TrainingRun with reason, step, interrupted, checkpoint, first/last train loss, best val loss and
    history; raises BulletError when training failed. The native call waits at most ``poll_ms`` at a time, so the
    interrupt is seen within that.
    """
    state = TrainingProgress()
    display = ProgressDisplay(progress)
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
