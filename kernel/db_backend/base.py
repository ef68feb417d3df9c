"""django-tenants' PostgreSQL backend, remembering the ``search_path`` across requests.

django-tenants selects a tenant with ``SET search_path`` and, with ``TENANT_LIMIT_SET_CALLS``,
skips it while the connection stays in that schema. But every ``set_tenant()`` forgets what
the connection is in, and the routing middleware calls it twice a request (the public schema
first, then the host's tenant), so every request that reads the database on a persistent
connection paid a round trip to set the same ``search_path`` again: one of the two statements
of a waiting-room join, one of a hold's 19. (A cached class search reads no table: it never
sent one.)

This wrapper keeps, beside django-tenants' flag, what was last set on the live connection
(``_search_path_on_server``), and a ``set_tenant()`` asking for the same schemas keeps the
flag set. It is forgotten whenever the server's value is unknown, exactly where django-tenants
forgets its own: the connection closed or opened (a pooled connection comes back with another
thread's ``search_path``), a rollback, a rollback to a savepoint (either reverts a ``SET``
made after it) and a failed ``SET``. Behind PgBouncer in transaction mode the client's
``search_path`` is PgBouncer's tracked value for that client (infra/pgbouncer/pgbouncer.ini),
the same one remembered here. Nothing in the code sets ``search_path`` but this wrapper: the
schema clone and the backup restore skip pg_dump's ``SET`` lines.

It also makes Django's per-request health check (``CONN_HEALTH_CHECKS``) cost no round trip
while the connection is plainly alive: see ``close_if_health_check_failed``.
"""

from __future__ import annotations

import functools
import select

from django_tenants.postgresql_backend import base as tenants_base


def _forgetting(method):
    """``method`` of django-tenants' wrapper, with the remembered ``search_path`` forgotten
    before and after it: a rollback (or a close) may get a cursor on the way, which would note
    the flag django-tenants clears only once it is done."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        self._search_path_on_server = None
        try:
            return method(self, *args, **kwargs)
        finally:
            self._search_path_on_server = None

    return wrapper


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        self._search_path_on_server: list[str] | None = None
        super().__init__(*args, **kwargs)

    def set_tenant(self, tenant, include_public=True) -> None:
        super().set_tenant(tenant, include_public)
        on_server = self._search_path_on_server
        live = self.connection is not None
        if live and on_server is not None and on_server == self._get_cursor_search_paths():
            self.search_path_set_schemas = on_server

    def _handle_search_path(self, cursor=None) -> None:
        super()._handle_search_path(cursor)
        if not self._setting_search_path:
            # Set (or found set) on the server; None when the SET failed.
            self._search_path_on_server = self.search_path_set_schemas

    # Wherever the server's search_path may have changed, or the connection is another one.
    connect = _forgetting(tenants_base.DatabaseWrapper.connect)
    close = _forgetting(tenants_base.DatabaseWrapper.close)
    rollback = _forgetting(tenants_base.DatabaseWrapper.rollback)
    savepoint_rollback = _forgetting(tenants_base.DatabaseWrapper.savepoint_rollback)

    def close_if_health_check_failed(self) -> None:
        """Django's health check, sent only where the connection may be dead.

        With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first statement of
        every request on a persistent connection: a round trip, and a statement for PostgreSQL
        to parse and run, on every request that reads the database (a waiting-room join is two
        statements, one of them this). Between requests the connection is idle: psycopg has
        read every answer up to PostgreSQL's "ready for query", so nothing more arrives on
        its socket unless the server speaks unasked, and what a server says unasked to an
        idle session is almost always that it is closing it (a restart, a failover, an
        administrator's ``pg_terminate_backend``: an error message, then the socket closed).
        So the socket is polled without waiting: nothing to read, the connection is kept as
        it is; anything to read (or a connection psycopg already knows is closed or broken),
        Django's own check runs and closes it if it fails. A peer that vanished without a
        word (a cable cut) is no more found by ``SELECT 1``, which would wait for TCP to give
        up. With the pool on, the pool checks its connections (Django skips this)."""
        conn = self.connection
        if (
            conn is not None
            and self.health_check_enabled
            and not self.health_check_done  # type: ignore[has-type]
            and not self.pool
            and not _may_be_dead(conn)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _may_be_dead(conn) -> bool:
    """True unless psycopg's connection is open and nothing waits to be read on its socket."""
    try:
        if conn.closed or conn.broken:
            return True
        poller = select.poll()
        poller.register(conn.pgconn.socket, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except Exception:  # no socket, or not one we can poll: let Django ask the server
        return True
