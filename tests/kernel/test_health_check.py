"""kernel.db_backend: Django's per-request health check (``CONN_HEALTH_CHECKS``) sends no
``SELECT 1`` while the connection is idle and the server has said nothing, and asks the server
as before once it has: a terminated backend (what a restart or failover does) or any message
the session did not ask for. tests/faults/test_database_restart.py drives the same through
requests."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connections

from kernel.db_backend import base as backend

pytestmark = pytest.mark.django_db


@pytest.fixture
def own():
    """A persistent, health-checked connection of its own, outside the test's transaction."""
    wrapper = connections.create_connection("default")
    wrapper.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    yield wrapper
    wrapper.close()


@pytest.fixture
def asked(monkeypatch):
    """How many times Django's own check (``SELECT 1`` on the server) ran."""
    calls = []
    real = backend.DatabaseWrapper.is_usable

    def counting(self):
        calls.append(self)
        return real(self)

    monkeypatch.setattr(backend.DatabaseWrapper, "is_usable", counting)
    return calls


def _a_request(conn) -> int:
    """What a request does with the connection: the boundary Django's ``request_started``
    runs, then a statement. Returns the server process that answered it."""
    conn.close_if_unusable_or_obsolete()
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _side_connection(conn) -> psycopg.Connection:
    params = conn.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return psycopg.connect(**params, autocommit=True)


def test_an_idle_live_connection_is_kept_without_asking_the_server(own, asked):
    first = _a_request(own)
    assert own.health_check_enabled
    for _ in range(5):
        assert _a_request(own) == first
        assert own.health_check_done
    assert asked == []


def test_a_terminated_backend_is_found_closed_and_replaced(own, asked):
    first = _a_request(own)
    with _side_connection(own) as side:
        assert side.execute("SELECT pg_terminate_backend(%s)", [first]).fetchone()[0]
        # The server's goodbye reaches the idle socket.
        side.execute("SELECT pg_sleep(0.2)")
    second = _a_request(own)
    assert second != first
    assert len(asked) == 1  # the server was asked once, found gone, and the connection replaced
    assert _a_request(own) == second
    assert len(asked) == 1


def test_a_message_the_session_did_not_ask_for_sends_the_check(own, asked):
    first = _a_request(own)
    with own.cursor() as cursor:
        cursor.execute("LISTEN health_check_test")
    with _side_connection(own) as side:
        side.execute("NOTIFY health_check_test")
        side.execute("SELECT pg_sleep(0.2)")
    # Something arrived unasked: Django's SELECT 1 runs, answers, and the connection is kept.
    assert _a_request(own) == first
    assert len(asked) == 1


def test_a_closed_or_broken_psycopg_connection_may_be_dead(own):
    _a_request(own)
    assert not backend._may_be_dead(own.connection)
    raw = own.connection
    own.connection = None  # Django must not reuse it below
    raw.close()
    assert backend._may_be_dead(raw)


def test_with_the_pool_on_django_skips_the_check(own, asked, monkeypatch):
    _a_request(own)
    with monkeypatch.context() as patched:  # undone before the connection is closed
        patched.setattr(backend.DatabaseWrapper, "pool", property(lambda self: object()))
        own.close_if_unusable_or_obsolete()
        own.close_if_health_check_failed()
    assert asked == []
    assert not own.health_check_done  # Django's postgresql backend returns before it
