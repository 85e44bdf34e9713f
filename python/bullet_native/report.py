"""Results of the native library as dicts that show themselves as tables in Jupyter."""
from __future__ import annotations

from typing import Any

from .notebook import TrainingProgress, report_html, run_html


class Report(dict):
    """A dict from the native library (inspect, build or export result) that shows itself as a table in Jupyter."""

    def _repr_html_(self) -> str:
        return report_html(self)


class TrainingRun(Report):
    """The outcome of TrainingSession.run: a dict (reason, step, losses, checkpoint, history) shown as the final progress panel."""

    def __init__(self, values: dict[str, Any], progress: TrainingProgress):
        super().__init__(values)
        self.progress = progress

    def _repr_html_(self) -> str:
        return run_html(self, self.progress)
