"""Redis stopped mid-traffic: class search, the availability, search-page and settings caches
and host routing all fail open (every request still answers 200 with the right data),
and nothing written while Redis is away is lost. Redis back: they use it again."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import override_settings

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
        yield redis_server
    routing.router.clear()


def commands_run(server) -> int:
    """How many commands the server ran (its statistics, since keys come and go)."""
    stats = redis.Redis.from_url(server.url).info("commandstats")
    return sum(entry.get("calls", 0) for entry in stats.values())


def test_portal_keeps_serving_with_redis_stopped(family_a, cache_on, faults, settings):
    offering = make_offering(tuition=0, name="Open House", capacity=5)
    connection.set_schema_to_public()
    family = family_a.client()
    anonymous = client_for(family_a.tenant)

    # Redis up: searches read their caches from it.
    before = commands_run(cache_on)
    assert family.get(f"{API}/offerings").status_code == 200
    assert commands_run(cache_on) > before

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

    # Redis back (empty, as after a restart): searches use it again.
    cache_on.start()
    before = commands_run(cache_on)
    assert family.get(f"{API}/offerings").status_code == 200
    assert commands_run(cache_on) > before
    assert mail.outbox == []  # (on-commit emails do not run in this test's transaction)


def test_a_redis_that_never_answers_is_skipped_quickly(family_a, faults):
    """A Redis address nothing listens on: every search still answers 200 with its data."""
    make_offering(name="Rec Gym")
    connection.set_schema_to_public()
    caches = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:9/0"}}
    with override_settings(CACHES=caches):
        routing.router.clear()
        faults.inject("redis unreachable")
        try:
            for _ in range(5):
                response = family_a.client().get(f"{API}/offerings")
                assert response.status_code == 200
                assert len(response.json()["results"]) == 1
        finally:
            routing.router.clear()
