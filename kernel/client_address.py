"""The client's address, derived once, the same way for every caller.

Behind a reverse proxy ``REMOTE_ADDR`` is the proxy, and ``X-Forwarded-For`` is a list that
anyone can start: a client sends ``X-Forwarded-For: <anything>`` and each proxy appends the
address it received the request from. Only the entries appended by *our* proxies can be
believed, so the address is read from the right-hand end of the list, and only as far as the
configuration says there are proxies:

- ``TRUSTED_PROXY_COUNT`` (N, default 0): the request passes N proxies we run (Caddy in front
  of the app: 1). The client is the N-th entry from the right of ``X-Forwarded-For``. With 0
  the header is ignored and ``REMOTE_ADDR`` is the client. A list shorter than N (the request
  did not come through every proxy) or an entry that is not an IP address: ``REMOTE_ADDR``.
- ``TRUSTED_PROXY_CIDRS`` (comma-separated networks): a hop is a proxy only if its address is
  in one of them. ``REMOTE_ADDR`` must be a trusted proxy before the header is read at all;
  then entries are taken from the right while they are trusted proxies, and the first address
  that is not one is the client (at most N entries when ``TRUSTED_PROXY_COUNT`` is set too).

Every caller goes through :func:`client_address`: the sign-in lockout
(``kernel.login_guard``), the rate limits of the sign-in, sign-up and reset routes
(``kernel.api.throttling``), the audit log, consent records and the log lines. A test
(tests/kernel/test_client_address.py) fails if any other module reads ``REMOTE_ADDR``
or the forwarding header.
"""

from __future__ import annotations

import contextlib
import ipaddress
from functools import lru_cache

from django.conf import settings

_CACHE_ATTR = "_client_address"
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def parse_address(value: str | None) -> _Address | None:
    """An IP address from a header entry (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``,
    ``::1``), or None when it is not one."""
    value = (value or "").strip().strip('"')
    if not value or len(value) > 64:
        return None
    if value.startswith("["):  # [v6]:port
        if "]" not in value:
            return None
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: _Address, networks: tuple[_Network, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def derive(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    """The client address from ``REMOTE_ADDR`` and ``X-Forwarded-For`` under the settings."""
    remote = parse_address(remote_addr)
    count = max(0, int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0))
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXY_CIDRS", ()) or ()))
    fallback = str(remote) if remote is not None else None
    if not count and not networks:
        return fallback
    hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
    if not networks:
        if len(hops) < count:
            return fallback
        client = parse_address(hops[-count])
        return str(client) if client is not None else fallback
    if remote is None or not _trusted(remote, networks):
        return fallback
    current = remote
    taken = 0
    for hop in reversed(hops):
        if count and taken >= count:
            break
        address = parse_address(hop)
        if address is None:  # garbage where a proxy should have written: stop at the proxy
            break
        current, taken = address, taken + 1
        if not _trusted(address, networks):
            break
    return str(current)


def client_address(request) -> str | None:
    """The address of the client that sent ``request`` (a Django or DRF request), or None."""
    if request is None:
        return None
    request = getattr(request, "_request", request)  # a DRF Request wraps the HttpRequest
    cached = getattr(request, _CACHE_ATTR, False)
    if cached is not False:
        return cached
    meta = getattr(request, "META", None) or {}
    value = derive(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"))
    with contextlib.suppress(AttributeError):
        setattr(request, _CACHE_ATTR, value)
    return value
