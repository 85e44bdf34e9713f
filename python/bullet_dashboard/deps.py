"""Route dependencies: the services created once per app."""
from __future__ import annotations

from fastapi import Request

from .services.datasets import DatasetStore
from .services.models import ModelStore
from .services.runtime import ModelRunner
from .services.sessions import SessionManager
from .settings import Settings


def settings(request: Request) -> Settings:
    """The server's settings."""
    return request.app.state.settings


def datasets(request: Request) -> DatasetStore:
    """The dataset store."""
    return request.app.state.datasets


def models(request: Request) -> ModelStore:
    """The model store."""
    return request.app.state.models


def sessions(request: Request) -> SessionManager:
    """The training sessions."""
    return request.app.state.sessions


def runner(request: Request) -> ModelRunner:
    """The loaded models that generate."""
    return request.app.state.runner
