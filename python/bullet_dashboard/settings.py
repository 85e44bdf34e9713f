"""Server settings: command-line arguments over BULLET_DASHBOARD_* environment variables over safe defaults."""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "bullet-dashboard"
MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about where it lives and what it allows."""

    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 50 * MB
    max_running_sessions: int = field(default_factory=lambda: os.cpu_count() or 1)
    keepalive_seconds: float = 15.0
    open_dataset: str | None = None

    @property
    def max_request_bytes(self) -> int:
        """An upload plus room for the multipart envelope and form fields."""
        return self.max_upload_bytes + MB


def describe_bytes(count: int) -> str:
    """A size for messages: "50 MB", "1.5 MB", "10 KB"."""
    if count >= MB:
        return f"{count / MB:.1f}".rstrip("0").rstrip(".") + " MB"
    return f"{max(1, round(count / 1024))} KB"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"BULLET_DASHBOARD_{name}", default)


def parse_args(argv: list[str] | None = None) -> Settings:
    """Settings from the command line, falling back to the environment (BULLET_DASHBOARD_DATA_DIR, ..._PORT, ...)."""
    parser = argparse.ArgumentParser(prog="python -m bullet_dashboard", description="Bullet Dashboard: train tiny .bullet models in the browser.")
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=int(_env("PORT", "8000")), help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, default=Path(_env("DATA_DIR", str(DEFAULT_DATA_DIR))),
                        help="data folder (default ~/.local/share/bullet-dashboard)")
    parser.add_argument("--max-upload-mb", type=float, default=float(_env("MAX_UPLOAD_MB", "50")), help="largest upload in MB (default 50)")
    parser.add_argument("--max-running", type=int, default=int(_env("MAX_RUNNING", str(os.cpu_count() or 1))),
                        help="sessions training at once; more are queued (default: number of cores)")
    parser.add_argument("--open-dataset", default=_env("OPEN_DATASET"), help="dataset the UI preselects (e.g. children_stories)")
    args = parser.parse_args(argv)
    if args.max_running < 1:
        parser.error("--max-running must be at least 1")
    if args.max_upload_mb <= 0:
        parser.error("--max-upload-mb must be positive")
    return Settings(data_dir=args.data_dir.expanduser().resolve(), host=args.host, port=args.port,
                    max_upload_bytes=int(args.max_upload_mb * MB), max_running_sessions=args.max_running,
                    open_dataset=args.open_dataset)
