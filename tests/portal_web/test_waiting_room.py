"""The waiting room pages (portal_web/waiting_room.py): join, poll, the pass cookie, cart add
with and without it, Spanish, bad input and other tenants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from portal.enrollment.models import Hold
from tests.helpers import web_client
from tests.portal.enrollment_helpers import accept_policies, make_offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def opening(family_web):
    connection.set_tenant(family_web.tenant)
    offering = make_offering(name="Tumble Tots", capacity=4, tuition=0)
    opening = RegistrationOpening.objects.create(
        name="Fall registration",
        opens_at=timezone.now() + timedelta(minutes=5),
        checkout_slots=1,
        pass_minutes=10,
    )
    opening.offerings.set([offering])
    accept_policies(family_web.family)
    connection.set_schema_to_public()
    yield opening
    connection.set_tenant(family_web.tenant)
    waiting_room.queue_clear(opening=opening)
    waiting_room.configs_clear()
    connection.set_schema_to_public()


def _open_now(opening, tenant):
    connection.set_tenant(tenant)
    RegistrationOpening.objects.filter(pk=opening.pk).update(
        opens_at=timezone.now() - timedelta(seconds=1)
    )
    waiting_room.configs_clear()
    connection.set_schema_to_public()


def test_visitor_sees_the_opening_and_a_way_to_sign_in(opening, family_web):
    page = web_client(family_web.tenant).get(f"/waiting-room/{opening.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Fall registration" in html and "Sign in to join the line" in html
    assert "data-status-url" not in html  # nothing to poll before joining
    assert "/static/portal_web/waiting_room.js" in html


def test_join_before_the_opening_then_admitted_with_a_pass_cookie(opening, family_web):
    client = family_web.web
    page = client.get(f"/waiting-room/{opening.pk}/")
    assert "Join the line" in page.content.decode()
    joined = client.post(f"/waiting-room/{opening.pk}/join/")
    assert joined.status_code == 302 and joined["Location"] == f"/waiting-room/{opening.pk}/"
    assert f"wr_ticket_{opening.pk}" in joined.cookies
    status = client.get(f"/waiting-room/{opening.pk}/status.json")
    assert status.status_code == 200 and status["Cache-Control"] == "no-store"
    body = status.json()
    assert body["state"] == "before_opening" and "random order" in body["message"]
    page = client.get(f"/waiting-room/{opening.pk}/").content.decode()
    # Five minutes before the opening: the page asks again every 10 s (the server's cadence).
    assert 'data-poll-ms="10000"' in page and "random order" in page
    assert f'data-leave-url="/api/v1/openings/{opening.pk}/queue"' in page
    # Cart add before the opening: refused, with the way to the waiting room.
    add = {"offering": opening.offerings.first().pk, "student": family_web.student.pk}
    refused = client.post("/cart/add/", add)
    assert refused.status_code == 403
    assert f'href="/waiting-room/{opening.pk}/"' in refused.content.decode()
    _open_now(opening, family_web.tenant)
    status = client.get(f"/waiting-room/{opening.pk}/status.json")
    assert status.json()["state"] == "admitted" and status.json()["pass_expires_text"]
    assert status.cookies["wr_pass"]["httponly"] and status.cookies["wr_pass"]["max-age"]
    assert client.post("/cart/add/", add).status_code == 302
    connection.set_tenant(family_web.tenant)
    assert Hold.objects.filter(family=family_web.family, status="active").count() == 1


def test_status_without_a_ticket_or_with_a_bad_one(opening, family_web):
    client = web_client(family_web.tenant)
    missing = client.get(f"/waiting-room/{opening.pk}/status.json")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_ticket"
    client.cookies[f"wr_ticket_{opening.pk}"] = "forged"
    assert client.get(f"/waiting-room/{opening.pk}/status.json").status_code == 400
    unknown = client.get("/waiting-room/999999/status.json")
    assert unknown.status_code == 404 and unknown.json()["code"] == "opening_not_found"
    assert client.get("/waiting-room/999999/").status_code == 404
    assert client.get(f"/waiting-room/{opening.pk}/join/").status_code in (302, 405)


def test_join_needs_a_family_sign_in(opening, family_web):
    response = web_client(family_web.tenant).post(f"/waiting-room/{opening.pk}/join/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_tenants_ticket_means_nothing(opening, family_web, tenant_b):
    family_web.web.post(f"/waiting-room/{opening.pk}/join/")
    ticket = family_web.web.cookies[f"wr_ticket_{opening.pk}"].value
    connection.set_tenant(tenant_b)
    other = RegistrationOpening.objects.create(name="Beta day", opens_at=timezone.now())
    connection.set_schema_to_public()
    client = web_client(tenant_b)
    client.cookies[f"wr_ticket_{other.pk}"] = ticket
    assert client.get(f"/waiting-room/{other.pk}/status.json").status_code == 400


def test_spanish(opening, family_web):
    family_web.web.post(f"/waiting-room/{opening.pk}/join/")
    page = family_web.web.get(f"/waiting-room/{opening.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    html = page.content.decode()
    assert "orden aleatorio" in html and "La inscripción abre:" in html


def test_a_warm_status_poll_by_ticket_runs_no_sql(opening, family_web):
    """The app's and a cookie-less poll: the ticket alone, no session: no SQL once warm. (A
    signed-in browser's poll also loads its session and user for the audit context: 2 queries.)"""
    from django.test.utils import CaptureQueriesContext

    family_web.web.post(f"/waiting-room/{opening.pk}/join/")
    client = web_client(family_web.tenant)
    name = f"wr_ticket_{opening.pk}"
    client.cookies[name] = family_web.web.cookies[name].value
    poll = f"/waiting-room/{opening.pk}/status.json"
    assert client.get(poll).json()["state"] == "before_opening"  # warms this process's copies
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(poll).status_code == 200
    assert [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SET ")] == []


def test_the_pages_ticket_cookie_follows_the_front_of_the_line(opening, family_web):
    """Alone in the pre-queue with one checkout slot, the family is let in at the opening
    itself: its ticket cookie is a front ticket (its polls' own lane in the fair gunicorn
    worker), and once it is let in, the plain one again."""
    client = family_web.web
    name = f"wr_ticket_{opening.pk}"
    joined = client.post(f"/waiting-room/{opening.pk}/join/")
    assert joined.cookies[name].value.startswith(waiting_room.FRONT_PREFIX)
    assert joined.cookies[name]["httponly"] and joined.cookies[name]["samesite"] == "Lax"
    status = client.get(f"/waiting-room/{opening.pk}/status.json")
    assert status.json()["state"] == "before_opening" and name not in status.cookies
    _open_now(opening, family_web.tenant)
    status = client.get(f"/waiting-room/{opening.pk}/status.json")
    assert status.json()["state"] == "admitted"
    assert not status.cookies[name].value.startswith(waiting_room.FRONT_PREFIX)
    assert client.get(f"/waiting-room/{opening.pk}/status.json").json()["state"] == "admitted"


def test_a_line_whose_classes_are_all_full_says_so_in_english_and_spanish(opening, family_web):
    """Every class of the opening full (holds count): the page and its poll tell the family at
    once, keep its place and ask again in 10 s, instead of when its turn comes."""
    from django.db.models import F

    from portal.catalog.availability import availability_clear
    from portal.catalog.models import Offering

    _open_now(opening, family_web.tenant)
    connection.set_tenant(family_web.tenant)
    waiting_room.queue_join(opening_id=opening.pk, family_id=9_200_001)  # the only slot
    Offering.objects.filter(registration_openings=opening).update(seats_taken=F("capacity"))
    availability_clear()
    waiting_room.configs_clear()  # this process's copy of "full" lasts CONFIG_TTL
    connection.set_schema_to_public()
    client = family_web.web
    client.post(f"/waiting-room/{opening.pk}/join/")
    poll = f"/waiting-room/{opening.pk}/status.json"
    body = client.get(poll).json()
    assert body["state"] == "waiting" and body["position"] == 1
    assert body["all_full"] is True and body["poll_seconds"] == waiting_room.POLL_FULL_SECONDS
    assert body["message"].startswith("Every class in this registration is full right now.")
    assert body["wait_text"] == "not until a seat opens up"  # nobody is let in meanwhile
    spanish = client.get(poll, HTTP_ACCEPT_LANGUAGE="es").json()
    assert spanish["message"].startswith("Todas las clases de esta inscripción están llenas")
    assert spanish["wait_text"] == "hasta que se abra un cupo"
    page = client.get(f"/waiting-room/{opening.pk}/").content.decode()
    assert "Every class in this registration is full right now." in page
