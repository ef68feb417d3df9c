"""A camp booked by the day, in Chromium at 390 and 1280 px: a signed-in family opens the camp,
sees each day with its price and seats (one day already full), picks two days, sees them
priced in the cart and checks out (account credit pays, so no card is needed); the enrollment
holds those two days and the schedule lists only them. axe-core checks every page."""

from __future__ import annotations

import os
from datetime import time, timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from portal.enrollment.models import Enrollment
from tests.e2e.data import next_monday

pytestmark = pytest.mark.e2e


def _shots(page, name: str) -> None:
    """With E2E_SHOTS=<folder>: the page at phone, tablet and desktop widths (for review)."""
    folder = os.environ.get("E2E_SHOTS")
    if not folder:
        return
    before = page.viewport_size
    for width in (390, 768, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
    page.set_viewport_size(before)


def _setup(tenant):
    from portal.billing.services import ledger_post
    from portal.catalog.models import Offering, Program
    from portal.enrollment import services
    from tests.factories import GuardianFactory, StudentFactory
    from tests.portal.enrollment_helpers import accept_policies

    with tenant_context(tenant):
        start = next_monday()
        camp = Offering.objects.create(
            name="Summer Day Camp", kind="camp", camp_selection="day", camp_unit_price=4500,
            tuition=40000, program=Program.objects.create(name="Camps"), capacity=1,
            start_date=start, end_date=start + timedelta(days=4), weekdays=[],
            start_time=time(9), end_time=time(15),
        )  # fmt: skip
        guardian = GuardianFactory(email="camp@kestrel.test", first_name="Dana")
        StudentFactory(family=guardian.family, first_name="Mia", last_name="Rivera")
        accept_policies(guardian.family)
        ledger_post(
            family_id=guardian.family_id, kind="credit", description="Credit", amount=-20000,
            currency=tenant.currency, source_key=f"e2e-credit-{guardian.family_id}",
        )  # fmt: skip
        # Another family already has Monday's only seat.
        other = GuardianFactory(email="other@kestrel.test")
        kid = StudentFactory(family=other.family, first_name="Leo")
        services.cart_add(family=other.family, student_id=kid.pk, offering_id=camp.pk,
                          days=[start])  # fmt: skip
    connection.set_schema_to_public()
    return camp


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_family_picks_two_camp_days_and_checks_out(viewport, e2e_tenant, browser, axe, request):
    from tests.factories import PASSWORD

    size = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
    context = browser.new_context(viewport=size[viewport], locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    camp = _setup(e2e_tenant.tenant)
    monday = camp.start_date
    tuesday, thursday = monday + timedelta(days=1), monday + timedelta(days=3)
    try:
        page.goto(e2e_tenant("/login/"))
        page.locator("input[name=email]").fill("camp@kestrel.test")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("load")

        page.goto(e2e_tenant(f"/classes/{camp.pk}/"))
        page.get_by_role("heading", level=1, name="Summer Day Camp").wait_for()
        picker = page.get_by_role("group", name="Choose the days")
        expect(picker).to_be_visible()
        boxes = picker.get_by_role("checkbox")
        assert boxes.count() == 5
        assert boxes.nth(0).is_disabled()  # Monday is full
        assert "FULL" in picker.locator("li").nth(0).inner_text()
        assert "$45.00" in picker.locator("li").nth(1).inner_text()
        axe.check(page, context="(camp days)")
        _shots(page, "camp-days")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

        page.get_by_label("Student").select_option(label="Mia Rivera")
        page.locator(f"input[name=days][value='{tuesday.isoformat()}']").check()
        page.locator(f"input[name=days][value='{thursday.isoformat()}']").check()
        page.get_by_role("button", name="Add to cart").click()
        page.wait_for_url(e2e_tenant("/cart/"))
        row = page.get_by_role("row", name="Summer Day Camp").first
        assert "2 days:" in row.inner_text()
        assert "$90.00" in page.locator("main").inner_text()
        axe.check(page, context="(cart with camp days)")
        _shots(page, "camp-cart")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

        page.get_by_role("link", name="Check out").click()
        page.wait_for_url(e2e_tenant("/checkout/"))
        axe.check(page, context="(checkout)")
        page.get_by_role("button", name="Continue to payment").click()
        page.wait_for_load_state("load")
        axe.check(page, context="(after checkout)")

        with tenant_context(e2e_tenant.tenant):
            enrollment = Enrollment.objects.get(student__first_name="Mia")
            assert enrollment.status == "active"
            assert enrollment.camp_days == [tuesday, thursday]
        connection.set_schema_to_public()

        page.goto(e2e_tenant("/enrollments/"))
        assert "Days booked" in page.locator("main").inner_text()
        axe.check(page, context="(enrollments)")
    finally:
        context.close()
