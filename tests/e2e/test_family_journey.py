"""The family journey in a real browser, on a desktop and on a phone: a visitor searches the
classes, signs up, adds a student, puts a class in the cart and sees the hold countdown, checks
out (a free class, so no card is needed), sees the enrollment and reports an absence. axe-core
checks every page on the way."""

from __future__ import annotations

import itertools
import re

import pytest
from django_tenants.utils import tenant_context

from portal.enrollment.models import Enrollment
from portal.requests.models import Request
from tests.e2e.data import catalog_create

pytestmark = pytest.mark.e2e
_emails = itertools.count(1)


def _open_nav(page, name: str) -> None:
    """Follow a link of the site's main navigation by its name (on a phone, the navigation is
    behind the Menu button first)."""
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
    page.wait_for_load_state("load")


def family_journey(page, axe, e2e_tenant) -> None:
    offerings = catalog_create(e2e_tenant.tenant)
    free = offerings["free"]
    email = f"parent{next(_emails)}@kestrel.test"

    # 1. A visitor searches the classes.
    page.goto(e2e_tenant("/"))
    axe.check(page)
    _open_nav(page, "Classes")
    axe.check(page)
    page.get_by_label("Search", exact=True).fill("Tumble")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_load_state("load")
    results = page.get_by_role("heading", level=3)
    assert results.all_inner_texts() == ["Tumble Tots Trial"]
    axe.check(page, context="(search results)")
    page.get_by_role("link", name="Tumble Tots Trial", exact=True).click()
    page.get_by_role("heading", level=1, name="Tumble Tots Trial").wait_for()
    axe.check(page)

    # 2. Signs up (coming back to the class afterwards).
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_role("heading", level=1, name="Create a family account").wait_for()
    axe.check(page)
    page.get_by_label("First name").fill("Dana")
    page.get_by_label("Last name").fill("Rivera")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state("load")
    axe.check(page, context="(after signup)")

    # 3. Adds a student.
    page.get_by_role("link", name="Add a student").first.click()
    page.get_by_role("heading", level=1, name="Add a student").wait_for()
    axe.check(page)
    page.get_by_label("First name").fill("Mia")
    page.get_by_label("Last name").fill("Rivera")
    page.get_by_label("Date of birth").fill("2018-05-01")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    axe.check(page, context="(after adding a student)")

    # 4. Adds the class to the cart and sees the countdown.
    if page.get_by_role("heading", level=1, name="Tumble Tots Trial").count() == 0:
        page.goto(e2e_tenant(f"/classes/{free.pk}/"))
        axe.check(page)
    page.get_by_label("Student").select_option(label="Mia Rivera")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("heading", level=1, name="Cart").wait_for()
    timer = page.get_by_role("timer")
    timer.wait_for()
    first = timer.inner_text()
    assert re.fullmatch(r"\d+:\d\d", first), first
    page.wait_for_function(
        "(first) => document.querySelector('[role=timer]').textContent !== first", arg=first
    )
    assert "Tumble Tots Trial" in page.inner_text("main")
    axe.check(page)

    # 5. Checks out (nothing to pay).
    page.get_by_role("link", name="Check out").click()
    page.get_by_role("heading", level=1, name="Check out").wait_for()
    axe.check(page)
    page.get_by_role("button", name="Confirm enrollment").click()
    page.wait_for_load_state("load")
    assert "You are enrolled" in page.inner_text("main")
    axe.check(page, context="(order confirmed)")

    # 6. Sees the enrollment.
    _open_nav(page, "Enrollments")
    assert "Tumble Tots Trial" in page.inner_text("main")
    axe.check(page)

    # 7. Reports an absence.
    _open_nav(page, "Requests")
    axe.check(page)
    page.get_by_role("link", name=re.compile(r"^Report an absence")).first.click()
    page.get_by_role("heading", level=1, name="Report an absence").wait_for()
    axe.check(page)
    second_meeting = free.meetings()[1]
    page.get_by_label("Which class will be missed?").select_option(second_meeting.isoformat())
    page.get_by_label("Reason (optional)").fill("Family trip")
    page.get_by_role("button", name="Report the absence").click()
    page.get_by_role("heading", level=1, name="Requests").wait_for()
    assert "Absence reported" in page.inner_text("main")
    axe.check(page, context="(after the absence)")

    with tenant_context(e2e_tenant.tenant):
        enrollment = Enrollment.objects.get(offering_id=free.pk)
        assert enrollment.status == Enrollment.Status.ACTIVE
        assert enrollment.student.first_name == "Mia"
        absence = Request.objects.get(enrollment=enrollment)
        assert absence.meeting_date == second_meeting and absence.reason == "Family trip"
    axe.assert_every_page_checked()


def test_family_journey_on_a_desktop(e2e_tenant, page, axe):
    family_journey(page, axe, e2e_tenant)


def test_family_journey_on_a_phone(e2e_tenant, phone_page, axe):
    assert phone_page.viewport_size == {"width": 390, "height": 844}
    family_journey(phone_page, axe, e2e_tenant)
    # Nothing scrolls sideways on a phone.
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
