"""Runs: every session as a row to compare."""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from .base import Reply


class RunRow(Reply):
    """A session as a row of the Runs table."""
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
