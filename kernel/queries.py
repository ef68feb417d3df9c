"""Small query helpers for the hot paths."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.db.models.query import ModelIterable, get_related_populators
from django.db.transaction import TransactionManagementError

T = TypeVar("T", bound=Model)


def by_key(qs: QuerySet[T]) -> T | None:
    """The row of a lookup by a unique key (a primary key, a unique column or constraint), or
    None. ``first()`` orders by the primary key to choose among rows; for a unique key there is
    nothing to choose, and Django compiles an ordering by hashing every selected column (a wide
    ``select_related`` has dozens): ~9 % of a hold's and a checkout's CPU in their profile
    (docs/rush.md, "Sixth pass"). So: no ``ORDER BY``, ``LIMIT 1``."""
    for row in qs.order_by()[:1]:
        return row
    return None


@contextlib.contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator[Any]:
    """A cursor for the hot paths' fixed reads, whose statements PostgreSQL parses and plans
    once per connection instead of on every run.

    Django binds parameters on the client (psycopg's ``ClientCursor``: the values are written
    into the statement's text), so PostgreSQL parses and plans every statement afresh: in an
    opening's rush planning alone was 2.5 of PostgreSQL's ~9 CPU-seconds until the last seat,
    0.24 ms for each join's token read (docs/rush.md, "Tenth pass"). This cursor binds them on
    the server (psycopg's ``Cursor``) and has psycopg prepare each on its first run on the
    connection (``DATABASE_PREPARED_READS``; off behind PgBouncer, where the statement is
    still bound on the server but not prepared). The connection's ``prepare_threshold`` is
    set for that statement only: left on, psycopg would count (and keep the text of) every
    other statement Django runs. PostgreSQL parses a prepared statement again if the
    ``search_path`` changed since, so a connection moving between tenants reads each
    tenant's own tables.

    ``SELECT`` only (refused otherwise, ``ValueError``): pghistory puts a second statement in
    front of a write inside its context, and a server-bound statement must be one. Django's
    wrapper is kept (the health check, the tenant's ``search_path``, ``CaptureQueriesContext``,
    its error classes); only the psycopg cursor under it changes.

    A prepared statement fails ("cached plan must not change result type") once another
    session changed the type of a column it returns: a migration during a rolling deploy, the
    old workers still serving. Outside a transaction the connection's prepared statements are
    dropped and the statement runs again; inside one the error goes up, and the transaction's
    rollback drops them (psycopg does on every rollback), so one request fails, not every one
    until the connection is closed."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    conn = connections[using]
    with conn.cursor() as wrapped:
        client = wrapped.cursor
        server = _preparing_cursor_class()(client.connection)
        # As Django's create_cursor: its time zone for timestamps, where the connection's
        # own loader has another.
        loader = client.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if conn.timezone != loader.timezone:
            register_tzloader(conn.timezone, server)
        client.close()
        wrapped.cursor = server
        yield _SelectOnly(wrapped, conn, prepare=settings.DATABASE_PREPARED_READS)


@functools.cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Django's server-binding cursor. psycopg leaves the cursor's query unset when it
        runs a prepared statement, and Django reads it for the statement it logs
        (``CaptureQueriesContext``, ``DEBUG``): set it, as for any other statement."""

        def _send_query_prepared(self, name, pgq, *, binary=None):
            self._query = pgq
            return super()._send_query_prepared(name, pgq, binary=binary)

    return PreparingCursor


# PostgreSQL's refusal to run a prepared statement whose result columns changed type.
_RESULT_TYPE_CHANGED = "cached plan must not change result type"


class _SelectOnly:
    """Django's cursor wrapper, for ``SELECT`` statements only (``prepared_cursor``)."""

    def __init__(self, wrapped, conn, *, prepare: bool) -> None:
        self._wrapped = wrapped
        self._conn = conn
        self._prepare = prepare

    def execute(self, sql: str, params=None):
        if not sql.lstrip()[:6].upper() == "SELECT":
            raise ValueError("prepared_cursor runs SELECT statements only")
        try:
            return self._run(sql, params)
        except DatabaseError as exc:
            if _RESULT_TYPE_CHANGED not in str(exc) or self._conn.in_atomic_block:
                raise
        # Outside a transaction: forget the connection's prepared statements (psycopg's record
        # first: it has no public call for this), drop them in PostgreSQL, and run it again,
        # prepared afresh. tests/integration/test_prepared_reads.py holds this to psycopg.
        self._conn.connection._prepared.clear()
        with self._conn.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        return self._run(sql, params)

    def _run(self, sql: str, params):
        if not self._prepare:
            return self._wrapped.execute(sql, params)
        raw = self._conn.connection
        raw.prepare_threshold = 0  # prepared on its first run, reused after
        try:
            return self._wrapped.execute(sql, params)
        finally:
            raw.prepare_threshold = None

    def __getattr__(self, name: str):
        return getattr(self._wrapped, name)


def sql_literals(values) -> str:
    """Choice values written into a fixed plain statement: ``'active', 'offer'``, for
    ``status IN (...)``. Only plain lowercase names (a model's choices), so nothing a person
    typed can ever be written into SQL here."""
    out = []
    for value in values:
        text = str(value)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", text):
            raise ValueError(f"not a plain choice value: {text!r}")
        out.append(f"'{text}'")
    return ", ".join(out)


class CompiledQuery(Generic[T]):
    """A hot read's queryset, composed and compiled once per database connection; each call
    runs the same SQL with its own values.

    Django builds a queryset's ``Query`` and compiles it to SQL anew on every request. For the
    rush's reads (a bearer token with its user, guardian and family; a student with its level;
    the cart's holds with their classes) that is most of their CPU: 0.3-0.55 ms of a 0.6 ms
    lookup, the statement itself a fifth of it. So::

        STUDENT = CompiledQuery(
            lambda student_id, family_id: Student.objects.select_related("level").filter(
                pk=student_id, family_id=family_id
            ),
            student_id=int,
            family_id=int,
        )
        student = STUDENT.one(student_id=7, family_id=3)

    Each value is declared with its type, ``int`` or ``str``. A call whose values are all of
    their declared types runs the compiled statement; any other (a form's text for an id, a
    ``None``) runs the queryset ``build`` gives for it, through the ORM, which converts or
    refuses it as it always would. ``build`` is compiled with stand-in values of the declared
    types (in range for any integer column), and each must reach the SQL as one parameter,
    unchanged (``pk=value``, ``key_hash=value``; not inside a pattern, not
    a small integer column's, which psycopg wraps): anything else is refused when it is
    compiled (``TypeError``), so a mistake shows on the first call in a test, never as a wrong
    row. The model instances are made as ``QuerySet.__iter__`` makes them (``select_related``
    rows included, annotations set, ``prefetch_related`` done by ``prefetch_related_objects``);
    a locking read (``select_for_update``) is checked to run inside a transaction on each call,
    as Django checks it when compiling; ``values()`` is refused, and so is a queryset class
    that adds to its rows when fetched, unless it says this one does not
    (``compiled_query_plain``).
    The compiled statement lives on the thread's connection wrapper, so it is never shared
    between threads, and ``CaptureQueriesContext`` and the history context see the statement
    as any other.
    """

    _INT_BASE = 31_000

    def __init__(self, build: Callable[..., QuerySet[T]], **types: type) -> None:
        for name, kind in types.items():
            if kind not in (int, str):
                raise TypeError(f"CompiledQuery: {name} must be an int or a str, not {kind}")
        self._build = build
        self._types = tuple(sorted(types.items()))

    def one(self, **values) -> T | None:
        """The row of a lookup by a unique key, or None (as ``by_key``)."""
        for row in self._run(values, one=True):
            return row
        return None

    def all(self, **values) -> list[T]:
        return self._run(values, one=False)

    def _run(self, values: dict, *, one: bool) -> list[T]:
        if sorted(values) != [name for name, _kind in self._types]:
            raise TypeError(f"CompiledQuery: takes {[name for name, _ in self._types]}")
        if any(type(values[name]) is not kind for name, kind in self._types):
            queryset = self._build(**values)
            return list(queryset.order_by()[:1] if one else queryset)
        key = (self, one)
        conn = connections[DEFAULT_DB_ALIAS]
        cache = conn.__dict__.setdefault("_compiled_queries", {})
        compiled = cache.get(key)
        if compiled is None:
            compiled = cache[key] = _Compiled(self._build, self._types, one=one)
        return compiled.run(values)


def _fetches_more(queryset: QuerySet) -> bool:
    """The queryset's class changes how rows are fetched (``_fetch_all``, ``__iter__`` or
    ``iterator`` overridden) and does not say this queryset is plain
    (``compiled_query_plain()``): rows made here would miss what it adds."""
    kind = type(queryset)
    overrides = any(
        getattr(kind, name) is not getattr(QuerySet, name)
        for name in ("_fetch_all", "__iter__", "iterator")
    )
    plain = getattr(queryset, "compiled_query_plain", None)
    return overrides and not (plain is not None and plain())


def _others(params, slots) -> list:
    """The parameters that are not the caller's values (constants of the queryset)."""
    taken = {at for at, _name in slots}
    return [p for i, p in enumerate(params) if i not in taken]


class _Compiled:
    def __init__(self, build: Callable[..., QuerySet], types: tuple, *, one: bool) -> None:
        # Compiled with two sets of stand-ins: the statement must be the same, each stand-in
        # in one parameter of its own. That refuses a value used twice or transformed, and a
        # shape that depends on the value (Django drops a comparison whose value is out of
        # its column's range).
        first = self._compile(build, self._stand_ins(types, 0), one=one)
        second = self._compile(build, self._stand_ins(types, 1), one=one)
        queryset, compiler, sql, params, slots = first
        if (sql, _others(params, slots), slots) != (
            second[2],
            _others(second[3], slots),
            second[4],
        ):
            raise TypeError(
                "CompiledQuery: the statement changes with the values; each value must be "
                "exactly one plain parameter"
            )
        self.db = queryset.db
        self.sql = sql
        self.params = list(params)
        self.slots = slots
        self.compiler = compiler
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        # Django 5.2's signature (the stubs have a later one).
        self.related = get_related_populators(klass_info, select, self.db)  # type: ignore[call-arg]
        self.annotations = dict(compiler.annotation_col_map or {})
        self.converters = compiler.get_converters([s[0] for s in select[0 : compiler.col_count]])
        self.prefetch = tuple(queryset._prefetch_related_lookups)
        # Django refuses a locking read outside a transaction when it compiles one: each run
        # checks it here instead.
        self.for_update = bool(queryset.query.select_for_update)

    @staticmethod
    def _stand_ins(types: tuple, variant: int) -> dict[str, int | str]:
        # Ints in every integer column's range (0-32767): Django drops a comparison out of it.
        return {
            name: (
                CompiledQuery._INT_BASE + 100 * variant + i if kind is int else f"\x00{variant}:{i}"
            )
            for i, (name, kind) in enumerate(types)
        }

    @staticmethod
    def _compile(build: Callable[..., QuerySet], stand_ins: dict, *, one: bool):
        queryset = build(**stand_ins)
        if one:
            queryset = queryset.order_by()[:1]
        if _fetches_more(queryset):
            raise TypeError(
                f"CompiledQuery: {type(queryset).__name__} adds to its rows when fetched; "
                "define compiled_query_plain() on it to say when it does not"
            )
        if queryset._iterable_class is not ModelIterable or queryset._fields is not None:  # type: ignore[attr-defined]
            raise TypeError("CompiledQuery: model instances only (no values() or values_list())")
        if queryset.db != DEFAULT_DB_ALIAS:  # the cache lives on the default connection
            raise TypeError(f"CompiledQuery: reads from {queryset.db!r}, not the default")
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet):
            raise TypeError("CompiledQuery: the statement changes with the values") from None
        slots = []
        for name, stand_in in stand_ins.items():
            at = [i for i, p in enumerate(params) if type(p) is type(stand_in) and p == stand_in]
            if len(at) != 1:
                raise TypeError(
                    f"CompiledQuery: {name} reaches the SQL {len(at)} times as itself; "
                    "each value must be exactly one plain parameter"
                )
            slots.append((at[0], name))
        return queryset, compiler, sql, params, slots

    def run(self, values: dict) -> list:
        params = list(self.params)
        for at, name in self.slots:
            params[at] = values[name]
        if self.for_update and self.compiler.connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with prepared_cursor(self.db) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        out = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.start : self.end])
            for populator in self.related:
                populator.populate(row, obj)
            for name, at in self.annotations.items():
                setattr(obj, name, row[at])
            out.append(obj)
        if self.prefetch and out:
            prefetch_related_objects(out, *self.prefetch)
        return out
