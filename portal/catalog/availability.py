"""Seat availability for search, from Redis.

One Redis hash per tenant maps offering id -> "capacity:seats_taken:waitlist_count" for every
upcoming published offering. A marker key with a short TTL (``AVAILABILITY_CACHE_TTL``, 5 s by
default) says the copy is fresh. When it has lapsed, the first search to take a lock key
(``SET NX``) reloads the whole hash with one indexed query; every other search meanwhile reads
the stale copy. Search never locks rows.

Every seat change (hold, release, checkout, confirmation, waitlist, drop, transfer, capacity
edit) runs through ``portal.enrollment.services.lock_offerings`` or saves the offering, which
calls ``offerings_changed``: the offerings' entries are removed at once (searches use the
counters on the rows they already read) and written again with the committed counters right
after commit. A reload that read the database just before a change committed can put an older
value back; it lasts at most one TTL. Checkout never reads this cache: it recounts seats under
the offering's row lock, so a stale copy can show a wrong number for a few seconds but can never
oversell.

Redis unreachable: search falls back to the counters on the rows, and a warning is logged at most
once a minute per process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from kernel import after_response
from kernel.queries import prepared_cursor
from kernel.redis import redis_client as _redis
from kernel.redis import redis_key

from .models import Offering

logger = logging.getLogger(__name__)

STALE_TTL_SECONDS = 600  # how long a stale copy may still be served while one process reloads
LOCK_TTL_SECONDS = 5
_last_warning = 0.0
_touched: set[str] = set()  # schemas this process cached (test clean-up)


@dataclass(frozen=True)
class Availability:
    capacity: int
    seats_taken: int
    waitlist_count: int

    @property
    def openings(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.openings == 0

    def encode(self) -> str:
        return f"{self.capacity}:{self.seats_taken}:{self.waitlist_count}"

    @classmethod
    def decode(cls, raw: bytes | str) -> Availability:
        if isinstance(raw, bytes):
            raw = raw.decode()
        capacity, seats, waitlist = (int(part) for part in raw.split(":"))
        return cls(capacity, seats, waitlist)

    @classmethod
    def of(cls, offering: Offering) -> Availability:
        return cls(offering.capacity, offering.seats_taken, offering.waitlist_count)


def _keys(schema: str) -> tuple[str, str, str]:
    base = redis_key("avail", schema)
    return base, f"{base}:fresh", f"{base}:lock"


def _warn(what: str) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.warning("availability cache: Redis unreachable (%s); using database counters", what)


class Stats:
    """Counters for tests and benchmarks (per process)."""

    hits = 0
    stale = 0
    reloads = 0
    reloads_deferred = 0  # left until the answer was sent (``kernel.after_response``)
    fallbacks = 0


def _reload(client, schema: str, today=None) -> dict[int, Availability]:
    rows = Offering.objects.published().filter(end_date__gte=today or timezone.localdate())
    values = {
        pk: Availability(capacity, seats, waitlist)
        for pk, capacity, seats, waitlist in rows.values_list(
            "pk", "capacity", "seats_taken", "waitlist_count"
        )
    }
    key, fresh, lock = _keys(schema)
    pipe = client.pipeline(transaction=False)
    if values:
        pipe.hset(key, mapping={str(pk): a.encode() for pk, a in values.items()})
    pipe.expire(key, STALE_TTL_SECONDS)
    pipe.set(fresh, "1", ex=max(settings.AVAILABILITY_CACHE_TTL, 1))
    pipe.delete(lock)
    pipe.execute()
    Stats.reloads += 1
    return values


def _reload_after(schema: str, today) -> None:
    """``_reload`` once a search's answer is sent (``kernel.after_response``), in the schema
    and for the day of the search that found the copy stale."""
    from django_tenants.utils import schema_context

    with schema_context(schema):
        _reload(_redis(), schema, today)


def _cached(ids: list[int]) -> dict[int, Availability]:
    """What Redis has for these offerings (reloading the tenant's copy first if it is this
    process's turn); offerings it lacks are left out. Raises if Redis is unreachable."""
    schema = connection.schema_name
    pipe = _redis().pipeline(transaction=False)
    _queue_read(pipe, schema, ids)
    cached, is_fresh = pipe.execute()
    return _from_replies(schema, ids, cached, is_fresh)


def _queue_read(pipe, schema: str, ids: list[int]) -> None:
    """The two commands of a read (the offerings' entries, whether the copy is fresh)."""
    _touched.add(schema)
    key, fresh, _ = _keys(schema)
    pipe.hmget(key, [str(i) for i in ids])
    pipe.exists(fresh)


def _from_replies(schema: str, ids: list[int], cached: list, is_fresh) -> dict[int, Availability]:
    """``_cached`` from the replies to ``_queue_read``'s commands."""
    if not is_fresh:
        _, _, lock = _keys(schema)
        client = _redis()
        took_turn = client.set(lock, "1", nx=True, ex=LOCK_TTL_SECONDS)
        if took_turn and not after_response.serving():
            reloaded = _reload(client, schema)
            found = {pk: reloaded[pk] for pk in ids if pk in reloaded}
            missing = [pk for pk, raw in zip(ids, cached, strict=True) if pk not in found and raw]
            found.update({pk: Availability.decode(cached[ids.index(pk)]) for pk in missing})
            return found
        if took_turn:
            # In a request: answered from the stale copy, like every other search meanwhile,
            # and reloaded once the answer is sent (outside one, reloaded now, above).
            after_response.defer(partial(_reload_after, schema, timezone.localdate()))
            Stats.reloads_deferred += 1
        Stats.stale += 1
    else:
        Stats.hits += 1
    return {pk: Availability.decode(raw) for pk, raw in zip(ids, cached, strict=True) if raw}


def availability_for(offerings: Iterable[Offering]) -> dict[int, Availability]:
    """Availability of these offerings (already read by a search), from the cache where it has
    them, else from the counters on the rows."""
    offerings = list(offerings)
    if not offerings:
        return {}
    out = {o.pk: Availability.of(o) for o in offerings}
    try:
        out.update(_cached([o.pk for o in offerings]))
    except Exception as exc:  # Redis down or slow: the rows' counters are exact enough
        Stats.fallbacks += 1
        _warn(type(exc).__name__)
    return out


def availability_by_ids(ids: Iterable[int]) -> dict[int, Availability]:
    """Availability of offerings known only by id (a cached search page): from the cache, and
    one query for any it lacks (or all of them if Redis is unreachable)."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        return {}
    try:
        out = _cached(ids)
    except Exception as exc:
        Stats.fallbacks += 1
        _warn(type(exc).__name__)
        out = {}
    return _with_missing(ids, out)


def availability_read_queued(pipe, ids: list[int]) -> Callable[[list], dict[int, Availability]]:
    """``availability_by_ids`` in a caller's Redis pipeline, so its read shares a round trip
    (a warm search's page and its availability: ``portal.catalog.search_cache``). Queues two
    commands on ``pipe`` (``ids`` must not be empty); the function returned takes their two
    replies and gives what ``availability_by_ids(ids)`` would, the tenant's copy reloaded if
    it is this process's turn, and the database's counters for offerings Redis lacks. The
    read must be finished in the schema it was queued in."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    schema = connection.schema_name
    _queue_read(pipe, schema, ids)

    def finish(replies: list) -> dict[int, Availability]:
        try:
            cached, is_fresh = replies
            out = _from_replies(schema, ids, cached, is_fresh)
        except Exception as exc:
            Stats.fallbacks += 1
            _warn(type(exc).__name__)
            out = {}
        return _with_missing(ids, out)

    return finish


def _with_missing(ids: list[int], out: dict[int, Availability]) -> dict[int, Availability]:
    """``out`` with the database's counters for the offerings it lacks."""
    missing = [pk for pk in ids if pk not in out]
    if missing:
        out.update({pk: Availability(c, s, w) for pk, c, s, w in _counters(missing)})
    return out


_COUNTERS_SQL = (
    'SELECT "id", "capacity", "seats_taken", "waitlist_count" '
    f'FROM "{Offering._meta.db_table}" WHERE "id" = ANY(%s)'
)


def _counters(ids: list[int]) -> list[tuple[int, int, int, int]]:
    """(id, capacity, seats taken, waitlist) of these offerings: a fixed statement prepared
    once per connection (``kernel.queries.prepared_cursor``), as each hold and checkout writes
    its class's counters back after commit."""
    with prepared_cursor() as cursor:
        cursor.execute(_COUNTERS_SQL, [list(ids)])
        return cursor.fetchall()


def _write_committed(schema_tenant, ids: list[int]) -> None:
    from django_tenants.utils import tenant_context

    try:
        with tenant_context(schema_tenant):
            mapping = {str(pk): Availability(c, s, w).encode() for pk, c, s, w in _counters(ids)}
            if mapping:
                key, _, _ = _keys(schema_tenant.schema_name)
                pipe = _redis().pipeline(transaction=False)
                pipe.hset(key, mapping=mapping)
                pipe.expire(key, STALE_TTL_SECONDS)
                pipe.execute()
    except Exception as exc:  # the entries were already removed: searches read the rows
        _warn(type(exc).__name__)


def offerings_changed(ids: Iterable[int]) -> None:
    """Seats (or capacity) of these offerings are changing in the current transaction: drop
    their cached entries now and write the committed counters after commit."""
    ids = sorted({int(i) for i in ids})
    tenant = getattr(connection, "tenant", None)
    if not ids or tenant is None or connection.schema_name == "public":
        return
    key, _, _ = _keys(connection.schema_name)
    try:
        _redis().hdel(key, *[str(i) for i in ids])
    except Exception as exc:
        _warn(type(exc).__name__)
    transaction.on_commit(lambda: _write_committed(tenant, ids), robust=True)


def availability_clear(schema: str | None = None) -> None:
    """Forget a tenant's cached availability (tests, and after restoring a backup)."""
    keys = _keys(schema or connection.schema_name)
    try:
        _redis().delete(*keys)
    except Exception as exc:
        _warn(type(exc).__name__)


def availability_clear_touched() -> None:
    """Forget the cache of every tenant this process searched (the test harness)."""
    for schema in list(_touched):
        availability_clear(schema)
    _touched.clear()
