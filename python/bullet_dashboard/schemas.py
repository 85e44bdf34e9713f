"""Request and response bodies, so /docs shows every route with its model."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    detail: str = Field(..., description="what went wrong, for a person")
    errors: Optional[List[Dict[str, Any]]] = Field(None, description="per-field errors of a config: [{field, message}]")


class Status(BaseModel):
    server: str
    native: str
    cores: int
    max_running_sessions: int
    running_sessions: int
    queued_sessions: int
    memory_budget_bytes: int = Field(..., description="memory a new session may use now")
    max_upload_bytes: int
    open_dataset: Optional[str]
    ui_built: bool


class ConfigValidation(BaseModel):
    valid: bool
    errors: List[Dict[str, Any]] = Field(..., description="[{field, message}] from the native library")
    config: Optional[Dict[str, Any]] = Field(None, description="the full config the native library would train with")
    estimate: Dict[str, Any] = Field(..., description="peak memory of the session (peak_bytes, parameters, parts, summary), "
                                                       "budget_bytes (what a new session may use now) and fits")


class TextBody(BaseModel):
    text: str = Field(..., description="UTF-8 text")


class StyleMetrics(BaseModel):
    characters: int
    words: int
    sentences: int
    style: Dict[str, float] = Field(..., description="avg_sentence_length, type_token_ratio, avg_word_length, punctuation_rate, formality")
    definitions: Dict[str, str]


class DatasetSummary(BaseModel):
    name: str
    title: str
    description: str = ""
    license: str = ""
    source: str
    bundled: bool
    bytes: int
    original_filename: Optional[str] = None
    created: Optional[str] = None


class DatasetDetail(DatasetSummary):
    characters: int
    words: int
    lines: int
    sentences: int
    distinct_characters: int
    preview: str
    style: Dict[str, float]
    definitions: Dict[str, str]


class DatasetFromText(BaseModel):
    name: str = Field(..., description="letters, digits, '.', '-', '_'")
    text: str
    title: Optional[str] = None


class SessionCreate(BaseModel):
    config: Dict[str, Any] = Field(default_factory=dict, description='training config keys; {"preset": "tiny"} starts from a preset')
    dataset: Optional[str] = Field(None, description="a dataset name (give this or text)")
    text: Optional[str] = Field(None, description="the training text itself")
    name: Optional[str] = None
    model_name: Optional[str] = Field(None, description="name of the exported model (default: <name or dataset>-<id>)")
    model_card: str = ""
    auto_export: bool = Field(True, description="export the .bullet into models when training ends")
    start: bool = Field(False, description="start training at once (queued if the running limit is reached)")


class SessionSummary(BaseModel):
    id: str
    name: Optional[str]
    dataset: Optional[str]
    created: Optional[str]
    state: str = Field(..., description="one of bullet_native.SESSION_STATES: preparing, ready, running, paused, completed, stopped, "
                                        "early_stopped, failed, queued, interrupted")
    step: Optional[int]
    total_steps: Optional[int]
    speed: float = 0
    last_seq: int
    metrics: Optional[Dict[str, Any]]
    model_name: Optional[str]
    exports: List[Dict[str, Any]] = []
    can_resume_from_checkpoint: bool
    best_val_loss: Optional[float] = None
    best_step: Optional[int] = None
    pid: Optional[int] = Field(None, description="the worker process training the session, while one runs")
    threads: Optional[int] = Field(None, description="threads the worker trains with now")
    memory: Dict[str, Any] = Field(default_factory=dict, description="estimate_bytes, estimate, limit_bytes, rss_bytes, peak_rss_bytes")
    waiting: Optional[Dict[str, Any]] = Field(None, description="a queued session's position and why it waits")


class SessionDetail(SessionSummary):
    config: Dict[str, Any]
    resolved_config: Optional[Dict[str, Any]]
    auto_export: bool
    verification: Optional[Dict[str, Any]] = Field(None, description="the last export's numbers: float vs BQ4 perplexity, agreement")
    error: Optional[str]
    checkpoints: List[Dict[str, Any]] = Field(default_factory=list, description="[{step, path, best, val_loss}] that still exist")


class SessionRename(BaseModel):
    name: str = Field(..., min_length=1, max_length=80)


class AttentionProbe(BaseModel):
    text: Optional[str] = Field(None, max_length=2000, description="the probe text (default: the session's probe)")


class RunRow(BaseModel):
    id: str
    name: Optional[str]
    dataset: Optional[str]
    created: Optional[str]
    state: str
    tokenizer: Optional[str] = Field(None, description="bpe or char")
    vocab_size: Optional[int]
    parameters: Optional[int]
    step: Optional[int]
    total_steps: Optional[int]
    training_seconds: Optional[float] = Field(None, description="time spent training (pauses excluded), summed over resumes")
    tokens_per_sec: Optional[float] = Field(None, description="training throughput of the latest run of the session")
    train_loss: Optional[float] = Field(None, description="the last logged training loss")
    best_val_loss: Optional[float]
    best_val_step: Optional[int]
    best_val_bpc: Optional[float] = Field(None, description="lowest validation bits per character, when the metrics carry it")
    perplexity_ratio: Optional[float] = Field(None, description="BQ4 / float perplexity of the last export")
    model_name: Optional[str] = Field(None, description="the last exported model")
    last_seq: int


class StepBody(BaseModel):
    steps: int = Field(1, ge=1, le=1_000_000)


class SpeedBody(BaseModel):
    steps_per_second: float = Field(..., ge=0, description="0 = full speed")


class ExportBody(BaseModel):
    model_name: Optional[str] = None
    checkpoint: Optional[str] = Field(None, description='a finished session\'s checkpoint folder ("best", "step-0000200"); '
                                                        "default: the best by validation loss, else the last weights")


class ExportResult(BaseModel):
    model_name: str
    verification: Dict[str, Any]


class AttentionIndex(BaseModel):
    snapshots: List[Dict[str, Any]] = Field(..., description="[{seq, step}] of every attention event")


class ModelSummary(BaseModel):
    name: str
    bytes: int
    model_name: Optional[str] = None
    created: Optional[str] = None
    session_id: Optional[str] = None
    source: Optional[str] = None
    vocab_size: Optional[int] = None
    hidden_size: Optional[int] = None
    num_layers: Optional[int] = None
    num_heads: Optional[int] = None
    max_context: Optional[int] = None
    parameters: Optional[int] = None
    steps: Optional[int] = None
    val_loss: Optional[float] = None
    float_perplexity: Optional[float] = None
    bq4_perplexity: Optional[float] = None
    top1_agreement: Optional[float] = None
    warnings: Optional[int] = None
    error: Optional[str] = None


class TrainStarted(BaseModel):
    session_id: str
    model_name: str
    download: str = Field(..., description="GET this path for the .bullet once training has finished")
    state: str


class Sampling(BaseModel):
    temperature: float = Field(0.8, ge=0, le=5, description="0 = greedy")
    top_k: int = Field(40, ge=0, le=100_000, description="0 = off")
    top_p: float = Field(0.95, gt=0, le=1)
    repetition_penalty: float = Field(1.1, gt=0, le=10)
    max_tokens: int = Field(200, ge=1, le=8192)
    seed: Optional[int] = Field(None, ge=0, le=2**63 - 1)
    top_logprobs: int = Field(0, ge=0, le=20, description="explain each token: its probability and the k likeliest candidates (0 = off)")

    def options(self) -> Dict[str, Any]:
        """The sampling options as the native library takes them."""
        return self.dict()


class GenerateBody(Sampling):
    prompt: str = Field("", max_length=100_000)
    stream: bool = Field(False, description="stream tokens as Server-Sent Events (data {text, index, elapsed_ms, choice?}; 'done' with the summary)")


class TextForModel(BaseModel):
    text: str = Field(..., min_length=1, max_length=5_000_000)


class StyleBody(Sampling):
    text: Optional[str] = Field(None, description="the original writing (or give dataset)")
    dataset: Optional[str] = None
    prompt: Optional[str] = Field(None, description="default: the word that most often starts the original's sentences (not its first word)")
    passage_chars: int = Field(600, ge=50, le=20_000, description="length of the original passage shown and scored")
