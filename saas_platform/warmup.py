"""A worker's first request, served to itself before any family's (the quiet lane's worker).

The master does what it can before it forks (``saas_platform/wsgi.py``: imports, routes, the
models' relations), but a worker's first request still pays for what only a request does: the
database's and Redis's first connections (or the pool's), the first compile of the routing,
settings and search queries, the lazily compiled expressions of the middleware (the language
negotiation's, say). ~40 ms of CPU on the benchmark's VM, and the requests that come with it
wait behind it.

A regular worker pays it at start, when no one is waiting. The quiet lane's worker takes no
connection until a rush hands it a quiet business's, so it paid it at the worst moment: the
first search of another business at the start of a rush was that business's slowest of the
opening (42-56 ms of CPU and 60-93 ms in all, against ~3 ms of CPU at the median;
docs/benchmarks.md, issue 21, "Twenty-sixth pass"). So the lane's worker, once started, serves
itself one class search of a business (``GUNICORN_LANE_WARM_UP``, default on;
``gunicorn_fair.lane_warm_up``): in a thread of its own, in the normal scheduling policy,
through the whole WSGI application as gunicorn would call it, the answer read and dropped.

What is per business is then read for the next businesses (``WARM_UP_BUSINESSES`` in all): its
routing entry and its portal settings, the two reads of a business's first search in a process
(a search whose page is in the search cache needs nothing else, and then no database
connection). Without them the first search of each business in the lane took 10-15 ms of CPU
and 26-53 ms in all, at the start of every rush, where a warm one takes ~3-4 (in the benchmark,
business B's two slowest searches of the opening; docs/benchmarks.md, issue 21,
"Twenty-seventh pass"); each costs the warm-up ~2-5 ms, once per lane worker started. A
platform with more businesses than that has the rest read by each one's first request, as
before.

Which businesses: the first added of the active, launched ones, by their verified primary
domains (``warm_up_hosts``). None (a platform with no business yet), a database or Redis that
cannot be reached, or any error: nothing is served, a line is logged, the worker goes on as
before; a business whose reads fail is counted in one line and the next is read. The request is
an ordinary anonymous search: it reads, writes nothing, and may put the business's first page
of classes into the search cache, as any search would.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

WARM_UP_PATH = "/api/v1/offerings"
# Businesses whose routing entry and portal settings the warm-up reads (the first one's search
# served in full): ~2-5 ms of CPU each, once per lane worker started.
WARM_UP_BUSINESSES = 50


def warm_up_hosts(limit: int = WARM_UP_BUSINESSES) -> list[str]:
    """The verified primary domains of the first ``limit`` added businesses of those active
    and launched, the first added first."""
    from django.db import connection

    from tenants.models import Domain, Tenant

    connection.set_schema_to_public()
    return list(
        Domain.objects.filter(
            is_primary=True,
            verified_at__isnull=False,
            tenant__status=Tenant.Status.ACTIVE,
            tenant__launched_at__isnull=False,
        )
        .order_by("tenant_id")
        .values_list("domain", flat=True)[:limit]
    )


def warm_businesses(hosts: list[str]) -> int:
    """Read each business's routing entry and portal settings into this process's caches, as
    its first request would; how many were read. A business whose reads fail is skipped (one
    line logged for all of them); the connection is left in the public schema."""
    from django.db import connection
    from django.utils import timezone

    from portal.config.selectors import portal_settings_get
    from tenants.routing import router

    read, failed = 0, []
    for host in hosts:
        try:
            tenant = router.resolve(host)
            if tenant is None:
                continue
            connection.set_tenant(tenant)
            with timezone.override(tenant.zone):
                portal_settings_get()
            read += 1
        except Exception as exc:
            failed.append(f"{host} ({type(exc).__name__}: {exc})")
        finally:
            connection.set_schema_to_public()
    if failed:
        logger.warning("warm-up: %d businesses not read: %s", len(failed), "; ".join(failed))
    return read


def warm_up_environ(host: str, path: str = WARM_UP_PATH) -> dict:
    """A WSGI environ for an anonymous ``GET path`` on ``host`` over HTTPS, as gunicorn builds
    one behind the proxy."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "HTTP_ACCEPT": "application/json",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_USER_AGENT": "warm-up",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def warm_up(application: Callable) -> int | None:
    """Serve ``application`` one class search of the first of ``warm_up_hosts``, in this
    thread, then read the others' routing entries and portal settings (``warm_businesses``);
    the search's status code (None: no business to ask for, or an error, logged). This
    thread's database connection is closed after (given back to the pool)."""
    from django.db import connections

    try:
        hosts = warm_up_hosts()
        if not hosts:
            logger.info("warm-up: no launched business to search yet; skipped")
            return None
        host = hosts[0]
        statuses: list[str] = []

        def start_response(status, headers, exc_info=None):
            statuses.append(status)
            return lambda data: None

        answer = application(warm_up_environ(host), start_response)
        try:
            for _ in answer:
                pass
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        warm_businesses(hosts[1:])
        return int(statuses[0].split(" ", 1)[0]) if statuses else None
    except Exception as exc:
        logger.warning("warm-up: not done (%s: %s)", type(exc).__name__, exc)
        return None
    finally:
        with contextlib.suppress(Exception):  # Django not set up: nothing was opened
            connections.close_all()


def warm_up_in_background(application: Callable) -> threading.Thread:
    """``warm_up`` in a thread of its own, in the normal scheduling policy (the lane's main
    thread may be real-time, and its threads inherit that), at the process's nice value."""

    def run() -> None:
        from saas_platform.gunicorn_fair import realtime_set

        realtime_set(False)
        warm_up(application)

    thread = threading.Thread(target=run, name="warm-up", daemon=True)
    thread.start()
    return thread
