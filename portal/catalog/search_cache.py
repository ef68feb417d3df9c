"""Search result pages from Redis: a warm class search runs no SQL.

A page of search results (everything but availability) is stored in Redis under a key made of
the tenant's schema, its catalog generation, today's date and the request's host and full path,
for ``PAGE_TTL_SECONDS``. Availability is merged in at read time from
``portal.catalog.availability`` (seat changes never invalidate pages). Any change to what a page
shows (an offering, its levels or instructors, a program, location, level, term, staff profile,
or the portal settings) bumps the catalog generation at once and again after commit, so the next
search builds a fresh page; the TTL bounds staleness if a change bypasses the model signals
(a bulk ``update()``). Searches filtered on openings (``has_openings``) are never cached: they
depend on seat counts. Redis unreachable: pages are built from the database every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time

from django.db import connection, transaction
from django.utils import timezone

from kernel.hosts import public_origin
from kernel.redis import redis_client as _redis
from kernel.redis import redis_key

logger = logging.getLogger(__name__)

PAGE_TTL_SECONDS = 60
_last_warning = 0.0
_touched: set[str] = set()  # schemas this process cached pages for (test clean-up)


class Stats:
    hits = 0
    misses = 0


def _prefix(schema: str) -> str:
    return redis_key("search", schema)


def _warn(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.warning("search page cache: Redis unreachable (%s); building pages", exc)


def _page_key(client, request) -> str:
    schema = connection.schema_name
    _touched.add(schema)
    generation = client.get(f"{_prefix(schema)}:generation") or b"0"
    raw = "|".join(
        [
            generation.decode() if isinstance(generation, bytes) else str(generation),
            timezone.localdate().isoformat(),
            # The origin pages are built for, never the port or scheme a client sent: one entry
            # per page, whatever Host port a request names.
            public_origin(request),
            request.get_full_path(),
        ]
    )
    return f"{_prefix(schema)}:page:{hashlib.sha1(raw.encode()).hexdigest()}"  # noqa: S324


def page_get(request) -> tuple[dict | None, str | None]:
    """(the cached page, or None; the key to store a fresh one under, or None for no cache)."""
    try:
        client = _redis()
        key = _page_key(client, request)
        raw = client.get(key)
    except Exception as exc:
        _warn(exc)
        return None, None
    if raw is None:
        Stats.misses += 1
        return None, key
    Stats.hits += 1
    return json.loads(raw), key


def page_put(key: str | None, page: dict) -> None:
    if key is None:
        return
    try:
        _redis().set(key, json.dumps(page, separators=(",", ":")), ex=PAGE_TTL_SECONDS)
    except Exception as exc:
        _warn(exc)


def catalog_changed(schema: str | None = None) -> None:
    """What search pages show changed in the current transaction: build new pages now (this
    connection sees the change) and again after commit (other processes see it then)."""
    schema = schema or connection.schema_name
    if schema == "public":
        return

    def bump() -> None:
        try:
            _redis().incr(f"{_prefix(schema)}:generation")
        except Exception as exc:
            _warn(exc)

    bump()
    transaction.on_commit(bump, robust=True)


def search_cache_clear_touched() -> None:
    """Retire the pages of every tenant this process searched (the test harness)."""
    for schema in list(_touched):
        try:
            _redis().incr(f"{_prefix(schema)}:generation")
        except Exception as exc:
            _warn(exc)
    _touched.clear()
