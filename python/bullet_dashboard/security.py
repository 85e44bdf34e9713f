"""Only the person at the keyboard, or whoever holds the token, drives the dashboard.

``AccessGuard`` is pure ASGI middleware, so event streams and file downloads pass the same checks as any route.
In order:
1. Host: one of this server's own names, or an ``--allowed-host``. A page on another domain that re-points its
   name at this machine (DNS rebinding) still sends its own name as Host.
2. Origin (else Referer, else Sec-Fetch-Site): a request a browser sends on behalf of another site's page is
   refused when it changes state (any method but GET/HEAD) or reads user data (``/api``, ``/v1``, ``/logs``,
   ``/download``: texts, events, downloads). Requests without these headers (scripts, curl) pass.
3. The token, when one is set (always when bound beyond loopback): ``Authorization: Bearer TOKEN``, the ``token``
   query parameter, or the cookie a page load with that parameter sets (HttpOnly, SameSite=Strict) before
   redirecting to the same URL without it.
Refusals are ``{"detail": message}``, OpenAI's ``{"error": {...}}`` under ``/v1``, or a short page for a browser's
page load. No CORS headers are ever sent, so no other origin can read a response either.
"""
from __future__ import annotations

import hmac
import html
import ipaddress
import socket
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote, unquote_plus, urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .addresses import is_loopback, normalize_host, normalize_origin
from .settings import Settings
from .static import plain_page

# Each address that binds every interface, and the loopback address this machine reaches it by.
WILDCARD_ADDRESSES = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}
SAFE_METHODS = frozenset({"GET", "HEAD"})
# Route families whose reads reveal a user's data; pages, assets and /docs hold none.
DATA_ROUTES = ("/api", "/v1", "/logs", "/download")
OPENAI_ROUTES = ("/v1",)
TOKEN_PARAMETER = "token"
TOKEN_HELP = ("open the URL the server printed when it started (it ends in ?token=...), or send the header "
              "'Authorization: Bearer TOKEN' with that token (or the --token or BULLET_DASHBOARD_TOKEN value it was started with)")


def host_of(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, in lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


@dataclass(frozen=True)
class AccessPolicy:
    """Which Host names, foreign origins and token a server accepts."""

    names: frozenset[str]
    any_address: bool
    origins: frozenset[str]
    token: Optional[str]

    @classmethod
    def of(cls, settings: Settings) -> AccessPolicy:
        """The policy for a server bound to ``settings.host``; beyond loopback it requires a token."""
        bound = settings.host.strip("[]").lower()
        beyond_loopback = not is_loopback(bound)
        if beyond_loopback and not settings.token:
            raise ValueError(f"a server bound to {settings.host!r} (beyond loopback) needs a token")
        names = {"localhost"} | {normalize_host(h) for h in settings.allowed_hosts}
        if bound not in WILDCARD_ADDRESSES:
            names.add(bound)
        if beyond_loopback:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        return cls(frozenset(names), beyond_loopback, frozenset(normalize_origin(o) for o in settings.allowed_origins),
                   settings.token or None)

    def host_allowed(self, host: str) -> bool:
        """True for this server's names and loopback addresses; beyond loopback for any IP address too, since a
        rebinding page is reached by a name, and a page whose origin is an address was served from that address."""
        if host in self.names:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return self.any_address or address.is_loopback

    def origin_allowed(self, origin: str, host_header: Optional[str]) -> bool:
        """True for the page's own origin (same host and port as the request) and the --allowed-origin ones."""
        value = origin.strip().lower().rstrip("/")
        if value in self.origins:
            return True
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and host_header is not None and parts.netloc == host_header.strip().lower()

    def token_matches(self, candidate: Optional[str]) -> bool:
        """True when ``candidate`` is the token (compared in constant time)."""
        return bool(self.token and candidate) and hmac.compare_digest(candidate.encode(), self.token.encode())


class AccessGuard:
    """ASGI middleware that enforces an ``AccessPolicy`` on every HTTP request and WebSocket."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.policy = AccessPolicy.of(settings)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        answer = self.check(scope)
        if answer is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await answer(scope, receive, send)

    def check(self, scope) -> Optional[Response]:
        """None to let the request through, else the answer that refuses or redirects it."""
        conn = HTTPConnection(scope)
        host_header = conn.headers.get("host")
        if host_header is not None and not self.policy.host_allowed(host_of(host_header)):
            name = host_of(host_header)
            return refusal(scope, 403, f"this server does not answer to the name {name!r}: a page on another site may be "
                                       f"trying to reach it; if {name!r} is really this machine, start the server with "
                                       f"--allowed-host {name}", "host_not_allowed")
        method = scope.get("method", "GET")
        if method not in SAFE_METHODS or _under(scope["path"], DATA_ROUTES):
            source = self.foreign_source(conn, host_header)
            if source is not None:
                return refusal(scope, 403, f"requests from {source} are refused: only this dashboard's own pages may "
                                           "change data or read it; to let another site's pages in, start the server with "
                                           "--allowed-origin ORIGIN", "origin_not_allowed")
        if self.policy.token is None:
            return None
        query_token = take_query_token(scope)
        if self.policy.token_matches(query_token):
            if method in SAFE_METHODS and not _under(scope["path"], DATA_ROUTES):
                return self.enter(scope)
            return None
        authorization = conn.headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        if (scheme.lower() == "bearer" and self.policy.token_matches(value.strip())) or \
                self.policy.token_matches(conn.cookies.get(cookie_name(scope))):
            return None
        wrong = "the token given is wrong" if query_token or authorization else "this dashboard needs its access token"
        return refusal(scope, 401, f"{wrong}: {TOKEN_HELP}", "invalid_api_key")

    def foreign_source(self, conn: HTTPConnection, host_header: Optional[str]) -> Optional[str]:
        """The other site a browser says this request comes from, or None (this site, an allowed one, or no browser)."""
        origin = conn.headers.get("origin")
        if origin is None and conn.headers.get("referer"):
            parts = urlsplit(conn.headers["referer"])
            origin = f"{parts.scheme}://{parts.netloc}"
        if origin is not None:
            return None if self.policy.origin_allowed(origin, host_header) else f"pages of {origin}"
        # Without Origin and Referer (referrerpolicy="no-referrer"), browsers still say whether the page was elsewhere.
        return "another site's pages" if conn.headers.get("sec-fetch-site") in ("cross-site", "same-site") else None

    def enter(self, scope) -> Response:
        """A page load carrying the token: set the cookie, and reload the same URL without the token in it."""
        # Quoted, and one leading slash: "//host" or "/\\host" would send the browser to another site.
        location = "/" + quote(scope["path"]).lstrip("/")
        if scope["query_string"]:
            location += "?" + scope["query_string"].decode("latin-1")
        response = RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
        response.set_cookie(cookie_name(scope), self.policy.token, path="/", httponly=True, samesite="strict",
                            secure=scope.get("scheme") == "https")
        return response


def cookie_name(scope) -> str:
    """Cookies are shared by every port of a host, so each server's cookie carries its port."""
    server = scope.get("server")
    return f"bullet_dashboard_token_{server[1]}" if server and server[1] else "bullet_dashboard_token"


def take_query_token(scope) -> Optional[str]:
    """Removes the ``token`` parameter from the request's query string (so no route or access log sees it) and returns it."""
    found, kept = None, []
    for part in scope.get("query_string", b"").split(b"&"):
        key, _, value = part.partition(b"=")
        if unquote_plus(key.decode("latin-1")) == TOKEN_PARAMETER:
            found = unquote_plus(value.decode("latin-1"))
        elif part:
            kept.append(part)
    if found is not None:
        scope["query_string"] = b"&".join(kept)
    return found


def refusal(scope, status: int, message: str, code: str) -> Response:
    """The refusal in the shape the caller reads: OpenAI's error under /v1, a page for a page load, else the app's."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if _under(scope["path"], OPENAI_ROUTES):
        kind = "permission_error" if status == 403 else "invalid_request_error"
        return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status, headers)
    accept = HTTPConnection(scope).headers.get("accept", "")
    if scope.get("method") == "GET" and "text/html" in accept and not _under(scope["path"], DATA_ROUTES):
        return HTMLResponse(refusal_page(message, ask_token=status == 401), status, headers)
    return JSONResponse({"detail": message}, status, headers)


def refusal_page(message: str, ask_token: bool) -> str:
    """A page saying why, with a field for the token when that is what is missing."""
    form = ('<form method="get"><label>Token <input name="token" type="password" autocomplete="current-password" '
            'autofocus required></label> <button>Open the dashboard</button></form>') if ask_token else ""
    return plain_page(f"<p>{html.escape(message[0].upper() + message[1:])}.</p>{form}")
