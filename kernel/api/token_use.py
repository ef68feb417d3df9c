"""API tokens' last use, written behind the requests that use them.

Every API request of an app presents its bearer token, and a token's use is recorded
(``ApiToken.last_used_at``, at most once a minute: it slides the token's expiry and shows the
family which devices are signed in). Written as each request came, that was one ``UPDATE`` and
one commit, a WAL flush, per request that found the token unused for a minute: in a
registration opening, every family's join (3,000 in 10 s), a quarter of the join's CPU
(docs/benchmarks.md, issue 21, "Thirteenth pass").

So a use is kept in this process (``token_use_record``) and written with the others in one
statement per schema (``token_uses_flush``) once the oldest kept use is
``API_TOKEN_USE_FLUSH_SECONDS`` old (5):

- in a gunicorn worker, by a thread of its own (``flusher_start``, from
  ``saas_platform.gunicorn_conf.post_worker_init``), never by a request: the write waits on
  PostgreSQL (and on another worker's write of the same tokens), and a request that wrote at its
  end kept its client waiting meanwhile (another business's search, 0.5 s once under load);
  and when the worker exits (``worker_exit``);
- elsewhere (``runserver``, tests), by ``TokenUseFlushMiddleware`` at the end of the first request
  that finds them due (0 writes at the end of the same request), outside any transaction.

What the delay can change, and what keeps it harmless:

- A device list read in the meantime shows the token's use up to a few seconds late (at most
  once a minute anyway).
- Expiry: a use within ``WRITE_AT_ONCE_BEFORE_EXPIRY`` of the token's expiry is written at once,
  as before, so no process can find a token expired that another one just accepted. This
  process reads its own kept uses too (``token_use_pending``).
- A worker killed without its exit hook (``SIGKILL``, out of memory) loses the uses it kept:
  at most a few seconds of them, each only sliding an expiry of weeks by a few seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from kernel.users.models import ApiToken

logger = logging.getLogger(__name__)

# A use this close to the token's expiry is written at once (see the module's docstring).
WRITE_AT_ONCE_BEFORE_EXPIRY = timedelta(minutes=5)
# More kept uses than this are due however recent (one statement per schema stays small).
MAX_PENDING = 2_000

_lock = threading.Lock()
# (schema, token id) -> the latest use kept.
_pending: dict[tuple[str, int], datetime] = {}


class _Oldest:
    at = 0.0  # the monotonic time of the oldest use kept (meaningless while none is)


def flush_seconds() -> float:
    return float(getattr(settings, "API_TOKEN_USE_FLUSH_SECONDS", 5))


def token_use_pending(schema: str, token_id: int) -> datetime | None:
    """The use of this token kept in this process and not written yet, if any."""
    return _pending.get((schema, token_id))


def token_use_record(token: ApiToken, now: datetime, expires_at: datetime | None) -> None:
    """Record that ``token`` (of the current schema) was used at ``now``: kept, written later
    with the others; at once when its expiry (``expires_at``, None: never) is near."""
    if expires_at is not None and expires_at - now <= WRITE_AT_ONCE_BEFORE_EXPIRY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return
    key = (connection.schema_name, token.pk)
    with _lock:
        if not _pending:
            _Oldest.at = time.monotonic()
        if _pending.get(key, now) <= now:
            _pending[key] = now


def token_uses_due() -> bool:
    """Kept uses should be written now: the oldest is ``flush_seconds()`` old, or there are
    many. Cheap enough for every request (no lock)."""
    if not _pending:
        return False
    return len(_pending) >= MAX_PENDING or time.monotonic() - _Oldest.at >= flush_seconds()


def token_uses_flush() -> int:
    """Write every kept use, one ``UPDATE`` per schema on this thread's connection (it never
    moves a use back: a later use already written stays; a token deleted since matches no
    row). Returns how many uses were written. A schema whose write fails (dropped since, the
    database away) is logged and its uses dropped: they only slide expiries."""
    with _lock:
        if not _pending:
            return 0
        taken = dict(_pending)
        _pending.clear()
    by_schema: dict[str, list[tuple[int, datetime]]] = {}
    for (schema, token_id), used in taken.items():
        by_schema.setdefault(schema, []).append((token_id, used))
    table = connection.ops.quote_name(ApiToken._meta.db_table)
    written = 0
    for schema, uses in sorted(by_schema.items()):
        uses.sort()  # the same row order in every process: two writes never deadlock
        rows = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(uses))
        params = [value for use in uses for value in use]
        try:
            # Its own transaction (a savepoint inside a caller's): a schema that fails leaves
            # the others' writes.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {connection.ops.quote_name(schema)}.{table} AS t "
                    f"SET last_used_at = v.used FROM (VALUES {rows}) AS v (id, used) "
                    "WHERE t.id = v.id AND (t.last_used_at IS NULL OR t.last_used_at < v.used)",
                    params,
                )
        except DatabaseError as exc:
            logger.warning(
                "API tokens: %d token uses in schema %s not recorded (%s)", len(uses), schema, exc
            )
            continue
        written += len(uses)
    return written


class _Flusher:
    thread: threading.Thread | None = None
    stop = threading.Event()


def flusher_start() -> bool:
    """Write the kept uses from a thread of this process's own, once they are due
    (``API_TOKEN_USE_FLUSH_SECONDS``); the middleware then leaves them to it. Call once per
    process (a gunicorn worker, after the fork). False when it runs already."""
    if _Flusher.thread is not None and _Flusher.thread.is_alive():
        return False
    _Flusher.stop = threading.Event()
    _Flusher.thread = threading.Thread(
        target=_flusher_run, args=(_Flusher.stop,), name="token-use-flusher", daemon=True
    )
    _Flusher.thread.start()
    return True


def flusher_stop() -> None:
    """Stop the thread (the caller writes what is left: ``token_uses_flush``)."""
    thread = _Flusher.thread
    _Flusher.stop.set()
    if thread is not None:
        thread.join(timeout=5)
    _Flusher.thread = None


def flusher_running() -> bool:
    return _Flusher.thread is not None


def _flusher_run(stop: threading.Event) -> None:
    from django.db import connections

    # Looks five times a period: a use is written 5-6 s after it was kept (at the default).
    while not stop.wait(max(flush_seconds() / 5, 0.05)):
        if not token_uses_due():
            continue
        try:
            token_uses_flush()
        except Exception:
            logger.exception("API tokens: kept uses not written")
        finally:
            connections.close_all()  # this thread's only: none kept between writes


def token_uses_forget() -> None:
    """Drop every kept use unwritten (tests: a use kept by a test whose rows rolled back)."""
    with _lock:
        _pending.clear()


class TokenUseFlushMiddleware:
    """At the end of each request: write the process's kept token uses when they are due
    (``token_uses_due``), outside any transaction, unless the process has its own thread for
    it (``flusher_start``: a gunicorn worker). Outermost but for the request id, so every
    request (health checks and the waiting room's answers before the stack included) may be
    the one that writes."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        due = bool(_pending) and not flusher_running() and token_uses_due()
        if due and not connection.in_atomic_block:
            try:
                token_uses_flush()
            except Exception:  # never the request's answer's problem
                logger.exception("API tokens: kept uses not written")
        return response
