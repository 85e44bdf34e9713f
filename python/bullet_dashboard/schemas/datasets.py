"""Datasets: bundled and uploaded texts."""
from __future__ import annotations

from typing import Dict, Optional

from pydantic import Field

from .base import ApiModel, Reply
from .system import StyleValues


class DatasetSummary(Reply):
    """A dataset as listed: its name, where it came from, its size."""
    name: str
    title: str
    description: str = ""
    license: str = ""
    source: str = Field(..., description="bundled, upload or paste")
    bundled: bool
    bytes: int
    original_filename: Optional[str] = None
    created: Optional[str] = Field(None, description="when it was added (ISO 8601, UTC); null for a bundled one")


class DatasetDetail(DatasetSummary):
    """A dataset with its counts, style metrics and the start of its text."""
    characters: int
    words: int
    lines: int
    sentences: int
    distinct_characters: int
    preview: str
    style: StyleValues
    definitions: Dict[str, str]


class DatasetFromText(ApiModel):
    """A dataset made from pasted text."""
    name: str = Field(..., description="letters, digits, '.', '-', '_'")
    text: str
    title: Optional[str] = None

    class Config:
        examples = [{"name": "my-letters", "text": "Dear Anna,\nThe garden is full of bees this week...", "title": "My letters"}]
