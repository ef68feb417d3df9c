"""Writing the audit log: ``audit_record(...)`` from services, admin views and signal
handlers. The acting request (set by AuditContextMiddleware) supplies the actor, the client
address and the request id; outside a request (Celery tasks, Stripe webhooks) the actor is the
system. One INSERT per event, in the caller's transaction, so a rolled-back change leaves no
entry and a committed one always has its entry; inside ``audit_batch()`` (a hot path that
records several, such as checkout) the block's entries are one INSERT at its end, still in the
transaction."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from django.db import DatabaseError, connection

from kernel.client_address import client_address
from kernel.observability import current_request_id

_request: ContextVar = ContextVar("audit_request", default=None)
_batch: ContextVar[list | None] = ContextVar("audit_batch", default=None)


def set_request(request) -> Token:
    return _request.set(request)


def reset_request(token: Token) -> None:
    _request.reset(token)


def current_request():
    return _request.get()


class _Pending:
    """Entries recorded inside ``audit_batch()`` by one call, waiting for the block's INSERT."""

    __slots__ = ("entries",)

    def __init__(self, entries: list) -> None:
        self.entries = entries

    def __call__(self) -> None:
        """Registered with ``on_commit`` only to be dropped with a rolled-back savepoint."""


@contextmanager
def audit_batch() -> Iterator[None]:
    """Entries recorded inside the block (by services or the model signals) are written in one
    INSERT when it ends, instead of one each. Use it inside the transaction that makes the
    changes (it refuses to run outside one), so the entries commit or roll back with them.
    Entries recorded in a savepoint rolled back inside the block (a nested ``atomic`` whose
    error was caught) are not written, as their own INSERTs would have been rolled back with it.
    A block that raises still writes what it recorded, in case its caller catches the error
    inside the same transaction and commits what was done; if that INSERT fails, the transaction
    is broken and nothing of it can commit, so the block's own error goes on. Nothing inside may
    read the entries back. A nested block joins the outer one."""
    if _batch.get() is not None:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("audit_batch() must run inside transaction.atomic()")
    pending: list[_Pending] = []
    token = _batch.set(pending)
    try:
        yield
    except BaseException:
        _batch.reset(token)
        with contextlib.suppress(DatabaseError):
            _flush(pending)
        raise
    _batch.reset(token)
    _flush(pending)


def _flush(pending: list[_Pending]) -> None:
    if pending:
        # Django forgets the on_commit callbacks of a rolled-back savepoint: what is left is
        # what the transaction still holds.
        kept = {id(hook[1]) for hook in connection.run_on_commit}
        _insert([e for p in pending if id(p) in kept for e in p.entries])


def _save(entries: list) -> None:
    batch = _batch.get()
    if batch is not None:
        waiting = _Pending(entries)
        connection.on_commit(waiting)
        batch.append(waiting)
    else:
        _insert(entries)


def _insert(entries: list) -> None:
    """One ``INSERT`` of the entries, each value prepared by its model field as Django would
    (the JSON, the address), each entry given its id. A fixed statement: Django's insert
    compiler cost more Python than the rest of writing the rows (docs/rush.md, "Twelfth pass").
    The model sends no signals and nothing listens for them."""
    if not entries:
        return
    fields, table, columns = _insert_shape()
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [f.get_db_prep_save(f.pre_save(e, True), connection) for e in entries for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES "
            + ", ".join([row] * len(entries))
            + " RETURNING id",
            params,
        )
        ids = [r[0] for r in cursor.fetchall()]
    for entry, pk in zip(entries, ids, strict=True):
        entry.pk = pk
        entry._state.adding = False
        entry._state.db = connection.alias


@functools.cache
def _insert_shape() -> tuple[tuple, str, str]:
    """The entry's columns (all but the id), its table and the quoted column list."""
    from .models import AuditEntry

    fields = tuple(f for f in AuditEntry._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    return fields, quote(AuditEntry._meta.db_table), ", ".join(quote(str(f.column)) for f in fields)


def _actor(request, user=None) -> tuple[int | None, str, str]:
    from .models import AuditEntry

    user = user if user is not None else getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        if request is None or request.path_info.startswith("/webhooks/"):
            return None, "", AuditEntry.ActorKind.SYSTEM
        return None, "", AuditEntry.ActorKind.VISITOR
    if connection.schema_name == "public":
        kind = AuditEntry.ActorKind.PLATFORM
    elif user.is_staff:
        kind = AuditEntry.ActorKind.STAFF
    else:
        kind = AuditEntry.ActorKind.FAMILY
    return user.pk, user.email, kind


def audit_record(
    *,
    action: str,
    obj=None,
    object_type: str = "",
    object_id=None,
    family_id: int | None = None,
    fields: dict | list | None = None,
    user=None,
):
    """Record one entry: written at once, or inside ``audit_batch()`` with the block's others
    when it ends (its id is set then). ``obj`` gives the object's type and id (and its family
    when it has a ``family_id``); ``user`` overrides the request's user."""
    from .models import AuditEntry

    if connection.schema_name == "public":
        return None  # the audit log is per business; the public schema has no table
    request = current_request()
    actor_id, actor_email, kind = _actor(request, user)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        if family_id is None:
            family_id = getattr(obj, "family_id", None)
    ip = None
    if request is not None:
        ip = client_address(request)
    entry = AuditEntry(
        actor_id=actor_id,
        actor_email=actor_email,
        actor_kind=kind,
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        family_id=family_id,
        fields=fields if fields is not None else {},
        request_id=current_request_id() or "",
        ip_address=ip,
    )
    _save([entry])
    return entry


def audit_bulk(*, action: str, model, rows: list[tuple[int, int | None]], fields: dict) -> None:
    """One entry per (object id, family id) changed by a queryset ``update()`` (which sends no
    signals), in one INSERT."""
    from .models import AuditEntry

    if not rows or connection.schema_name == "public":
        return
    request = current_request()
    actor_id, actor_email, kind = _actor(request)
    ip = client_address(request)
    _save(
        [
            AuditEntry(
                actor_id=actor_id,
                actor_email=actor_email,
                actor_kind=kind,
                action=action,
                object_type=model._meta.label_lower,
                object_id=str(pk),
                family_id=family_id,
                fields=fields,
                request_id=current_request_id() or "",
                ip_address=ip,
            )
            for pk, family_id in rows
        ]
    )
