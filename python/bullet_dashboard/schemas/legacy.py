"""The legacy /train route's answer."""
from __future__ import annotations

from pydantic import Field

from .base import Reply


class TrainStarted(Reply):
    """A training session started by POST /train, and where its model will be."""
    session_id: str
    model_name: str
    download: str = Field(..., description="GET this path for the .bullet once training has finished")
    state: str
