"""The tenant's time zone, end to end (docs/tenancy.md, "Time"): windows staff type in the
admin are read in the business's zone, the API shows them with its offset, hold expiry and
emails sent by tasks use it, and date-based rules (the autopay day) count the business's days,
across daylight-saving changes (America/Chicago, Pacific/Auckland)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django.utils.formats import date_format

from portal.catalog.models import Offering
from portal.config.services import portal_settings_update
from portal.enrollment import services
from portal.enrollment.models import Enrollment, Hold, WaitlistEntry
from portal.enrollment.tasks import expire_due_task
from portal.orders.tasks import autopay_run_task
from tests.factories import ProgramFactory
from tests.helpers import assert_error, client_for, make_actor, tenant_in_zone
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1"
CHICAGO = ZoneInfo("America/Chicago")
AUCKLAND = ZoneInfo("Pacific/Auckland")
# Next year's dates, so the windows are always ahead: January is standard time in Chicago
# (UTC-6), July daylight time (UTC-5).
YEAR = timezone.now().year + 1
WINTER, SUMMER = f"{YEAR}-01-11", f"{YEAR}-07-12"


@pytest.fixture
def chicago(in_tenant_a):
    return tenant_in_zone(in_tenant_a, "America/Chicago")


@pytest.fixture
def chicago_staff(chicago):
    """A superuser of the Chicago tenant's admin, signed in on its host."""
    staff = make_actor(chicago, email="desk@alpha.test", staff=True, superuser=True)
    connection.set_tenant(chicago)
    client = client_for(chicago)
    client.force_login(staff.user)
    return client


def _offering_form(program, day: str) -> dict:
    return {
        "kind": "class",
        "status": "published",
        "name": "Ninja Zone",
        "program": program.pk,
        "start_date": f"{YEAR}-08-02",
        "end_date": f"{YEAR}-10-25",
        "weekdays": "0",
        "start_time": "16:00",
        "end_time": "17:00",
        "camp_selection": "whole",
        "capacity": 12,
        "gender": "any",
        "tuition": 9900,
        "camp_unit_price": 0,
        "registration_fee": 0,
        "deposit": 0,
        "tuition_billing": "term",
        "registration_opens_at_0": day,
        "registration_opens_at_1": "08:00",
    }


@pytest.mark.parametrize(
    ("day", "utc_hour", "offset"), [(WINTER, 14, "-06:00"), (SUMMER, 13, "-05:00")]
)
def test_opens_8_00_typed_in_the_admin_is_8_00_in_chicago(
    chicago, chicago_staff, day, utc_hour, offset
):
    program = ProgramFactory()
    response = chicago_staff.post(
        "/admin/portal_catalog/offering/add/", _offering_form(program, day)
    )
    errors = response.context["adminform"].form.errors if response.status_code == 200 else None
    assert response.status_code == 302, errors
    offering = Offering.objects.get(name="Ninja Zone")
    # Stored as the instant 8:00 in Chicago is: 14:00 UTC in winter, 13:00 UTC in summer.
    assert offering.registration_opens_at == datetime.fromisoformat(
        f"{day}T{utc_hour:02d}:00:00+00:00"
    )
    # The admin shows it back as typed.
    page = chicago_staff.get(f"/admin/portal_catalog/offering/{offering.pk}/change/")
    assert 'name="registration_opens_at_1" value="08:00:00"' in page.content.decode()
    assert "Dates and times are in America/Chicago, the business" in page.content.decode()
    # The API gives it with the business's offset.
    body = client_for(chicago).get(f"{API}/offerings/{offering.pk}").json()
    assert body["registration_opens_at"] == f"{day}T08:00:00{offset}"


def test_a_family_is_told_the_opening_time_in_the_business_zone(chicago, family_a):
    opens = datetime.fromisoformat(f"{SUMMER}T13:00:00+00:00")  # 8:00 CDT
    offering = make_offering(name="Beam", registration_opens_at=opens)
    response = family_a.client().post(
        f"{API}/cart/items",
        {"offering": offering.pk, "student": family_a.student.pk},
        format="json",
    )
    day = date_format(date.fromisoformat(SUMMER), "DATE_FORMAT")  # "July 12, 2027"
    assert_error(
        response,
        409,
        "registration_not_open",
        f"Registration for Beam opens {day} at 8 a.m.",  # "a.m." ends the sentence
    )
    assert not Hold.objects.exists()


def test_priority_window_in_the_portal_config_carries_the_offset(chicago):
    starts = datetime.fromisoformat(f"{WINTER}T14:00:00+00:00")
    ends = datetime.fromisoformat(f"{SUMMER}T04:59:00+00:00")
    portal_settings_update(
        priority_registration_starts_at=starts,
        priority_registration_ends_at=ends,
        new_family_enrollment_opens_at=ends,
    )
    settings = client_for(chicago).get(f"{API}/portal").json()["settings"]
    assert settings["priority_registration_starts_at"] == f"{WINTER}T08:00:00-06:00"
    # 04:59 UTC on the 12th is still the 11th in Chicago.
    day_before = (datetime.fromisoformat(SUMMER) - timedelta(days=1)).date().isoformat()
    assert settings["priority_registration_ends_at"] == f"{day_before}T23:59:00-05:00"
    assert settings["new_family_enrollment_opens_at"] == f"{day_before}T23:59:00-05:00"


def test_hold_expiry_comes_in_the_business_zone(chicago, family_a):
    offering = make_offering(name="Beam", capacity=1)
    response = family_a.client().post(
        f"{API}/cart/items",
        {"offering": offering.pk, "student": family_a.student.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    hold = Hold.objects.get(family=family_a.family)
    local = timezone.localtime(hold.expires_at, CHICAGO)
    assert local.utcoffset() in (timedelta(hours=-6), timedelta(hours=-5))
    cart = family_a.client().get(f"{API}/cart").json()
    assert cart["items"][0]["expires_at"] == local.isoformat()

    # A waitlist offer's expiry too.
    other, kid = make_family("second@alpha.test")
    services.waitlist_join(family=other, student_id=kid.pk, offering_id=offering.pk)
    services.cart_remove(family=family_a.family, hold_id=hold.pk)
    offer = Hold.objects.get(family=other, status="offer")
    token_client = client_for(chicago, token=_token_of(other))
    listed = token_client.get(f"{API}/waitlist").json()
    assert (
        listed[0]["offer_expires_at"] == timezone.localtime(offer.expires_at, CHICAGO).isoformat()
    )


def _token_of(family) -> str:
    from kernel.users.services import api_token_issue

    guardian = family.guardians.first()
    _, raw = api_token_issue(user=guardian.user, name="tests")
    return raw


def test_an_email_sent_by_a_task_gives_times_in_the_business_zone(
    chicago, family_a, django_capture_on_commit_callbacks
):
    """The offer email is written by the minutely expiry task, which a worker runs with no
    request around it: the task itself must run in the tenant's zone."""
    offering = make_offering(name="Rec Gym", capacity=1)
    holder, kid = make_family("first@alpha.test")
    services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    services.waitlist_join(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    Hold.objects.filter(family=holder).update(expires_at=timezone.now() - timedelta(seconds=1))
    mail.outbox.clear()
    with timezone.override(None), django_capture_on_commit_callbacks(execute=True):
        assert timezone.get_current_timezone_name() == "UTC"  # as in a worker between tasks
        expire_due_task.apply()
        assert timezone.get_current_timezone_name() == "UTC"  # restored after the task
    entry = WaitlistEntry.objects.get(family=family_a.family)
    assert entry.status == "offered"
    local = timezone.localtime(entry.hold.expires_at, CHICAGO)
    (email,) = [m for m in mail.outbox if m.subject.startswith("A seat opened")]
    assert f"held for you until {local:%b %-d at %-I:%M %p}." in email.body
    utc = entry.hold.expires_at.astimezone(UTC)
    assert f"{utc:%-I:%M %p}" not in email.body


# Pacific/Auckland: daylight time (UTC+13) ends on the first Sunday of April (2026-04-05,
# 03:00 -> 02:00) and starts on the last Sunday of September (2026-09-27, 02:00 -> 03:00).
@pytest.mark.parametrize(
    ("billing_day", "utc_now", "billed"),
    [
        (5, "2026-04-04T10:30:00+00:00", 0),  # Apr 4, 23:30 NZDT
        (5, "2026-04-04T11:30:00+00:00", 1),  # Apr 5, 00:30 NZDT (still the 4th in UTC)
        (5, "2026-04-05T11:30:00+00:00", 1),  # Apr 5, 23:30 NZST (UTC+13 would say the 6th)
        (5, "2026-04-05T12:30:00+00:00", 0),  # Apr 6, 00:30 NZST
        (27, "2026-09-26T11:30:00+00:00", 0),  # Sep 26, 23:30 NZST
        (27, "2026-09-26T12:30:00+00:00", 1),  # Sep 27, 00:30 NZST
        (27, "2026-09-27T10:30:00+00:00", 1),  # Sep 27, 23:30 NZDT (UTC+12 would say the 28th)
        (27, "2026-09-27T11:30:00+00:00", 0),  # Sep 28, 00:30 NZDT
    ],
)
def test_autopay_bills_on_the_business_day_across_auckland_dst(
    in_tenant_a, family_a, billing_day, utc_now, billed
):
    tenant_in_zone(in_tenant_a, "Pacific/Auckland")
    now = datetime.fromisoformat(utc_now)
    period = timezone.localdate(now, AUCKLAND).replace(day=1)
    portal_settings_update(billing_day=billing_day)
    start = period - timedelta(days=40)
    offering = make_offering(
        name="Team Gym",
        tuition=9500,
        tuition_billing="monthly",
        start_date=start,
        end_date=start + timedelta(days=200),
    )
    Enrollment.objects.create(
        family=family_a.family,
        student=family_a.student,
        offering=offering,
        status="active",
        start_date=start,
    )
    with (
        override_settings(STRIPE_SECRET_KEY="sk_test_platform"),
        mock.patch("django.utils.timezone.now", return_value=now),
        timezone.override(None),  # a worker's: the task must bring the tenant's zone
    ):
        # As beat runs it: in the tenant's schema, with no request and no zone around it.
        result = autopay_run_task.apply().get()
    assert result["billed"] == billed
    if billed:
        from portal.billing.models import AutopayCharge

        assert AutopayCharge.objects.get().period == period


@pytest.mark.parametrize(
    "path",
    [
        "/admin/portal_config/portalsettings/1/change/",
        "/admin/portal_config/announcement/add/",
        "/admin/portal_catalog/offering/add/",
    ],
)
def test_admin_forms_with_dates_name_the_zone_they_are_typed_in(chicago_staff, path):
    page = chicago_staff.get(path)
    assert page.status_code == 200
    assert "Dates and times are in America/Chicago, the business" in page.content.decode()


# A class at 9:00 on the Sundays Auckland's clocks change: reported absences need 24 hours'
# notice, counted in real hours from 9:00 on the business's clock.
@pytest.mark.parametrize(
    ("meeting", "utc_now", "status"),
    [
        # 9:00 NZST on Apr 5 is 21:00 UTC on Apr 4; the clock went back an hour that night,
        # so 24 hours before is 10:00 NZDT on Apr 4.
        ("2026-04-05", "2026-04-03T20:30:00+00:00", 201),  # Apr 4, 09:30 NZDT
        ("2026-04-05", "2026-04-03T21:30:00+00:00", 400),  # Apr 4, 10:30 NZDT
        # 9:00 NZDT on Sep 27 is 20:00 UTC on Sep 26; the clock went forward, so 24 hours
        # before is 08:00 NZST on Sep 26.
        ("2026-09-27", "2026-09-25T19:30:00+00:00", 201),  # Sep 26, 07:30 NZST
        ("2026-09-27", "2026-09-25T20:30:00+00:00", 400),  # Sep 26, 08:30 NZST
    ],
)
def test_absence_notice_counts_from_the_class_on_the_business_clock_across_auckland_dst(
    in_tenant_a, family_a, meeting, utc_now, status
):
    from datetime import date, time

    tenant_in_zone(in_tenant_a, "Pacific/Auckland")
    portal_settings_update(absences_enabled=True, absence_notice_hours=24)
    day = date.fromisoformat(meeting)
    offering = make_offering(
        name="Sunday Tumbling",
        start_date=day - timedelta(weeks=4),
        end_date=day + timedelta(weeks=4),
        weekdays=[6],
        start_time=time(9),
        end_time=time(10),
    )
    enrollment = Enrollment.objects.create(
        family=family_a.family,
        student=family_a.student,
        offering=offering,
        status="active",
        start_date=offering.start_date,
    )
    assert day in offering.meetings()
    with mock.patch("django.utils.timezone.now", return_value=datetime.fromisoformat(utc_now)):
        response = family_a.client().post(
            f"{API}/requests",
            {"type": "absence", "enrollment": enrollment.pk, "meeting_date": meeting},
            format="json",
        )
    if status == 201:
        assert response.status_code == 201, response.content
    else:
        assert_error(
            response,
            400,
            "absence_too_late",
            "Absences must be reported at least 24 hours before class.",
        )
