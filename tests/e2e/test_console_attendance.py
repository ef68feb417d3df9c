"""Rosters and attendance in Chromium on a 768 px tablet (and at 1280 px): a coach opens
today's class from the dashboard, marks a student present and another excused in a few taps
(the page updates in place), the excused absence issues a makeup token and the family sees it
on their requests page; the front desk sees the class page and the attendance report. axe-core
checks every page; the screenshots of docs/staff.md are taken here
(docs/images/console-attendance-*.png)."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.users.models import User
from portal.accounts.models import EmergencyContact, Family, Guardian, Student
from portal.attendance.models import Attendance
from portal.catalog.models import Location, Offering, Program, StaffProfile
from portal.enrollment.models import Enrollment
from portal.requests.models import MakeupToken
from portal.staff.services import staff_role_set
from tests.e2e.data import business_today

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "console-pass-2026"
SIZES = {"tablet": {"width": 768, "height": 1024}, "desktop": {"width": 1280, "height": 900}}


def attendance_data(tenant) -> dict:
    """A class meeting today taught by the coach, three students (one with an allergy and an
    emergency contact, one starting today), a family login for Leo. Committed."""
    today = business_today(tenant)
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
        coach = User.objects.create_user(
            email="coach@kestrel.test", password=PASSWORD, is_staff=True
        )
        staff_role_set(user=coach, role="coach")
        profile = StaffProfile.objects.create(display_name="Coach Lee", user=coach)
        gym = Program.objects.create(name="Gymnastics")
        main = Location.objects.create(name="Main gym", city="Springfield")
        tots = Offering.objects.create(
            name="Tumble Tots",
            capacity=8,
            start_time=time(16),
            end_time=time(17),
            program=gym,
            location=main,
            start_date=today - timedelta(days=21),
            end_date=today + timedelta(weeks=8),
            weekdays=[today.weekday()],
            tuition=12000,
        )
        tots.instructors.set([profile])
        students = {}
        for last, kid, start, notes in (
            ("Rivera", "Mia", today - timedelta(days=21), "Peanut allergy (EpiPen in bag)"),
            ("Chen", "Leo", today - timedelta(days=21), ""),
            ("Okafor", "Ada", today, ""),
        ):
            family = Family.objects.create(name=f"The {last} family")
            guardian = Guardian.objects.create(
                family=family,
                first_name="Pat",
                last_name=last,
                is_primary=True,
                email=f"{kid.lower()}@kestrel.test",
                phone="(555) 201-7788",
            )
            if kid == "Leo":
                guardian.user = User.objects.create_user(email=guardian.email, password=PASSWORD)
                guardian.save()
            if notes:
                EmergencyContact.objects.create(
                    family=family,
                    name="Grandma Rivera",
                    relationship="Grandmother",
                    phone="555 0100",
                )
            student = Student.objects.create(
                family=family,
                first_name=kid,
                last_name=last,
                date_of_birth=date(today.year - 6, 3, 1),
                medical_notes=notes,
            )
            Enrollment.objects.create(
                family=family, student=student, offering=tots, status="active", start_date=start
            )
            students[kid] = student
    connection.set_schema_to_public()
    return {"tots": tots, "students": students, "today": today}


def shoot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


def no_sideways(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def sign_in(page, e2e_tenant, email: str, axe) -> None:
    page.goto(e2e_tenant("/console/login/"))
    axe.check(page, context="(sign-in)")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(e2e_tenant("/console/"))


@pytest.mark.parametrize("viewport", ["tablet", "desktop"])
def test_a_coach_takes_attendance_on_a_tablet(viewport, e2e_tenant, browser, axe, request):
    data = attendance_data(e2e_tenant.tenant)
    size = SIZES[viewport]
    width = size["width"]
    context = browser.new_context(
        viewport=size, locale="en-US", bypass_csp=True, has_touch=viewport == "tablet"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    request.node._e2e_pages = [page]
    tots, kids, today = data["tots"], data["students"], data["today"]
    meeting = f"/console/rosters/{tots.pk}/{today.isoformat()}/"
    try:
        sign_in(page, e2e_tenant, "coach@kestrel.test", axe)
        row = page.locator("tr", has_text="Tumble Tots")
        assert "Not taken" in row.inner_text()
        axe.check(page, context="(coach dashboard)")
        shoot(page, f"console-attendance-dashboard-{width}.png")
        row.get_by_role("link", name="Not taken").click()
        page.wait_for_url(e2e_tenant(meeting))
        expect(page.get_by_text("0 of 3 marked")).to_be_visible()
        expect(page.get_by_text("Peanut allergy (EpiPen in bag)")).to_be_visible()
        expect(page.get_by_text("First class")).to_be_visible()
        axe.check(page, context="(meeting)")
        no_sideways(page)
        # Tap: Mia present, Leo excused. The page updates in place (no navigation).
        mia = page.locator(f"#student-{kids['Mia'].pk}")
        mia.get_by_role("button", name="Present").click()
        page.wait_for_function(
            f"document.querySelector('#student-{kids['Mia'].pk}').dataset.status === 'present'"
        )
        assert page.url == e2e_tenant(meeting)
        leo = page.locator(f"#student-{kids['Leo'].pk}")
        leo.get_by_role("button", name="Excused").click()
        page.get_by_text("A makeup token is issued to the family").wait_for()
        assert leo.get_by_role("button", name="Excused").get_attribute("aria-pressed") == "true"
        expect(page.get_by_text("2 of 3 marked")).to_be_visible()
        axe.check(page, context="(meeting, marked)")
        shoot(page, f"console-attendance-{width}.png")
        # Everyone else present: Ada.
        page.get_by_role("button", name="Mark everyone else present").click()
        page.wait_for_url(e2e_tenant(meeting))
        expect(page.get_by_text("3 of 3 marked")).to_be_visible()
        with tenant_context(e2e_tenant.tenant):
            marks = dict(Attendance.objects.values_list("student__first_name", "status"))
            token = MakeupToken.objects.get(student_id=kids["Leo"].pk)
        connection.set_schema_to_public()
        assert marks == {"Mia": "present", "Leo": "excused", "Ada": "present"}
        assert token.status == "available"
        # The dashboard now says taken; the class page lists the meeting as taken.
        page.goto(e2e_tenant("/console/"))
        assert "Taken" in page.locator("tr", has_text="Tumble Tots").inner_text()
        page.goto(e2e_tenant(f"/console/rosters/{tots.pk}/"))
        expect(page.get_by_text("attendance taken").first).to_be_visible()
        axe.check(page, context="(class page)")
        no_sideways(page)
        shoot(page, f"console-roster-{width}.png")
        # The printed roster: no navigation or buttons, a box per student.
        page.emulate_media(media="print")
        page.goto(e2e_tenant(meeting))
        assert not page.locator(".c-header").is_visible()
        assert not page.get_by_role("button", name="Present").first.is_visible()
        shoot(page, f"console-roster-print-{width}.png")
        page.emulate_media(media="screen")
        # The CSV.
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        text = Path(download.value.path()).read_text()
        assert "Leo Chen" in text and "Excused" in text and "Peanut allergy" in text
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(e2e_tenant("/console/login/"))
        # The owner reads the attendance report.
        sign_in(page, e2e_tenant, e2e_tenant.tenant.owner_email, axe)
        page.goto(e2e_tenant("/console/reports/attendance/"))
        expect(page.get_by_role("heading", name="Attendance by class")).to_be_visible()
        expect(page.locator("tr", has_text="Tumble Tots")).to_be_visible()
        axe.check(page, context="(attendance report)")
        no_sideways(page)
        shoot(page, f"console-attendance-report-{width}.png")
        # The family sees the makeup token and the marks on the schedule.
        context.clear_cookies()
        page.goto(e2e_tenant("/login/"))
        page.locator("#id_email").fill("leo@kestrel.test")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("load")
        page.goto(e2e_tenant("/requests/"))
        expect(page.get_by_text("Leo: Gymnastics, valid until")).to_be_visible()
        axe.check(page, context="(family requests)")
        page.goto(e2e_tenant("/schedule/"))
        expect(page.get_by_text("excused").first).to_be_visible()
        axe.check(page, context="(family schedule)")
        shoot(page, f"family-schedule-attendance-{width}.png")
        assert errors == []
    finally:
        context.close()
