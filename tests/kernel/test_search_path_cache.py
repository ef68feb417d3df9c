"""kernel.db_backend: django-tenants' backend remembering the connection's ``search_path``
across ``set_tenant()`` calls, so a request in the schema the connection is already in sets
nothing, and every case where the server's value may have changed sets it again: another
schema, a rollback, a rollback to a savepoint, a closed connection."""

from __future__ import annotations

import pytest
from django.db import DataError, InternalError, connection, connections
from django.test.utils import CaptureQueriesContext

from kernel.db_backend.base import DatabaseWrapper

pytestmark = pytest.mark.django_db


@pytest.fixture
def own():
    """A connection of its own, outside the test's transaction (so it can roll back)."""
    wrapper = connections.create_connection("default")
    yield wrapper
    wrapper.close()


def _schema_and_sets(conn) -> tuple[str, list[str]]:
    """The schema a statement on ``conn`` reads, and the SETs issued to get there."""
    with CaptureQueriesContext(conn) as queries, conn.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
    return schema, [q["sql"] for q in queries if q["sql"].startswith("SET search_path")]


def _as_a_request(conn, tenant) -> None:
    # What TenantRoutingMiddleware does at the start of each request.
    conn.set_schema_to_public()
    conn.set_tenant(tenant)


def test_the_platform_uses_this_backend():
    assert isinstance(connections["default"], DatabaseWrapper)


def test_a_request_in_the_schema_the_connection_is_in_sets_nothing(own, tenant_a):
    _as_a_request(own, tenant_a)
    schema, sets = _schema_and_sets(own)
    assert schema == tenant_a.schema_name and len(sets) == 1
    for _ in range(3):
        _as_a_request(own, tenant_a)
        assert _schema_and_sets(own) == (tenant_a.schema_name, [])


def test_another_schema_is_set_and_read(own, tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b, tenant_a, tenant_b):
        _as_a_request(own, tenant)
        schema, sets = _schema_and_sets(own)
        assert schema == tenant.schema_name and len(sets) == 1
    own.set_schema_to_public()
    schema, sets = _schema_and_sets(own)
    assert schema == "public" and len(sets) == 1


def test_a_rollback_reverts_the_set_and_the_next_request_sets_it_again(own, tenant_a, tenant_b):
    _as_a_request(own, tenant_a)
    _schema_and_sets(own)
    own.set_autocommit(False)
    _as_a_request(own, tenant_b)
    assert _schema_and_sets(own)[0] == tenant_b.schema_name  # SET inside the transaction
    own.rollback()  # PostgreSQL reverts the SET: the connection is in tenant A's schema again
    own.set_autocommit(True)
    _as_a_request(own, tenant_b)
    schema, sets = _schema_and_sets(own)
    assert schema == tenant_b.schema_name and len(sets) == 1


def test_a_rollback_to_a_savepoint_reverts_the_set_too(own, tenant_a, tenant_b):
    _as_a_request(own, tenant_a)
    own.set_autocommit(False)
    _schema_and_sets(own)
    sid = own.savepoint()
    _as_a_request(own, tenant_b)
    assert _schema_and_sets(own)[0] == tenant_b.schema_name
    own.savepoint_rollback(sid)
    _as_a_request(own, tenant_b)
    schema, sets = _schema_and_sets(own)
    assert schema == tenant_b.schema_name and len(sets) == 1
    own.commit()
    own.set_autocommit(True)


def test_a_closed_connection_forgets_it(own, tenant_a):
    _as_a_request(own, tenant_a)
    _schema_and_sets(own)
    own.close()  # with a pool, the next connection may be another thread's
    _as_a_request(own, tenant_a)
    schema, sets = _schema_and_sets(own)
    assert schema == tenant_a.schema_name and len(sets) == 1


def test_a_failed_set_is_not_remembered(own, tenant_a, tenant_b):
    _as_a_request(own, tenant_a)
    _schema_and_sets(own)
    own.set_autocommit(False)
    with pytest.raises(DataError), own.cursor() as cursor:
        cursor.execute("SELECT 1/0")  # the transaction is aborted: a SET now fails
    _as_a_request(own, tenant_b)
    with pytest.raises(InternalError):  # "current transaction is aborted"
        _schema_and_sets(own)
    assert own._search_path_on_server is None
    own.rollback()
    own.set_autocommit(True)
    _as_a_request(own, tenant_b)
    assert _schema_and_sets(own)[0] == tenant_b.schema_name


def test_two_api_requests_of_a_family_set_the_schema_once(family_a):
    from tests.helpers import client_for

    client = client_for(family_a.tenant, token=family_a.token)
    connection.set_schema_to_public()
    assert client.get("/api/v1/cart").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/cart").status_code == 200
    assert queries.captured_queries  # the second request read the database
    assert not [q for q in queries if q["sql"].startswith("SET search_path")]
