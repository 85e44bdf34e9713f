"""Training sessions: creating, controlling and exporting them, and what they report."""
from __future__ import annotations

from typing import List, Optional

from pydantic import Field

from .base import ApiModel, Reply
from .common import TrainConfig


class SessionCreate(ApiModel):
    """A new session: its config and its text (a dataset's, or given here)."""
    config: TrainConfig = Field(default_factory=dict, description='training config keys; {"preset": "tiny"} starts from a preset')
    dataset: Optional[str] = Field(None, description="a dataset name (give this or text)")
    text: Optional[str] = Field(None, description="the training text itself")
    name: Optional[str] = None
    model_name: Optional[str] = Field(None, description="name of the exported model (default: <name or dataset>-<id>)")
    model_card: str = ""
    auto_export: bool = Field(True, description="export the .bullet into models when training ends")
    start: bool = Field(False, description="start training at once (queued if the running limit is reached)")

    class Config:
        examples = [{"config": {"preset": "tiny", "time_budget_s": 60}, "dataset": "children_stories", "start": True}]


class Metrics(Reply):
    """The latest metrics event of a session (the native trainer's numbers at a logged step)."""
    step: int
    total_steps: Optional[int]
    epoch: Optional[float]
    train_loss: float
    val_loss: Optional[float] = Field(None, description="null at steps without a validation pass")
    train_bpc: Optional[float] = Field(None, description="bits per character of the training batch: a loss that compares across tokenizers")
    val_bpc: Optional[float] = Field(None, description="bits per character of validation")
    perplexity: Optional[float]
    lr: Optional[float]
    grad_norm: Optional[float]
    tokens_per_sec: Optional[float]
    elapsed_sec: Optional[float]
    eta_sec: Optional[float]


class SessionExport(Reply):
    """One export of a session: the model, the step and the checkpoint folder it was made from."""
    model: str
    step: Optional[int]
    checkpoint: Optional[str]


class SessionMemory(Reply):
    """A session's memory: estimated before its worker started, its hard limit, and what the worker uses now."""
    estimate_bytes: Optional[int]
    estimate: Optional[str] = Field(None, description="the estimate for a person")
    limit_bytes: Optional[int] = Field(None, description="the worker's hard limit, while one runs")
    rss_bytes: Optional[int]
    peak_rss_bytes: Optional[int]


class Waiting(Reply):
    """A queued session's place in the queue and why it waits."""
    position: int
    reason: str


class Checkpoint(Reply):
    """A checkpoint still on disk; `path` ends in its folder name ("best", "step-0000200")."""
    step: Optional[int]
    path: str
    best: bool
    val_loss: Optional[float]
    seq: Optional[int] = Field(None, description="the event that reported it")


class CheckpointFolder(Checkpoint):
    """A checkpoint with its folder name, as export and resume-from-checkpoint take it."""
    name: str


class Verification(Reply):
    """An export's check of the BQ4 file against the float weights on held-out (or, for a short text, training) text."""
    verified_on: Optional[str] = Field(None, description="validation (held-out text) or training (a text too short to hold any out)")
    verify_tokens: Optional[int]
    float_val_loss: Optional[float]
    bq4_val_loss: Optional[float]
    float_perplexity: Optional[float]
    bq4_perplexity: Optional[float]
    perplexity_ratio: Optional[float] = Field(None, description="BQ4 / float perplexity")
    top1_agreement: Optional[float] = Field(None, description="share of positions where both pick the same likeliest token")
    path: Optional[str] = Field(None, description="the written .bullet")
    bytes: Optional[int]
    step: Optional[int]
    checkpoint: Optional[str] = Field(None, description='the checkpoint folder a finished session was exported from ("best", "step-0000300")')


class SessionSummary(Reply):
    """A session as listed: state, progress, latest metrics, exports, worker and memory."""
    id: str
    name: Optional[str]
    dataset: Optional[str]
    created: Optional[str]
    state: str = Field(..., description="one of bullet_native.SESSION_STATES: preparing, ready, running, paused, completed, stopped, "
                                        "early_stopped, failed, queued, interrupted")
    step: Optional[int]
    total_steps: Optional[int]
    speed: float = Field(0, description="the speed limit in steps per second (0 = full speed)")
    last_seq: int
    metrics: Optional[Metrics]
    model_name: Optional[str]
    exports: List[SessionExport] = []
    can_resume_from_checkpoint: bool
    best_val_loss: Optional[float] = None
    best_step: Optional[int] = None
    pid: Optional[int] = Field(None, description="the worker process training the session, while one runs")
    threads: Optional[int] = Field(None, description="threads the worker trains with now")
    memory: SessionMemory
    waiting: Optional[Waiting] = Field(None, description="a queued session's position and why it waits")


class SessionDetail(SessionSummary):
    """A session with its config, the last export's verification, its checkpoints and its last error."""
    config: TrainConfig = Field(..., description="the config as given")
    resolved_config: Optional[TrainConfig] = Field(None, description="every key as the trainer uses it, once known")
    auto_export: bool
    verification: Optional[Verification] = Field(None, description="the last export's numbers")
    error: Optional[str]
    checkpoints: List[Checkpoint] = Field([], description="the checkpoints that still exist")


class SessionRename(ApiModel):
    """A session's new name."""
    name: str = Field(..., min_length=1, max_length=80)


class AttentionProbe(ApiModel):
    """The text to take attention over."""
    text: Optional[str] = Field(None, max_length=2000, description="the probe text (default: the session's probe)")


class StepBody(ApiModel):
    """How many steps to run before pausing again."""
    steps: int = Field(1, ge=1, le=1_000_000)


class SpeedBody(ApiModel):
    """A speed limit."""
    steps_per_second: float = Field(..., ge=0, description="0 = full speed")


class ExportBody(ApiModel):
    """What to export: the model's name and, for a finished session, which checkpoint."""
    model_name: Optional[str] = None
    checkpoint: Optional[str] = Field(None, description='a finished session\'s checkpoint folder ("best", "step-0000200"); '
                                                        "default: the best by validation loss, else the last weights")


class ExportResult(Reply):
    """The exported model's name and its verification."""
    model_name: str
    verification: Verification


class SnapshotRef(Reply):
    """An attention snapshot taken during training: its event and step."""
    seq: int
    step: Optional[int]


class AttentionIndex(Reply):
    """Every attention snapshot a session took."""
    snapshots: List[SnapshotRef]
