"""What the dashboard's services refuse, by kind. Services raise these (or let a native BulletError through); app.py
turns every kind into its HTTP status in one place."""
from __future__ import annotations

from typing import Any


class DashboardError(Exception):
    """A request the dashboard cannot do, with a message for a person and, for configs, every field's error."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class BadRequest(DashboardError):
    """The request itself is malformed (a name or path that is not allowed)."""


class Forbidden(DashboardError):
    """The thing exists but may not be changed (a bundled dataset)."""


class NotFound(DashboardError):
    """No dataset, model, session or snapshot by that name."""


class Conflict(DashboardError):
    """Not possible in the current state (a name taken, a session that must be paused first)."""


class TooLarge(DashboardError):
    """An upload or text beyond the server's limit."""


class Unsupported(DashboardError):
    """A file type the server does not read."""


class Invalid(DashboardError):
    """Well-formed but unusable input: a config that cannot train, a text that cannot be used, a model that cannot be read."""


class Unavailable(DashboardError):
    """A training worker did not answer in time or ended while answering."""
