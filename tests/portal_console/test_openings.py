"""The console's waiting rooms page (portal_console/openings_views.py): each opening's queue
live (the page, its JSON for the 2 s update), pause and resume; the roles that may (owner,
manager, front desk) and may not (coach, a family, anonymous), bad input that changes nothing,
and another business's session and openings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from portal.staff.services import staff_role_set
from tests.factories import PASSWORD, GuardianFactory
from tests.helpers import host_of
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db


def signed_in(tenant, email: str, role: str | None) -> Client:
    """A console session: staff with ``role``, or (None) a family's guardian."""
    with tenant_context(tenant):
        if role is None:
            user = GuardianFactory(email=email).user
        else:
            user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
            staff_role_set(user=user, role=role)
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


def make_opening(name: str = "Fall registration", opens_in: float = -5, **kwargs):
    opening = RegistrationOpening.objects.create(
        name=name, opens_at=timezone.now() + timedelta(seconds=opens_in), **kwargs
    )
    opening.offerings.set([make_offering(name=f"{name} class")])
    return opening


@pytest.fixture(autouse=True)
def _clean_queues():
    yield
    for schema in ("alpha", "beta"):
        try:
            connection.set_schema(schema)
            for opening in RegistrationOpening.objects.all():
                waiting_room.queue_clear(opening=opening)
        except Exception:  # noqa: S110 - the schema may not exist in this test
            pass
    waiting_room.configs_clear()
    connection.set_schema_to_public()


@pytest.fixture
def busy_opening(in_tenant_a):
    """An opening under way: 2 checking out (the slots), 3 in line, one pre-queue elsewhere."""
    opening = make_opening(checkout_slots=2)
    for family_id in range(1, 6):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family_id)
    return opening


@pytest.mark.parametrize("role", ["owner", "manager", "front_desk"])
def test_staff_who_run_the_desk_see_the_queue_live(in_tenant_a, busy_opening, role):
    later = make_opening(name="Summer camps", opens_in=3600)
    waiting_room.queue_join(opening_id=later.pk, family_id=9)
    client = signed_in(in_tenant_a, f"wr-{role}@alpha.test", role)
    page = client.get("/console/openings/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Fall registration" in html and "Summer camps" in html
    assert 'href="/console/openings/" aria-current="page"' in html  # in the navigation
    assert 'data-wr-field="waiting">3<' in html and 'data-wr-field="checking_out">2<' in html
    assert 'data-wr-field="pre_queue">1<' in html  # the later opening's early family
    assert "Letting families in" in html and "Not open yet" in html
    assert f'action="/console/openings/{busy_opening.pk}/pause"' in html
    assert f'nonce="{page.wsgi_request.csp_nonce}"' in html and "openings.js" in html
    status = client.get("/console/openings/status.json")
    assert status.status_code == 200 and status["Cache-Control"] == "no-store"
    figures = {o["id"]: o for o in status.json()["openings"]}
    assert figures[busy_opening.pk]["waiting"] == 3
    assert figures[busy_opening.pk]["checking_out"] == 2
    assert figures[busy_opening.pk]["admitted"] == 2 and figures[busy_opening.pk]["opened"]
    assert figures[later.pk]["pre_queue"] == 1 and not figures[later.pk]["opened"]
    assert status.json()["poll_seconds"] == 2
    assert len(status.json()["as_of_display"]) == 8  # HH:MM:SS in the business's zone


def test_pause_stops_admissions_and_resume_lets_families_in(in_tenant_a, busy_opening):
    client = signed_in(in_tenant_a, "wr-pause@alpha.test", "front_desk")
    url = f"/console/openings/{busy_opening.pk}/pause"
    paused = client.post(url, {"paused": "1"})
    assert paused.status_code == 302 and paused["Location"] == "/console/openings/"
    busy_opening.refresh_from_db()
    assert busy_opening.paused
    page = client.get("/console/openings/").content.decode()
    assert "is paused: nobody new is let in" in page and "Resume letting families in" in page
    # A finished checkout frees a slot, but nobody comes in while paused.
    first = next(
        f
        for f in range(1, 6)
        if waiting_room.queue_status(opening_id=busy_opening.pk, family_id=f).state == "admitted"
    )
    waiting_room.family_checked_out(family_id=first, openings=[busy_opening])
    assert client.get("/console/openings/status.json").json()["openings"][0]["admitted"] == 2
    resumed = client.post(url, {"paused": "0"})
    assert resumed.status_code == 302
    busy_opening.refresh_from_db()
    assert not busy_opening.paused
    figures = client.get("/console/openings/status.json").json()["openings"][0]
    assert figures["admitted"] == 3 and figures["paused"] is False


def test_the_desk_sees_when_every_class_is_full_and_nobody_is_let_in(in_tenant_a, busy_opening):
    """Every class of the opening full: the page and its JSON (and the staff API) say so, and
    a finished checkout no longer lets the next family in (a pass would buy nothing); a seat
    back and the line moves again."""
    from django.db.models import F

    from portal.catalog.availability import availability_clear
    from portal.catalog.models import Offering

    client = signed_in(in_tenant_a, "wr-full@alpha.test", "front_desk")
    assert client.get("/console/openings/status.json").json()["openings"][0]["all_full"] is False
    classes = Offering.objects.filter(registration_openings=busy_opening)
    classes.update(seats_taken=F("capacity"))
    availability_clear()
    waiting_room.configs_clear()  # this process's copy of "full" lasts CONFIG_TTL
    page = client.get("/console/openings/").content.decode()
    assert "Every class is full: nobody is let in until a seat opens up" in page
    figures = client.get("/console/openings/status.json").json()["openings"][0]
    assert figures["all_full"] is True and figures["admitted"] == 2
    first = next(
        f
        for f in range(1, 6)
        if waiting_room.queue_status(opening_id=busy_opening.pk, family_id=f).state == "admitted"
    )
    waiting_room.family_checked_out(family_id=first, openings=[busy_opening])
    assert client.get("/console/openings/status.json").json()["openings"][0]["admitted"] == 2
    api = client.get(f"/api/v1/staff/openings/{busy_opening.pk}/queue").json()
    assert api["all_full"] is True
    spanish = client.get("/console/openings/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Todas las clases están llenas: no entra nadie hasta que se abra un cupo" in spanish
    classes.update(seats_taken=0)  # a hold lapsed
    availability_clear()
    waiting_room.configs_clear()
    figures = client.get("/console/openings/status.json").json()["openings"][0]
    assert figures["all_full"] is False and figures["admitted"] == 3


@pytest.mark.parametrize("body", [{}, {"paused": "maybe"}, {"paused": "\u0661"}])
def test_bad_pause_input_changes_nothing(in_tenant_a, busy_opening, body):
    client = signed_in(in_tenant_a, "wr-bad@alpha.test", "manager")
    response = client.post(f"/console/openings/{busy_opening.pk}/pause", body)
    assert response.status_code == 302
    busy_opening.refresh_from_db()
    assert not busy_opening.paused
    assert "Choose pause or resume." in client.get("/console/openings/").content.decode()


def test_unknown_opening_and_wrong_methods(in_tenant_a, busy_opening):
    client = signed_in(in_tenant_a, "wr-404@alpha.test", "owner")
    missing = client.post("/console/openings/999999/pause", {"paused": "1"})
    assert missing.status_code == 404
    assert client.get(f"/console/openings/{busy_opening.pk}/pause").status_code == 405
    assert client.post("/console/openings/").status_code == 405
    assert client.post("/console/openings/status.json").status_code == 405


@pytest.mark.parametrize("role", ["coach", None])
def test_coach_and_family_may_not_watch_or_pause(in_tenant_a, busy_opening, role):
    client = signed_in(in_tenant_a, f"wr-no-{role}@alpha.test", role)
    page = client.get("/console/openings/")
    assert page.status_code in (302, 403)
    assert "Fall registration" not in page.content.decode()
    assert client.get("/console/openings/status.json").status_code in (302, 403)
    assert client.post(
        f"/console/openings/{busy_opening.pk}/pause", {"paused": "1"}
    ).status_code in (
        302,
        403,
    )
    busy_opening.refresh_from_db()
    assert not busy_opening.paused
    if role == "coach":
        nav = client.get("/console/").content.decode()
        assert "/console/openings/" not in nav


def test_anonymous_is_sent_to_sign_in(in_tenant_a, busy_opening):
    client = Client(HTTP_HOST=host_of(in_tenant_a))
    for response in (
        client.get("/console/openings/"),
        client.get("/console/openings/status.json"),
        client.post(f"/console/openings/{busy_opening.pk}/pause", {"paused": "1"}),
    ):
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response["Location"].startswith("/console/login/")
    busy_opening.refresh_from_db()
    assert not busy_opening.paused


def test_another_business_sees_and_pauses_nothing_here(in_tenant_a, busy_opening, tenant_b):
    # B's owner, on B's host, sees only B's openings; A's opening id is not found there.
    connection.set_tenant(tenant_b)
    theirs = make_opening(name="Beta opening")
    other = signed_in(tenant_b, "wr-beta@beta.test", "owner")
    html = other.get("/console/openings/").content.decode()
    assert "Beta opening" in html and "Fall registration" not in html
    ids = [o["id"] for o in other.get("/console/openings/status.json").json()["openings"]]
    assert ids == [theirs.pk]
    if theirs.pk != busy_opening.pk:
        assert (
            other.post(f"/console/openings/{busy_opening.pk}/pause", {"paused": "1"}).status_code
            == 404
        )
    # A's owner session carried to B's host counts for nothing.
    owner = signed_in(in_tenant_a, "wr-alpha@alpha.test", "owner")
    owner.defaults["HTTP_HOST"] = host_of(tenant_b)
    response = owner.get("/console/openings/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    posted = owner.post(f"/console/openings/{theirs.pk}/pause", {"paused": "1"})
    assert posted.status_code in (302, 403)
    connection.set_tenant(tenant_b)
    theirs.refresh_from_db()
    assert not theirs.paused
    connection.set_tenant(in_tenant_a)
    busy_opening.refresh_from_db()
    assert not busy_opening.paused


def test_the_page_in_spanish(in_tenant_a, busy_opening):
    client = signed_in(in_tenant_a, "wr-es@alpha.test", "manager")
    html = client.get("/console/openings/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    for text in ("Salas de espera", "En la fila", "Pagando ahora", "Pausar la fila"):
        assert text in html
    client.post(
        f"/console/openings/{busy_opening.pk}/pause", {"paused": "1"}, HTTP_ACCEPT_LANGUAGE="es"
    )
    html = client.get("/console/openings/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "está en pausa" in html and "Volver a dejar pasar a las familias" in html
