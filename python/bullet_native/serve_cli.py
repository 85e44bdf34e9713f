"""`python -m bullet_native serve MODEL.bullet [...]`: the OpenAI-compatible API on the standard library's threaded
HTTP server (no web framework needed). Each request goes to the native service; this file only moves bytes."""
from __future__ import annotations

import argparse
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ._native import BulletError
from .serving import OpenAiService


class _Handler(BaseHTTPRequestHandler):
    """Every method and path goes to the service; bodies stream back with chunked transfer encoding."""

    protocol_version = "HTTP/1.1"
    server: "_Server"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        response = self.server.service.answer(self.command, self.path, self.headers.get("Authorization"), body)
        chunks = response.chunks()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            if response.content_type == "text/event-stream":
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in chunks:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            else:
                data = b"".join(chunks)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            chunks.close()
            response.close()  # a client that left ends its generation

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, format: str, *args) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connect at once (the default backlog of 5 resets some)

    def __init__(self, address: tuple[str, int], service: OpenAiService, verbose: bool):
        super().__init__(address, _Handler)
        self.service = service
        self.verbose = verbose


def main_serve(argv: list[str]) -> int:
    """Runs the serve command until interrupted; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m bullet_native serve",
                                     description="Serve .bullet models through an OpenAI-compatible API (/v1/models, "
                                                 "/v1/completions, /v1/chat/completions). Each model is named by its file stem.")
    parser.add_argument("models", nargs="+", help=".bullet model files")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--api-key", help="require 'Authorization: Bearer KEY' on every request")
    parser.add_argument("--threads", type=int, help="threads per matrix product of a batched step (default 1)")
    parser.add_argument("--cache-mb", type=int, help="KV cache limit per model in MiB (default 512); requests beyond it wait")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    models: dict[str, str] = {}
    for file in args.models:
        name = Path(file).stem
        if name in models:
            print(f"error: two models are named {name!r} ({models[name]} and {file}); rename one", file=sys.stderr)
            return 1
        models[name] = file
    try:
        service = OpenAiService(models=models, api_key=args.api_key, threads=args.threads, cache_mb=args.cache_mb)
    except BulletError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        server = _Server((args.host, args.port), service, args.verbose)
    except OSError as e:
        print(f"error: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    host, port = server.server_address[:2]
    print(f"serving {', '.join(models)} at http://{host}:{port}/v1 (OpenAI-compatible; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        service.close()
    return 0
