"""The family's private iCalendar feed: what it lists, who can read it, and revoking it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context
from icalendar import Calendar

from portal.accounts.models import CalendarFeed, Family
from portal.accounts.services import calendar_feed_regenerate, calendar_feed_revoke
from portal.requests import services as request_services
from tests.factories import LocationFactory, ProgramFactory, StaffFactory
from tests.helpers import assert_error
from tests.portal.enrollment_helpers import enroll, make_family, make_offering, next_weekday

pytestmark = pytest.mark.django_db
API = "/api/v1"


def web_client(tenant, user=None) -> Client:
    client = Client(HTTP_HOST=tenant.primary_host)
    if user is not None:
        connection.set_tenant(tenant)
        client.force_login(user)
    return client


def events(body: bytes) -> list:
    return list(Calendar.from_ical(body).walk("VEVENT"))


@pytest.fixture
def schedule(family_a):
    """Family A's student in a weekly class with an instructor; another family's student in a
    second class."""
    offering = make_offering(
        name="Rec Gym",
        program=ProgramFactory(name="Gymnastics"),
        location=LocationFactory(name="Main gym", address="1 Elm St"),
        start_date=next_weekday(0, after_days=1),
        capacity=5,
        instructors=[StaffFactory(display_name="Coach Kim")],
    )
    enrollment = enroll(family_a.family, family_a.student, offering)
    other_family, other_kid = make_family("other@alpha.test", first_name="Zed")
    other_offering = make_offering(name="Other Class", start_date=next_weekday(2, 1))
    enroll(other_family, other_kid, other_offering)
    feed = calendar_feed_regenerate(family=family_a.family)
    return family_a, enrollment, feed


def test_feed_is_valid_icalendar_with_only_the_familys_meetings(schedule, tenant_a):
    actor, enrollment, feed = schedule
    response = web_client(tenant_a).get(f"/calendar/{feed.token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    assert not response.cookies
    cal = Calendar.from_ical(response.content)
    assert str(cal["version"]) == "2.0"
    assert str(cal["x-wr-calname"]) == f"{tenant_a.name}: {actor.family.name}"
    found = events(response.content)
    meetings = enrollment.offering.meetings()
    assert len(found) == len(meetings)
    assert all(str(e["summary"]) == "Mia: Rec Gym" for e in found)
    assert "Zed" not in response.content.decode() and "Other Class" not in response.content.decode()
    first = min(found, key=lambda e: e.decoded("dtstart"))
    start = first.decoded("dtstart")
    assert start.date() == meetings[0] and start.hour == 16
    assert str(start.tzinfo) == tenant_a.timezone  # timezone-aware, the business's zone
    assert first["dtstart"].params["TZID"] == tenant_a.timezone
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == [tenant_a.timezone]
    assert str(first["location"]) == "Main gym, 1 Elm St, Springfield"
    assert "Coach Kim" in str(first["description"])
    assert str(first["url"]).endswith(f"/classes/{enrollment.offering_id}/")
    # Stable UIDs: a second fetch gives the same events.
    again = events(web_client(tenant_a).get(f"/calendar/{feed.token}.ics").content)
    assert sorted(str(e["uid"]) for e in again) == sorted(str(e["uid"]) for e in found)
    assert len({str(e["uid"]) for e in found}) == len(found)


def test_absence_shows_as_cancelled_and_makeup_appears(schedule, tenant_a):
    actor, enrollment, feed = schedule
    day = enrollment.offering.meetings()[1]
    request_services.absence_request(
        family=actor.family, enrollment_id=enrollment.pk, meeting_date=day
    )
    token = actor.family.makeup_tokens.get()
    other = make_offering(
        name="Rec Gym Thursday",
        program=enrollment.offering.program,
        start_date=next_weekday(3, 1),
        capacity=5,
    )
    makeup_day = other.meetings()[0]
    request_services.makeup_request(
        family=actor.family, token_id=token.pk, offering_id=other.pk, meeting_date=makeup_day
    )
    found = events(web_client(tenant_a).get(f"/calendar/{feed.token}.ics").content)
    absent = [e for e in found if e.decoded("dtstart").date() == day]
    assert len(absent) == 1 and str(absent[0]["status"]) == "CANCELLED"
    assert "(absent)" in str(absent[0]["summary"])
    makeup = [e for e in found if "Rec Gym Thursday" in str(e["summary"])]
    assert len(makeup) == 1 and makeup[0].decoded("dtstart").date() == makeup_day


def test_revoked_or_regenerated_token_is_404(schedule, tenant_a):
    actor, _, feed = schedule
    old = feed.token
    new = calendar_feed_regenerate(family=actor.family)
    assert new.token != old
    client = web_client(tenant_a)
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new.token}.ics").status_code == 200
    assert calendar_feed_revoke(family=actor.family) is True
    assert client.get(f"/calendar/{new.token}.ics").status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    assert client.get(f"/calendar/{'x' * 80}.ics").status_code == 404


def test_suspended_family_feed_is_404(schedule, tenant_a):
    actor, _, feed = schedule
    Family.objects.filter(pk=actor.family.pk).update(status=Family.Status.SUSPENDED)
    assert web_client(tenant_a).get(f"/calendar/{feed.token}.ics").status_code == 404


def test_token_of_one_tenant_is_404_on_another(schedule, tenant_a, tenant_b):
    _, _, feed = schedule
    response = web_client(tenant_b).get(f"/calendar/{feed.token}.ics")
    assert response.status_code == 404
    assert b"Rec Gym" not in response.content and b"Mia" not in response.content


def test_api_get_regenerate_revoke(family_a, tenant_a):
    client = family_a.client()
    body = client.get(f"{API}/family/calendar-feed").json()
    assert body == {"enabled": False, "url": None, "webcal_url": None, "created_at": None}
    created = client.post(f"{API}/family/calendar-feed")
    assert created.status_code == 201
    body = created.json()
    token = CalendarFeed.objects.get(family=family_a.family).token
    assert body["enabled"] and body["url"] == f"http://{tenant_a.primary_host}/calendar/{token}.ics"
    assert body["webcal_url"] == f"webcal://{tenant_a.primary_host}/calendar/{token}.ics"
    assert client.get(f"{API}/family/calendar-feed").json()["url"] == body["url"]
    again = client.post(f"{API}/family/calendar-feed").json()
    assert again["url"] != body["url"]
    assert client.delete(f"{API}/family/calendar-feed").status_code == 204
    assert not CalendarFeed.objects.filter(family=family_a.family).exists()
    # Idempotent revoke.
    assert client.delete(f"{API}/family/calendar-feed").status_code == 204


def test_api_permissions_and_cross_tenant(family_a, tenant_a, tenant_b, staff_a):
    from tests.helpers import client_for

    assert_error(client_for(tenant_a).get(f"{API}/family/calendar-feed"), 401, "not_authenticated")
    assert_error(staff_a.client().post(f"{API}/family/calendar-feed"), 403, "not_a_family_account")
    assert not CalendarFeed.objects.exists()
    response = family_a.client(tenant_b).post(f"{API}/family/calendar-feed")
    assert response.status_code in (401, 403, 404)
    with tenant_context(tenant_b):
        assert not CalendarFeed.objects.exists()


def test_calendar_page_creates_regenerates_and_revokes(family_a, tenant_a):
    client = web_client(tenant_a, family_a.guardian.user)
    page = client.get("/family/calendar/")
    assert page.status_code == 200
    assert b"Create my calendar link" in page.content
    response = client.post("/family/calendar/", {"action": "regenerate"})
    assert response.status_code == 302
    feed = CalendarFeed.objects.get(family=family_a.family)
    page = client.get("/family/calendar/")
    assert f"webcal://{tenant_a.primary_host}/calendar/{feed.token}.ics".encode() in page.content
    client.post("/family/calendar/", {"action": "revoke"})
    assert not CalendarFeed.objects.filter(family=family_a.family).exists()
    assert client.post("/family/calendar/", {"action": "bogus"}).status_code == 302


def test_calendar_page_needs_a_signed_in_family(tenant_a):
    response = web_client(tenant_a).get("/family/calendar/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_feed_lists_meetings_from_the_enrollment_start(family_a, tenant_a):
    offering = make_offering(name="Late starter", start_date=next_weekday(0, 1), capacity=5)
    enrollment = enroll(family_a.family, family_a.student, offering)
    enrollment.start_date = offering.meetings()[2]
    enrollment.end_date = offering.meetings()[4]
    enrollment.save()
    feed = calendar_feed_regenerate(family=family_a.family)
    found = events(web_client(tenant_a).get(f"/calendar/{feed.token}.ics").content)
    assert sorted(e.decoded("dtstart").date() for e in found) == offering.meetings()[2:5]
    assert all(e.decoded("dtend") - e.decoded("dtstart") == timedelta(hours=1) for e in found)
