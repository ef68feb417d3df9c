"""The staff console in Chromium at 1280 and 768 px: the owner signs in, sees today's classes
and what waits, approves one pending enrollment and denies another (credit); a coach sees only
their own classes and no enrollments. axe-core checks every page; the screenshots of
docs/staff.md are taken here (docs/images/console-*.png)."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.users.models import User
from portal.accounts.models import Family, Guardian, Student
from portal.catalog.models import Location, Offering, Program, StaffProfile
from portal.enrollment.models import Enrollment
from portal.staff.services import staff_role_set
from tests.e2e.data import business_today

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "console-pass-2026"
TABLET = {"width": 768, "height": 1024}


def console_data(tenant) -> dict:
    """Two classes meeting today (one taught by the coach), two enrollments pending approval,
    an owner and a coach with passwords. Committed: the live server reads it."""
    today = business_today(tenant)
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
        coach = User.objects.create_user(email="coach@kestrel.test", password=PASSWORD,
                                         is_staff=True)  # fmt: skip
        staff_role_set(user=coach, role="coach")
        profile = StaffProfile.objects.create(display_name="Coach Lee", user=coach)
        gym = Program.objects.create(name="Gymnastics")
        main = Location.objects.create(name="Main gym", city="Springfield")
        common = dict(program=gym, location=main, start_date=today - timedelta(days=14),
                      end_date=today + timedelta(weeks=8), weekdays=[today.weekday()],
                      tuition=12000)  # fmt: skip
        tots = Offering.objects.create(name="Tumble Tots", capacity=8, start_time=time(16),
                                       end_time=time(17), **common)  # fmt: skip
        tots.instructors.set([profile])
        ninja = Offering.objects.create(name="Ninja Skills", capacity=10, start_time=time(17),
                                        end_time=time(18), **common)  # fmt: skip
        pending = []
        for name, kid in (("Rivera", "Mia"), ("Chen", "Leo")):
            family = Family.objects.create(name=f"The {name} family")
            Guardian.objects.create(
                family=family,
                first_name="Pat",
                last_name=name,
                email=f"{kid.lower()}@kestrel.test",
                is_primary=True,
            )
            student = Student.objects.create(
                family=family,
                first_name=kid,
                last_name=name,
                date_of_birth=today.replace(year=today.year - 7),
            )
            pending.append(Enrollment.objects.create(
                family=family, student=student, offering=ninja, status="pending",
                start_date=today + timedelta(days=7),
            ))  # fmt: skip
    connection.set_schema_to_public()
    return {"owner": owner, "coach": coach, "pending": pending}


def sign_in(page, e2e_tenant, email: str, axe) -> None:
    page.goto(e2e_tenant("/console/"))
    assert "/console/login/" in page.url
    axe.check(page, context="(sign-in)")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(e2e_tenant("/console/"))


def shoot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
def test_owner_and_coach_in_the_console(viewport, e2e_tenant, browser, axe, request):
    data = console_data(e2e_tenant.tenant)
    size = {"desktop": {"width": 1280, "height": 900}, "tablet": TABLET}[viewport]
    width = size["width"]
    context = browser.new_context(viewport=size, locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    try:
        sign_in(page, e2e_tenant, e2e_tenant.tenant.owner_email, axe)
        expect(page.get_by_role("heading", name="Today's classes")).to_be_visible()
        expect(page.get_by_text("Tumble Tots")).to_be_visible()
        expect(page.get_by_text("Ninja Skills")).to_be_visible()
        assert page.locator(".c-tile__n").first.inner_text() == "2"
        axe.check(page, context="(dashboard)")
        shoot(page, f"console-dashboard-{width}.png")
        page.get_by_role("link", name="Enrollments", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/enrollments/"))
        axe.check(page, context="(enrollments)")
        shoot(page, f"console-enrollments-{width}.png")
        first, second = data["pending"]
        form = page.locator(f'form[action="/console/enrollments/{first.pk}/decide"]')
        form.get_by_label("Note to the family").fill("Welcome to Ninja Skills!")
        form.get_by_role("button", name="Approve").click()
        page.wait_for_url(e2e_tenant("/console/enrollments/"))
        expect(page.get_by_text("Enrollment approved; the family is told.")).to_be_visible()
        form = page.locator(f'form[action="/console/enrollments/{second.pk}/decide"]')
        form.get_by_role("button", name="Deny").click()
        page.wait_for_url(e2e_tenant("/console/enrollments/"))
        expect(page.get_by_text("Enrollment denied; nothing had been paid.")).to_be_visible()
        expect(page.get_by_text("Nothing waits for approval.")).to_be_visible()
        axe.check(page, context="(after decisions)")
        with tenant_context(e2e_tenant.tenant):
            statuses = {e.pk: e.status for e in Enrollment.objects.all()}
        connection.set_schema_to_public()
        assert statuses == {first.pk: "active", second.pk: "denied"}
        # Nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        # The owner invites a front-desk colleague.
        page.get_by_role("link", name="Staff", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/staff/"))
        page.get_by_label("Email").fill(f"desk{width}@kestrel.test")
        page.get_by_label("Role", exact=True).select_option("front_desk")
        page.get_by_role("button", name="Send the invitation").click()
        page.wait_for_url(e2e_tenant("/console/staff/"))
        expect(page.get_by_text(f"desk{width}@kestrel.test is invited")).to_be_visible()
        axe.check(page, context="(staff)")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shoot(page, f"console-staff-{width}.png")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(e2e_tenant("/console/login/"))
        # The coach: their own class only, no enrollments.
        sign_in(page, e2e_tenant, "coach@kestrel.test", axe)
        expect(page.get_by_text("Tumble Tots")).to_be_visible()
        assert page.get_by_text("Ninja Skills").count() == 0
        assert page.get_by_role("link", name="Enrollments", exact=True).count() == 0
        axe.check(page, context="(coach dashboard)")
        shoot(page, f"console-coach-{width}.png")
        page.goto(e2e_tenant("/console/enrollments/"))
        expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()
        axe.check(page, context="(refused)")
    finally:
        context.close()
