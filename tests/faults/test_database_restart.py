"""The database connection dies between requests (what a PostgreSQL restart or failover does
to every open connection): the next request reconnects by itself (CONN_HEALTH_CHECKS) and
answers normally, with no manual step.

The shared PostgreSQL server is not restarted (other processes use it): the backend serving
this process is terminated with pg_terminate_backend from a second connection, which is what
each client sees of a restart. Requests go through Django's real WSGI handler, with the
per-request connection checks on as in production, and persistent connections
(CONN_MAX_AGE > 0, the production default). Commits nothing: no test transaction is possible
when the connection is killed, so only reads are made."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from werkzeug.test import Client

from tenants.models import Tenant
from tests.helpers import SESSION_TENANTS


def terminate_backend_of_this_process() -> int:
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as killer:
        killed = killer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        assert killed
        # pg_terminate_backend only signals the backend: it returns before the backend has
        # told its client and closed the socket. A restart is over before the next request
        # comes; here the next request came first once (a clean clone under load: the socket
        # still quiet, the request's first statement met the dying backend, a 500). So wait
        # until the backend is gone, as every client of a restarted server finds it.
        deadline = time.monotonic() + 10
        while killer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, f"backend {pid} still there 10 s after its end"
            time.sleep(0.01)
    return pid


@pytest.fixture
def persistent_connections(committed):
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.close()
    connection.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def test_requests_recover_after_the_database_drops_every_connection(persistent_connections, faults):
    tenant = Tenant.objects.get(schema_name=SESSION_TENANTS["a"]["slug"])
    client = Client(WSGIHandler())
    base_url = f"http://{tenant.primary_host}"
    paths = ["/api/v1/portal", "/api/v1/offerings", "/api/v1/policies", "/", "/api/v1/staff"]
    answered, killed = 0, set()
    for round_ in range(5):
        for path in paths:
            response = client.get(path, base_url=base_url)
            assert response.status_code == 200, (round_, path, response.get_data()[:300])
            answered += 1
        assert connection.connection is not None  # kept open between requests
        killed.add(terminate_backend_of_this_process())
        faults.inject("database connections terminated")
    # The very next request after each kill succeeded, on a new backend every time.
    response = client.get("/api/v1/portal", base_url=base_url)
    assert response.status_code == 200
    assert connection.connection.info.backend_pid not in killed
    faults.check_lost("requests (database restart)", 5 * len(paths), answered)
