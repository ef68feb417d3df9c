"""The connect-time check for PgBouncer in transaction mode (``DATABASE_PGBOUNCER=transaction``).

django-tenants selects a tenant with ``SET search_path`` and, with ``TENANT_LIMIT_SET_CALLS``,
does not repeat it while the connection stays in that schema. Behind PgBouncer in transaction
mode the client's next transaction may run on another server connection; PgBouncer gives the
client its own ``search_path`` back there only if it tracks the parameter
(``track_extra_parameters = search_path``, infra/pgbouncer/pgbouncer.ini), which it can only do
when the server reports it (PostgreSQL 18 on). A server that does not report it would run one
school's queries against another school's tables, so the connection is refused instead.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SearchPathNotReported(ImproperlyConfigured):
    pass


def check_search_path_reported(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: in transaction mode, refuse a connection whose server
    does not report ``search_path`` in its parameter status."""
    if getattr(settings, "DATABASE_PGBOUNCER", "") != "transaction":
        return
    raw = connection.connection
    reported = raw.info.parameter_status("search_path") if raw is not None else None
    if reported is None:
        raw.close()
        raise SearchPathNotReported(
            "DATABASE_PGBOUNCER=transaction needs a server that reports search_path "
            "(PostgreSQL 18+) and PgBouncer 1.20+ with track_extra_parameters = search_path; "
            "use DATABASE_PGBOUNCER=session otherwise (docs/operations.md)."
        )


def install() -> None:
    from django.db.backends.signals import connection_created

    connection_created.connect(
        check_search_path_reported, dispatch_uid="kernel.pgbouncer.search_path"
    )
