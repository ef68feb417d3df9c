"""Search result pages from Redis, as bytes: a warm class search runs no SQL and decodes no JSON.

A page of search results (everything but availability) is stored in Redis under a key made of
the tenant's schema, its catalog generation, today's date and the request's host and full path,
for ``PAGE_TTL_SECONDS``. Availability is merged in at read time from
``portal.catalog.availability`` (seat changes never invalidate pages). Any change to what a page
shows (an offering, its levels or instructors, a program, location, level, term, staff profile,
or the portal settings) bumps the catalog generation at once and again after commit, so the next
search builds a fresh page; the TTL bounds staleness if a change bypasses the model signals
(a bulk ``update()``). Searches filtered on openings (``has_openings``) are never cached: they
depend on seat counts. Redis unreachable: pages are built from the database every time.

A page is kept as the JSON bytes of the answer with each result's availability replaced by a
placeholder (``"availability":"@@av:<id>@@"``), beside the availability each result had when it
was built. A warm search splices the current availability (a few bytes per result) into those
bytes: no decoding and re-encoding of the whole page. The placeholder cannot come from content:
inside a JSON string every quote is escaped, so ``"availability":"`` with bare quotes only
appears where the page itself put it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass

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


_SLOT = re.compile(rb'"availability":"@@av:(\d+)@@"')


def render_json(data) -> bytes:
    """The bytes DRF's JSON renderer writes for ``data`` (compact, UTF-8, U+2028/2029
    escaped), so a cached answer is byte for byte the one the view would render."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


@dataclass(frozen=True)
class CachedPage:
    body: bytes  # the answer, each result's availability a placeholder
    built: dict[int, object]  # offering id -> the availability it had when built

    @property
    def ids(self) -> list[int]:
        return list(self.built)

    def render(self, current: dict[int, object]) -> bytes:
        """The answer with ``current`` availability (offering id -> the availability document),
        the built one for offerings it lacks."""
        encoded: dict[int, bytes] = {}

        def slot(match: re.Match) -> bytes:
            oid = int(match[1])
            if oid not in encoded:
                value = current[oid] if oid in current else self.built.get(oid)
                encoded[oid] = b'"availability":' + render_json(value)
            return encoded[oid]

        return _SLOT.sub(slot, self.body)


def page_template(page: dict) -> CachedPage:
    built = {item["id"]: item.get("availability") for item in page["results"]}
    results = [{**item, "availability": f"@@av:{item['id']}@@"} for item in page["results"]]
    return CachedPage(body=render_json({**page, "results": results}), built=built)


def page_get(request) -> tuple[CachedPage | None, str | None]:
    """(the cached page, or None; the key to store a fresh one under, or None for no cache)."""
    try:
        client = _redis()
        key = _page_key(client, request)
        body, built = client.mget(key, f"{key}:built")
    except Exception as exc:
        _warn(exc)
        return None, None
    if body is None or built is None:
        Stats.misses += 1
        return None, key
    Stats.hits += 1
    return CachedPage(body=body, built={int(k): v for k, v in json.loads(built).items()}), key


def page_put(key: str | None, page: dict) -> CachedPage:
    """The page as bytes with availability slots; stored under ``key`` (None: not stored)."""
    cached = page_template(page)
    if key is None:
        return cached
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.set(key, cached.body, ex=PAGE_TTL_SECONDS)
        pipe.set(f"{key}:built", json.dumps(cached.built), ex=PAGE_TTL_SECONDS)
        pipe.execute()
    except Exception as exc:
        _warn(exc)
    return cached


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
