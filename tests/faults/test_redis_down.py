"""Redis stopped mid-traffic: class search, its rate limiter, the availability and settings
caches and host routing all fail open (every request still answers 200 with the right data),
and nothing written while Redis is away is lost. Redis back: they use it again."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import override_settings

from portal.catalog import rush
from portal.enrollment.models import Enrollment, Order
from tenants import routing
from tests.helpers import client_for
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def cache_on(redis_server):
    """The cache (and everything that reaches Redis through it) on the throwaway server."""
    caches = {"default": {**settings.CACHES["default"], "LOCATION": redis_server.url}}
    with override_settings(CACHES=caches):
        routing.router.clear()
        rush._State.open_until = 0.0
        yield redis_server
    rush._State.open_until = 0.0  # the breaker is per process: close it for later tests
    routing.router.clear()


def searches_counted(server) -> int:
    """How many limiter scripts the server ran (its keys expire within a fraction of a
    second at a high limit, so the server's command statistics are what is compared)."""
    stats = redis.Redis.from_url(server.url).info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("evalsha", "eval"))


def test_portal_keeps_serving_with_redis_stopped(family_a, cache_on, faults, settings):
    offering = make_offering(tuition=0, name="Open House", capacity=5)
    connection.set_schema_to_public()
    family = family_a.client()
    anonymous = client_for(family_a.tenant)

    # Redis up: searches are counted in it.
    assert family.get(f"{API}/offerings").status_code == 200
    assert searches_counted(cache_on) >= 1

    cache_on.stop()
    faults.inject("redis stopped")
    routing.router.clear()  # hosts must be resolved again, without Redis

    results = family.get(f"{API}/offerings")
    assert results.status_code == 200, results.content
    assert [o["id"] for o in results.json()["results"]] == [offering.pk]
    assert family.get(f"{API}/offerings/{offering.pk}").status_code == 200
    portal = anonymous.get(f"{API}/portal")
    assert portal.status_code == 200 and portal.json()["tenant"]["name"] == "Alpha Gymnastics"
    assert anonymous.get("/").status_code == 200  # the web portal's home page
    assert rush._State.open_until > 0  # the limiter noticed and let searches through

    # Writes while Redis is down: a seat held and a free checkout, committed, emails queued.
    held = family.post(
        f"{API}/cart/items",
        {"offering": offering.pk, "student": family_a.student.pk},
        format="json",
    )
    assert held.status_code == 201, held.content
    connection.set_schema_to_public()
    order = family.post(f"{API}/checkout", {}, format="json")
    assert order.status_code == 201, order.content
    assert order.json()["status"] == "confirmed"
    connection.set_tenant(family_a.tenant)
    faults.check_lost("orders (redis down)", 1, Order.objects.filter(status="confirmed").count())
    faults.check_lost(
        "enrollments (redis down)", 1, Enrollment.objects.filter(status="active").count()
    )
    offering.refresh_from_db()
    faults.check_lost("seats taken (redis down)", 1, offering.seats_taken)
    connection.set_schema_to_public()
    # The search shows the seat taken (from the rows: nothing stale served from a cache).
    again = family.get(f"{API}/offerings/{offering.pk}")
    assert again.status_code == 200, again.content
    assert again.json()["availability"]["openings"] in (4, None)  # None: shown as OPEN/FULL

    # Redis back (empty, as after a restart): the limiter counts in it again once its
    # breaker closes.
    cache_on.start()
    rush._State.open_until = 0.0
    assert family.get(f"{API}/offerings").status_code == 200
    assert searches_counted(cache_on) >= 1
    assert mail.outbox == []  # (on-commit emails do not run in this test's transaction)


def test_a_redis_that_never_answers_is_skipped_quickly(family_a, faults):
    """A Redis address nothing listens on: the first search pays one failed connect, the
    following ones skip Redis altogether (the breaker) and all answer 200."""
    make_offering(name="Rec Gym")
    connection.set_schema_to_public()
    caches = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:9/0"}}
    with override_settings(CACHES=caches):
        routing.router.clear()
        rush._State.open_until = 0.0
        faults.inject("redis unreachable")
        try:
            failures = rush._State.failures
            for _ in range(5):
                response = family_a.client().get(f"{API}/offerings")
                assert response.status_code == 200
                assert len(response.json()["results"]) == 1
            assert rush._State.failures == failures + 1  # tried once, then the breaker
        finally:
            rush._State.open_until = 0.0
            routing.router.clear()
