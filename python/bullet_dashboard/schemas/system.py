"""Server status, config validation and style metrics."""
from __future__ import annotations

from typing import Dict, List, Optional

from pydantic import Field

from .base import Reply
from .common import FieldError, TrainConfig


class Status(Reply):
    """The server: versions, cores, sessions running and queued, limits."""
    server: str
    native: str = Field(..., description="the native library's version")
    cores: int
    max_running_sessions: int
    running_sessions: int
    queued_sessions: int
    memory_budget_bytes: int = Field(..., description="memory a new session may use now")
    max_upload_bytes: int
    open_dataset: Optional[str] = Field(..., description="the dataset the UI opens with (--open-dataset)")
    ui_built: bool


class MemoryEstimate(Reply):
    """The native estimate of a session's peak memory, and whether the server's budget has room for it now."""
    peak_bytes: int
    parameters: int
    parts: Dict[str, int] = Field(..., description="bytes by part: process, weights_gradients_optimizer, activations, export, "
                                                   "text_and_tokens")
    vocab_size_assumed: Optional[int] = Field(..., description="the vocabulary size estimated for a BPE config that leaves it to the text")
    summary: str = Field(..., description='for a person, e.g. "about 251 MB (196,928 parameters), about 22 s per 1,000 steps here"')
    seconds_per_1000_steps: Optional[float]
    budget_bytes: int = Field(..., description="what a new session may use now")
    fits: bool


class ConfigValidation(Reply):
    """A config checked by the native library: every failing field, the full config it would train with, its memory."""
    valid: bool
    errors: List[FieldError]
    config: Optional[TrainConfig] = Field(..., description="the full config the native library would train with")
    notes: List[str] = Field([], description="what the library chose for this text and why (a short text's vocabulary, size, validation share)")
    estimate: MemoryEstimate

    class Config:
        examples = [{"valid": False, "errors": [{"field": "hidden_size", "message": "hidden_size 100 must be a positive multiple of 32"}],
                     "config": {"preset": "tiny", "hidden_size": 100}, "notes": [],
                     "estimate": {"peak_bytes": 263661568, "parameters": 196928, "parts": {"process": 183500800},
                                  "vocab_size_assumed": None, "summary": "about 251 MB (196,928 parameters)",
                                  "seconds_per_1000_steps": 21.6, "budget_bytes": 24567496704, "fits": True}}]


StyleValues = Dict[str, float]


class StyleMetrics(Reply):
    """Counts and style metrics of a text (computed natively), with each metric's definition."""
    characters: int
    words: int
    sentences: int
    style: StyleValues = Field(..., description="avg_sentence_length, type_token_ratio, avg_word_length, punctuation_rate, formality")
    definitions: Dict[str, str]
