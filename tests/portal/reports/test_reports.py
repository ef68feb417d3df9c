"""Staff reports (portal.reports): enrollment, fill rate, revenue by month, waitlist demand and
drops with reasons, as rows and as CSV."""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from kernel.errors import ApplicationError
from portal.billing.models import LedgerEntry
from portal.enrollment.models import Enrollment, WaitlistEntry
from portal.reports.selectors import report_run
from portal.requests.models import Request
from tests.factories import GuardianFactory, LevelFactory, ProgramFactory, StudentFactory
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def school(in_tenant_a):
    gym, swim = ProgramFactory(name="Gymnastics"), ProgramFactory(name="Swim")
    beginner = LevelFactory(program=gym, name="Beginner", position=1)
    tots = make_offering(program=gym, name="Tumble Tots", capacity=4)
    team = make_offering(program=gym, name="Team", capacity=2)
    guppies = make_offering(program=swim, name="Guppies", capacity=5)
    kids = []
    for n in range(5):
        guardian = GuardianFactory(email=f"p{n}@alpha.test")
        kids.append(StudentFactory(family=guardian.family, level=beginner if n < 2 else None))

    def enrol(kid, offering, status="active"):
        return Enrollment.objects.create(
            family=kid.family, student=kid, offering=offering, status=status,
            start_date=offering.start_date,
        )  # fmt: skip

    enrol(kids[0], tots)
    enrol(kids[1], tots)
    enrol(kids[2], tots, "pending")
    enrol(kids[3], team)
    enrol(kids[4], team)
    enrol(kids[0], guppies, "dropped")
    for n, kid in enumerate(kids[:3]):
        WaitlistEntry.objects.create(offering=team, family=kid.family, student=kid, priority=n)
    return {"tots": tots, "team": team, "guppies": guppies, "kids": kids}


def rows(report, *keys):
    return [tuple(row[k] for k in keys) for row in report.rows]


def test_enrollment_by_program_class_and_level(school):
    by_program = report_run(name="enrollment", params={})
    assert rows(by_program, "program", "offerings", "active", "pending", "capacity") == [
        ("Gymnastics", 2, 4, 1, 6),
        ("Swim", 1, 0, 0, 5),
    ]
    by_class = report_run(name="enrollment", params={"group_by": "offering"})
    assert rows(by_class, "offering", "active", "pending") == [
        ("Team", 2, 0),
        ("Tumble Tots", 2, 1),
        ("Guppies", 0, 0),
    ]
    by_level = report_run(name="enrollment", params={"group_by": "level"})
    assert rows(by_level, "level", "active", "pending") == [
        ("Beginner", 2, 0),
        ("No level", 2, 1),
    ]


def test_fill_rate_and_waitlist_demand(school):
    fill = {r["offering"]: r for r in report_run(name="fill-rate", params={}).rows}
    assert (fill["Tumble Tots"]["enrolled"], fill["Tumble Tots"]["fill_rate"]) == (3, 75.0)
    assert (fill["Team"]["fill_rate"], fill["Team"]["openings"], fill["Team"]["waiting"]) == (
        100.0,
        0,
        3,
    )
    assert fill["Guppies"]["fill_rate"] == 0.0
    demand = report_run(name="waitlist", params={})
    assert rows(demand, "offering", "waiting", "offered", "capacity", "enrolled") == [
        ("Team", 3, 0, 2, 2)
    ]
    assert demand.rows[0]["waiting_since"] == timezone.localdate(
        timezone=ZoneInfo(connection.tenant.timezone)
    )


def test_revenue_by_month_in_the_business_zone(school):
    zone = ZoneInfo(connection.tenant.timezone)
    family = school["kids"][0].family

    def post(kind, amount, when, key):
        LedgerEntry.objects.create(
            family=family, kind=kind, description=kind, amount=amount, currency="USD",
            source_key=key, created_at=when,
        )  # fmt: skip

    post("charge", 10000, datetime(2026, 3, 5, 12, tzinfo=zone), "a")
    post("discount", -1000, datetime(2026, 3, 5, 12, tzinfo=zone), "b")
    post("payment", -9000, datetime(2026, 3, 31, 23, 30, tzinfo=zone), "c")  # April in UTC
    post("refund", 2500, datetime(2026, 4, 2, 9, tzinfo=zone), "d")
    post("credit", -500, datetime(2026, 4, 3, 9, tzinfo=zone), "e")
    report = report_run(name="revenue", params={"from": "2026-02", "to": "2026-04"})
    assert rows(
        report, "month", "charges", "discounts", "credits", "payments", "refunds", "net_collected"
    ) == [
        (date(2026, 2, 1), 0, 0, 0, 0, 0, 0),
        (date(2026, 3, 1), 10000, 1000, 0, 9000, 0, 9000),
        (date(2026, 4, 1), 0, 0, 500, 0, 2500, -2500),
    ]
    lines = list(csv.reader(io.StringIO(report.csv())))
    assert lines[0] == [
        "Month", "Charged", "Discounts", "Credits", "Collected", "Refunded", "Net collected"
    ]  # fmt: skip
    assert lines[2] == ["2026-03", "100.00", "10.00", "0.00", "90.00", "0.00", "90.00"]
    assert lines[3][-1] == "-25.00"  # a negative number stays a number


def test_drops_with_reasons_and_csv_that_cannot_run_formulas(school):
    kid = school["kids"][3]
    enrollment = Enrollment.objects.get(student=kid, offering=school["team"])
    Request.objects.create(
        type="drop",
        family=kid.family,
        student=kid,
        enrollment=enrollment,
        effective_date=timezone.localdate() + timedelta(days=14),
        reason='=HYPERLINK("http://evil.test","moving away")',
    )
    report = report_run(name="drops", params={})
    assert rows(report, "offering", "status", "program") == [("Team", "pending", "Gymnastics")]
    lines = list(csv.reader(io.StringIO(report.csv())))
    assert lines[1][-1] == '\'=HYPERLINK("http://evil.test","moving away")'
    assert report_run(name="drops", params={"status": "approved"}).rows == []


@pytest.mark.parametrize(
    "name, params, field",
    [
        ("enrollment", {"group_by": "teacher"}, "group_by"),
        ("enrollment", {"kind": "party"}, "kind"),
        ("enrollment", {"program": "abc"}, "program"),
        ("enrollment", {"current": "yes"}, "current"),
        ("revenue", {"from": "2026-13"}, "from"),
        ("revenue", {"from": "2026-1"}, "from"),
        ("revenue", {"from": "2020-01", "to": "2026-01"}, "to"),
        ("revenue", {"from": "2026-05", "to": "2026-04"}, "to"),
        ("drops", {"from": "yesterday"}, "from"),
        ("drops", {"from": "2026-05-02", "to": "2026-05-01"}, "to"),
        ("drops", {"status": "lost"}, "status"),
        ("drops", {"reason": "x\x00"}, "reason"),
    ],
)
def test_bad_parameters_are_refused(school, name, params, field):
    with pytest.raises(ApplicationError) as caught:
        report_run(name=name, params=params)
    assert caught.value.code == "invalid_filter" and field in caught.value.fields


def test_an_unknown_report_is_a_404(in_tenant_a):
    with pytest.raises(ApplicationError) as caught:
        report_run(name="retention", params={})
    assert (caught.value.code, caught.value.status) == ("report_not_found", 404)


def test_another_business_sees_none_of_it(school, tenant_b):
    connection.set_tenant(tenant_b)
    assert report_run(name="fill-rate", params={}).rows == []
    assert report_run(name="waitlist", params={}).rows == []
