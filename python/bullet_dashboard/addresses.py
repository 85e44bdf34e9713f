"""Host names, addresses and origins as the server compares them (settings and the access guard both need them)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    """True when ``host`` (an address or a name) reaches this machine only."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def normalize_host(name: str) -> str:
    """A host name as Host headers are compared: lower case, no IPv6 brackets; a port is an error."""
    host = name.strip().lower()
    bare = host.strip("[]")
    if not bare or ("/" in bare) or (":" in bare and not _is_ip(bare)):
        raise ValueError(f"{name!r} is not a host name (give the name alone, without scheme or port, e.g. dash.example.lan)")
    return bare


def normalize_origin(origin: str) -> str:
    """An origin as browsers send it: ``scheme://host[:port]`` in lower case, no path."""
    value = origin.strip().lower().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise ValueError(f"{origin!r} is not an origin (give scheme://host[:port], e.g. https://dash.example.lan)")
    return value


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False
