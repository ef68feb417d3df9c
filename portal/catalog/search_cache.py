"""Search result pages from Redis, as bytes: a warm class search runs no SQL and decodes no JSON.

A page of search results (everything but availability) is stored in Redis under a key made of
the tenant's schema, today's date and the request's host and full path, with the tenant's
catalog generation it was built under, for ``PAGE_TTL_SECONDS``; a search reads the page and the
current generation in one round trip, and a page of an older generation is built again.
Availability is merged in at read time from ``portal.catalog.availability`` (seat changes never
invalidate pages), read in that same round trip when this process knows the page's offerings
from serving it before. Any change to what a page shows (an offering, its levels or instructors, a
program, location, level, term, staff profile, or the portal settings) bumps the catalog
generation at once and again after commit, so the next search builds a fresh page; the TTL
bounds staleness if a change bypasses the model signals (a bulk ``update()``). Searches filtered
on openings (``has_openings``) are never cached: they depend on seat counts. Redis unreachable:
pages are built from the database every time.

A page is built again before it expires, after a search's answer: the first search served
through ``kernel.after_response`` that reads a page in the last ``REFRESH_WITHIN_SECONDS`` of
its life takes the page's refresh turn (``CachedPage.refresh``), answers from it, and rebuilds
it once its answer is sent. A page searched at least that often is never built while a family
waits; one searched less often expires and is built by the next search, as before.

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

from kernel import after_response
from kernel.hosts import public_origin
from kernel.redis import redis_client as _redis
from kernel.redis import redis_key

from .availability import availability_read_queued

logger = logging.getLogger(__name__)

PAGE_TTL_SECONDS = 60
# A page read this close to its end is rebuilt after the answer by the search that read it.
REFRESH_WITHIN_SECONDS = 15
# How long a process, and then every process, leaves a page's refresh to the search that took
# its turn (a rebuild that failed is left to the page's expiry).
REFRESH_TURN_SECONDS = 10
_last_warning = 0.0
_touched: set[str] = set()  # schemas this process cached pages for (test clean-up)


class Stats:
    hits = 0
    misses = 0
    refreshes = 0  # pages whose refresh turn a search took (rebuilt after its answer)


def _prefix(schema: str) -> str:
    return redis_key("search", schema)


def _warn(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.warning("search page cache: Redis unreachable (%s); building pages", exc)


@dataclass(frozen=True)
class PageSlot:
    """Where a page is kept, and the catalog generation a page built now belongs to."""

    key: str
    generation: str


def _page_key(request) -> str:
    schema = connection.schema_name
    _touched.add(schema)
    raw = "|".join(
        [
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
    # Its offerings' current availability, when read in the same round trip as the page
    # (``page_get``); None: to be read.
    seats: dict | None = None
    # This search took the page's refresh turn: build it again once the answer is sent.
    refresh: bool = False

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
                encoded[oid] = _availability_bytes(value)
            return encoded[oid]

        return _SLOT.sub(slot, self.body)


# An availability document's bytes, by its items: a few dozen distinct documents (open or full,
# seats left, waitlist) serve every search of the process. Bounded: emptied when it grows past
# ``_RENDERED_MAX`` (many distinct seat counts).
_rendered: dict[tuple, bytes] = {}
_RENDERED_MAX = 4096


def _availability_bytes(value) -> bytes:
    if not isinstance(value, dict):
        return b'"availability":' + render_json(value)
    try:
        # Types in the key too: 1 and True are equal keys, not equal JSON.
        memo = tuple((k, type(v), v) for k, v in value.items())
        hit = _rendered.get(memo)
    except TypeError:  # a value that cannot be a key (a list, say): rendered each time
        return b'"availability":' + render_json(value)
    if hit is None:
        if len(_rendered) >= _RENDERED_MAX:
            _rendered.clear()
        hit = _rendered[memo] = b'"availability":' + render_json(value)
    return hit


def page_template(page: dict) -> CachedPage:
    built = {item["id"]: item.get("availability") for item in page["results"]}
    results = [{**item, "availability": f"@@av:{item['id']}@@"} for item in page["results"]]
    return CachedPage(body=render_json({**page, "results": results}), built=built)


def page_get(request) -> tuple[CachedPage | None, PageSlot | None]:
    """(the cached page, or None; where to store a fresh one, or None for no cache). One round
    trip: the page, what it was built with (its catalog generation among it) and the tenant's
    current generation; a page of an older generation is not used. Where this process has
    served the page before, the availability of the offerings it had then is read in the same
    round trip (``availability_read_queued``) and comes with the page (``CachedPage.seats``)
    if they are still its offerings."""
    try:
        key = _page_key(request)
        pipe = _redis().pipeline(transaction=False)
        pipe.mget(key, f"{key}:built", f"{_prefix(connection.schema_name)}:generation")
        hint = _page_ids.get(key)
        finish = availability_read_queued(pipe, hint) if hint else None
        (body, built, generation), *seat_replies = pipe.execute()
    except Exception as exc:
        _warn(exc)
        return None, None
    slot = PageSlot(key=key, generation=(generation or b"0").decode())
    if body is not None and built is not None:
        kept = json.loads(built)
        if kept.get("g") == slot.generation:
            Stats.hits += 1
            shown = {int(k): v for k, v in kept["a"].items()}
            ids = list(shown)
            seats = finish(seat_replies) if finish is not None and hint == ids else None
            if hint != ids:
                _remember_ids(key, ids)
            refresh = _near_its_end(kept.get("t")) and _take_refresh_turn(key)
            return CachedPage(body=body, built=shown, seats=seats, refresh=refresh), slot
    Stats.misses += 1
    return None, slot


# The offerings of each page this process served (by page key), so its next read of the page
# reads their availability in the same round trip. Bounded: emptied past ``_PAGE_IDS_MAX``.
_page_ids: dict[str, list[int]] = {}
_PAGE_IDS_MAX = 2048


def _remember_ids(key: str, ids: list[int]) -> None:
    if len(_page_ids) >= _PAGE_IDS_MAX:
        _page_ids.clear()
    _page_ids[key] = ids


def _near_its_end(built_at) -> bool:
    """Whether a page built at ``built_at`` (epoch seconds; None for a page kept before the
    time was) is within ``REFRESH_WITHIN_SECONDS`` of its end."""
    if not isinstance(built_at, int | float):
        return False
    return time.time() - built_at >= PAGE_TTL_SECONDS - REFRESH_WITHIN_SECONDS


# Pages this process took (or tried to take) the refresh turn of, by key: monotonic time.
_refresh_tried: dict[str, float] = {}


def _take_refresh_turn(key: str) -> bool:
    """Whether this search rebuilds the page after its answer: only a search being served
    through ``kernel.after_response`` (elsewhere the rebuild would be the caller's own wait),
    at most one try a page per process every ``REFRESH_TURN_SECONDS``, and then the one
    process whose ``SET NX`` wins."""
    if not after_response.serving():
        return False
    now = time.monotonic()
    if now - _refresh_tried.get(key, float("-inf")) < REFRESH_TURN_SECONDS:
        return False
    if len(_refresh_tried) >= _PAGE_IDS_MAX:
        _refresh_tried.clear()
    _refresh_tried[key] = now
    try:
        taken = bool(_redis().set(f"{key}:refresh", "1", nx=True, ex=REFRESH_TURN_SECONDS))
    except Exception as exc:
        _warn(exc)
        return False
    if taken:
        Stats.refreshes += 1
    return taken


def page_put(slot: PageSlot | None, page: dict) -> CachedPage:
    """The page as bytes with availability slots; stored at ``slot`` (None: not stored) with the
    generation it was read under (a change since makes the next search build it again)."""
    cached = page_template(page)
    if slot is None:
        return cached
    try:
        built = json.dumps({"g": slot.generation, "a": cached.built, "t": time.time()})
        # Both keys at once (MULTI): two processes storing the same page under different
        # generations must not leave one's body beside the other's generation.
        pipe = _redis().pipeline(transaction=True)
        pipe.set(slot.key, cached.body, ex=PAGE_TTL_SECONDS)
        pipe.set(f"{slot.key}:built", built, ex=PAGE_TTL_SECONDS)
        pipe.delete(f"{slot.key}:refresh")  # a new page: its own turn when near its end
        pipe.execute()
        _remember_ids(slot.key, cached.ids)
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
    _page_ids.clear()
    _refresh_tried.clear()
