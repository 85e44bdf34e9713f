"""Server settings: command-line arguments over BULLET_DASHBOARD_* environment variables over safe defaults."""
from __future__ import annotations

import argparse
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .addresses import is_loopback, normalize_host, normalize_origin

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
    token: str | None = field(default=None, repr=False)   # required on every request when set (always beyond loopback)
    allowed_hosts: tuple[str, ...] = ()      # more names the server answers to (a proxy's, a LAN name)
    allowed_origins: tuple[str, ...] = ()    # more web origins whose pages may use the API
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)   # shared by the running sessions' threads
    memory_budget_bytes: int | None = None   # memory all sessions may use (default: what the machine has available)
    worker_memory_limit_bytes: int | None = None   # each worker's hard limit (default: derived from its estimate)
    worker_heartbeat_timeout: float = 60.0   # a worker silent this long is ended
    autosave_seconds: float = 300.0          # a running session is checkpointed at least this often

    @property
    def max_request_bytes(self) -> int:
        """An upload plus room for the multipart envelope and form fields."""
        return self.max_upload_bytes + MB


def describe_bytes(count: int) -> str:
    """A size for messages: "50 MB", "1.5 MB", "10 KB", "2.3 GB"."""
    if count >= 1024 * MB:
        return f"{count / 1024 / MB:,.1f}".rstrip("0").rstrip(".") + " GB"
    if count >= MB:
        return f"{count / MB:.1f}".rstrip("0").rstrip(".") + " MB"
    return f"{max(1, round(count / 1024))} KB"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"BULLET_DASHBOARD_{name}", default)


def _float_env(name: str) -> float | None:
    value = _env(name)
    return float(value) if value else None


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in (_env(name) or "").split(",") if item.strip()]


def parse_args(argv: list[str] | None = None) -> Settings:
    """Settings from the command line, falling back to the environment (BULLET_DASHBOARD_DATA_DIR, ..._PORT, ...).

    Bound beyond loopback without a token given, the server makes a random one."""
    parser = argparse.ArgumentParser(prog="python -m bullet_dashboard", description="Bullet Dashboard: train tiny .bullet models in the browser.")
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=int(_env("PORT", "8000")), help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, default=Path(_env("DATA_DIR", str(DEFAULT_DATA_DIR))),
                        help="data folder (default ~/.local/share/bullet-dashboard)")
    parser.add_argument("--max-upload-mb", type=float, default=float(_env("MAX_UPLOAD_MB", "50")), help="largest upload in MB (default 50)")
    parser.add_argument("--max-running", type=int, default=int(_env("MAX_RUNNING", str(os.cpu_count() or 1))),
                        help="sessions training at once; more are queued (default: number of cores)")
    parser.add_argument("--open-dataset", default=_env("OPEN_DATASET"), help="dataset the UI preselects (e.g. children_stories)")
    parser.add_argument("--token", default=_env("TOKEN"),
                        help="access token every request must carry (default: a random one, printed in the URL, when --host "
                             "is not loopback; none on loopback). BULLET_DASHBOARD_TOKEN keeps it out of the process list")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="another name this server answers to, e.g. a proxy's or the machine's LAN name (repeatable; "
                             "BULLET_DASHBOARD_ALLOWED_HOSTS, comma-separated)")
    parser.add_argument("--allowed-origin", action="append", default=[], metavar="ORIGIN",
                        help="another site (scheme://host[:port]) whose pages may use the API (repeatable; "
                             "BULLET_DASHBOARD_ALLOWED_ORIGINS, comma-separated)")
    parser.add_argument("--memory-budget", type=float, default=_float_env("MEMORY_BUDGET_MB"), metavar="MB",
                        help="memory all training sessions together may use; a session whose estimate does not fit is refused "
                             "(default: what the machine has available)")
    parser.add_argument("--worker-memory-limit", type=float, default=_float_env("WORKER_MEMORY_LIMIT_MB"), metavar="MB",
                        help="the memory at which a training worker is ended (default: 1.5 x its estimate + 256 MB)")
    parser.add_argument("--worker-heartbeat-timeout", type=float, default=float(_env("WORKER_HEARTBEAT_TIMEOUT", "60")), metavar="S",
                        help="seconds without a heartbeat after which a training worker is ended (default 60)")
    parser.add_argument("--autosave-minutes", type=float, default=float(_env("AUTOSAVE_MINUTES", "5")), metavar="M",
                        help="a running session is checkpointed at least this often, so a crash loses at most this much (default 5)")
    args = parser.parse_args(argv)
    for name in ("memory_budget", "worker_memory_limit", "worker_heartbeat_timeout", "autosave_minutes"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if args.max_running < 1:
        parser.error("--max-running must be at least 1")
    if args.max_upload_mb <= 0:
        parser.error("--max-upload-mb must be positive")
    if args.token is not None and not args.token.strip():
        parser.error("--token must not be empty")
    try:
        hosts = tuple(normalize_host(h) for h in _env_list("ALLOWED_HOSTS") + args.allowed_host)
        origins = tuple(normalize_origin(o) for o in _env_list("ALLOWED_ORIGINS") + args.allowed_origin)
    except ValueError as e:
        parser.error(str(e))
    token = args.token.strip() if args.token else None if is_loopback(args.host) else secrets.token_urlsafe(24)
    return Settings(data_dir=args.data_dir.expanduser().resolve(), host=args.host, port=args.port,
                    max_upload_bytes=int(args.max_upload_mb * MB), max_running_sessions=args.max_running,
                    open_dataset=args.open_dataset, token=token, allowed_hosts=hosts, allowed_origins=origins,
                    memory_budget_bytes=int(args.memory_budget * MB) if args.memory_budget else None,
                    worker_memory_limit_bytes=int(args.worker_memory_limit * MB) if args.worker_memory_limit else None,
                    worker_heartbeat_timeout=args.worker_heartbeat_timeout, autosave_seconds=args.autosave_minutes * 60)
