"""python -m bullet_dashboard [--host 127.0.0.1] [--port 8000] [--data-dir DIR] [--token T]: start the server and print
its URL (with ?token=... when a token is required, as Jupyter does)."""
from __future__ import annotations

import importlib.util
import socket
import sys
from urllib.parse import urlencode

# The server's libraries are the package's optional extra "dashboard"; say so instead of a traceback.
_MISSING = [name for name in ("fastapi", "uvicorn", "multipart") if importlib.util.find_spec(name) is None]
if _MISSING:
    sys.exit(f"python -m bullet_dashboard needs {', '.join(_MISSING)}: pip install 'bullet-native[dashboard]' "
             "(on Debian: apt install python3-fastapi python3-uvicorn python3-multipart)")

import uvicorn  # noqa: E402

from .app import create_app  # noqa: E402
from .security import WILDCARD_ADDRESSES  # noqa: E402
from .settings import parse_args  # noqa: E402


def url_host(address: str) -> str:
    """An address as it appears in a URL (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address


def main(argv: list[str] | None = None) -> None:
    """Parses the arguments, binds the socket (port 0 picks a free one), prints the URL and serves until interrupted."""
    settings = parse_args(argv)
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as e:
        sys.exit(f"cannot listen on {settings.host}:{settings.port}: {e.strerror}")
    port = sock.getsockname()[1]
    query = urlencode({k: v for k, v in (("dataset", settings.open_dataset), ("token", settings.token)) if v})
    path = f"/?{query}" if query else "/"
    print(f"Bullet Dashboard: http://{url_host(WILDCARD_ADDRESSES.get(settings.host, settings.host))}:{port}{path}  "
          f"(data in {settings.data_dir}; Ctrl+C stops)", flush=True)
    if settings.host in WILDCARD_ADDRESSES:
        print(f"From other machines: http://{socket.gethostname()}:{port}{path}", flush=True)
    Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


class Server(uvicorn.Server):
    """Ends open event streams when asked to exit, so shutdown does not wait on browsers that never hang up."""

    def handle_exit(self, sig, frame) -> None:
        self.config.app.state.sessions.end_streams()
        super().handle_exit(sig, frame)


if __name__ == "__main__":
    main()
