"""The signed-in home is the family's (next classes with absences and makeups applied, balance
and next autopay, policies to sign, offers, open requests), and the schedule page agrees with
the calendar feed."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from icalendar import Calendar

from portal.accounts.services import calendar_feed_regenerate
from portal.config.services import portal_settings_update
from portal.requests import services as request_services
from tests.factories import PolicyFactory, ProgramFactory
from tests.portal.enrollment_helpers import enroll, make_family, make_offering, next_weekday

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def week(family_web):
    """Mia in a weekly class starting soon, one meeting reported absent, a makeup booked in
    another class of the program."""
    program = ProgramFactory(name="Gymnastics")
    offering = make_offering(
        name="Rec Gym", program=program, capacity=5, start_date=next_weekday(0, after_days=1)
    )
    enrollment = enroll(family_web.family, family_web.student, offering)
    absent_day = offering.meetings()[0]
    request_services.absence_request(
        family=family_web.family, enrollment_id=enrollment.pk, meeting_date=absent_day
    )
    token = family_web.family.makeup_tokens.get()
    other = make_offering(
        name="Rec Gym Thursday", program=program, capacity=5,
        start_date=next_weekday(3, after_days=1),
    )  # fmt: skip
    makeup_day = other.meetings()[0]
    request_services.makeup_request(
        family=family_web.family, token_id=token.pk, offering_id=other.pk, meeting_date=makeup_day
    )
    return offering, absent_day, other, makeup_day


def test_the_schedule_agrees_with_the_calendar_feed(family_web, week):
    _offering, absent_day, _other, makeup_day = week
    page = html(family_web.web.get("/schedule/"))
    assert "Rec Gym Thursday" in page and "makeup" in page  # the makeup is on the schedule
    absent = re.search(r"<li><s>[^<]*Rec Gym · Mia[^<]*</s> <span class=\"badge\">absent", page)
    assert absent, "the reported absence is struck through"
    feed = calendar_feed_regenerate(family=family_web.family)
    body = Client(HTTP_HOST=family_web.tenant.primary_host).get(f"/calendar/{feed.token}.ics")
    found = list(Calendar.from_ical(body.content).walk("VEVENT"))
    cancelled = {e.decoded("dtstart").date() for e in found if str(e["status"]) == "CANCELLED"}
    assert cancelled == {absent_day}
    makeups = [e for e in found if "Rec Gym Thursday" in str(e["summary"])]
    assert [e.decoded("dtstart").date() for e in makeups] == [makeup_day]


@pytest.mark.usefixtures("week")
def test_the_signed_in_home_is_the_familys(family_web):
    PolicyFactory(title="Waiver 2027")
    page = html(family_web.web.get("/"))
    assert "Next classes" in page and "Rec Gym Thursday" in page
    assert "Balance owed" in page and "Sign “Waiver 2027”" in page
    assert "Waiting for you" in page
    # Another family sees none of it; a visitor sees the public home.
    other_family, _kid = make_family("other@alpha.test")
    from tests.helpers import signed_in

    theirs = html(signed_in(family_web.tenant, other_family.primary_guardian.email).get("/"))
    assert "Rec Gym Thursday" not in theirs and "Nothing in the next two weeks." in theirs
    visitor = html(Client(HTTP_HOST=family_web.tenant.primary_host).get("/"))
    assert "Next classes" not in visitor and "Browse classes" in visitor


def test_home_shows_the_next_autopay(family_web):
    portal_settings_update(billing_day=3)
    monthly = make_offering(
        name="Swim Club", tuition=8000, tuition_billing="monthly",
        start_date=next_weekday(0, after_days=1),
    )  # fmt: skip
    monthly.end_date = monthly.start_date.replace(year=monthly.start_date.year + 1)
    monthly.save(update_fields=["end_date"])
    from portal.enrollment.models import Enrollment

    enroll(family_web.family, family_web.student, monthly)
    Enrollment.objects.filter(offering=monthly).update(
        start_date=monthly.start_date.replace(day=1) if monthly.start_date.day > 1 else
        monthly.start_date
    )  # fmt: skip
    page = html(family_web.web.get("/"))
    assert "Next autopay" in page and "$80.00" in page
