"""Attention maps: of a model over a text, or snapshots a training session took."""
from __future__ import annotations

from typing import List, Optional

from pydantic import Field

from .base import Reply


class AttentionMaps(Reply):
    """Attention of every layer and head over a text's tokens."""
    tokens: List[str]
    layers: int
    heads: int
    maps: List[List[List[List[float]]]] = Field(..., description="maps[layer][head][query][key]; a causal row has query + 1 keys")


class AttentionSnapshot(AttentionMaps):
    """An attention event of a session: the maps, and the event's seq and step."""
    seq: Optional[int] = Field(None, description="the event (null for a snapshot taken on request)")
    step: Optional[int]

