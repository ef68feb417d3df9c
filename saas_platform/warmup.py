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
through the whole WSGI application as gunicorn would call it, the answer read and dropped. What
is per business (its routing entry, its portal settings) is still paid by each business's first
request; what is per process is paid here.

Which business: the first added of the active, launched ones, by its verified primary domain
(``warm_up_host``). None (a platform with no business yet), a database or Redis that
cannot be reached, or any error: nothing is served, a line is logged, the worker goes on as
before. The request is an ordinary anonymous search: it reads, writes nothing, and may put the
business's first page of classes into the search cache, as any search would.
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


def warm_up_host() -> str | None:
    """The verified primary domain of the first added business of those active and launched;
    None if there is none."""
    from django.db import connection

    from tenants.models import Domain, Tenant

    connection.set_schema_to_public()
    return (
        Domain.objects.filter(
            is_primary=True,
            verified_at__isnull=False,
            tenant__status=Tenant.Status.ACTIVE,
            tenant__launched_at__isnull=False,
        )
        .order_by("tenant_id")
        .values_list("domain", flat=True)
        .first()
    )


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
    """Serve ``application`` one class search of ``warm_up_host``'s business, in this thread;
    its status code (None: no business to ask for, or an error, logged). This thread's
    database connection is closed after (given back to the pool)."""
    from django.db import connections

    try:
        host = warm_up_host()
        if host is None:
            logger.info("warm-up: no launched business to search yet; skipped")
            return None
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
