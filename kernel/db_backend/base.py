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
"""

from __future__ import annotations

import functools

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
