"""The console's waiting rooms page in Chromium at 1280 and 768 px: the owner watches an opening
under way, a family joining the line shows up without a reload (the page polls every 2 s), and
the owner pauses and resumes the line, and the line's state says so when every class fills.
axe-core checks the page; docs/staff.md shows the
screenshots (docs/images/console-openings-*.png)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.users.models import User
from portal.catalog import waiting_room
from portal.catalog.availability import availability_clear
from portal.catalog.models import Offering, Program, RegistrationOpening
from tests.e2e.data import business_today

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "console-pass-2026"


def opening_data(tenant) -> RegistrationOpening:
    """An opening a minute old: 3 families checking out (the slots), 4 in line; a later one
    with 2 families in its pre-queue. Committed: the live server reads it."""
    today = business_today(tenant)
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
        swim = Program.objects.create(name="Swim")
        lanes = Offering.objects.create(
            name="Lane swim",
            program=swim,
            capacity=12,
            start_date=today + timedelta(days=14),
            end_date=today + timedelta(weeks=10),
            start_time=timezone.datetime(2026, 1, 1, 16).time(),
            end_time=timezone.datetime(2026, 1, 1, 17).time(),
            weekdays=[today.weekday()],
            tuition=9000,
        )
        fall = RegistrationOpening.objects.create(
            name="Fall registration",
            opens_at=timezone.now() - timedelta(minutes=1),
            checkout_slots=3,
        )
        fall.offerings.set([lanes])
        summer = RegistrationOpening.objects.create(
            name="Summer camps", opens_at=timezone.now() + timedelta(days=2)
        )
        summer.offerings.set([lanes])
        for family_id in range(1, 8):
            waiting_room.queue_join(opening_id=fall.pk, family_id=family_id)
        for family_id in (20, 21):
            waiting_room.queue_join(opening_id=summer.pk, family_id=family_id)
    connection.set_schema_to_public()
    return fall


def shoot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


@pytest.mark.parametrize("width", [1280, 768])
def test_owner_watches_the_line_live_and_pauses_it(width, e2e_tenant, browser, axe, request):
    fall = opening_data(e2e_tenant.tenant)
    size = {"width": width, "height": 900 if width == 1280 else 1024}
    # bypass_csp: axe-core is injected as an inline script (as in the other console tests).
    context = browser.new_context(viewport=size, locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    try:
        page.goto(e2e_tenant("/console/openings/"))
        page.get_by_label("Email").fill(e2e_tenant.tenant.owner_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(e2e_tenant("/console/openings/"))
        section = page.locator(f'[data-wr-opening="{fall.pk}"]')
        expect(section.get_by_role("heading", name="Fall registration")).to_be_visible()
        assert section.locator('[data-wr-field="checking_out"]').inner_text() == "3"
        assert section.locator('[data-wr-field="waiting"]').inner_text() == "4"
        assert section.locator("[data-wr-state]").inner_text() == "Letting families in"
        expect(page.get_by_text("Not open yet", exact=True)).to_be_visible()
        # A family joins the line: the page shows it within a poll or two, without a reload.
        with tenant_context(e2e_tenant.tenant):
            waiting_room.queue_join(opening_id=fall.pk, family_id=99)
        connection.set_schema_to_public()
        expect(section.locator('[data-wr-field="waiting"]')).to_have_text("5", timeout=8_000)
        expect(page.locator("[data-wr-live]")).to_be_visible()  # "Updated <time>"
        axe.check(page, context="(waiting rooms)")
        scroll = page.locator("html").evaluate("e => e.scrollWidth <= window.innerWidth + 1")
        assert scroll
        shoot(page, f"console-openings-{width}.png")
        section.get_by_role("button", name="Pause the line").click()
        page.wait_for_url(e2e_tenant("/console/openings/"))
        expect(
            page.get_by_text("Fall registration is paused: nobody new is let in.")
        ).to_be_visible()
        assert section.locator("[data-wr-state]").inner_text() == "Paused"
        with tenant_context(e2e_tenant.tenant):
            assert RegistrationOpening.objects.get(pk=fall.pk).paused
        connection.set_schema_to_public()
        axe.check(page, context="(paused)")
        section.get_by_role("button", name="Resume letting families in").click()
        page.wait_for_url(e2e_tenant("/console/openings/"))
        assert section.locator("[data-wr-state]").inner_text() == "Letting families in"
        # The last seat goes: the state says nobody is let in, live, without a reload.
        with tenant_context(e2e_tenant.tenant):
            Offering.objects.filter(registration_openings=fall).update(seats_taken=F("capacity"))
            availability_clear()
        connection.set_schema_to_public()
        expect(section.locator("[data-wr-state]")).to_have_text(
            "Every class is full: nobody is let in until a seat opens up", timeout=8_000
        )
        axe.check(page, context="(every class full)")
        page.screenshot(path=f"{tempfile.gettempdir()}/console-openings-full-{width}.png")
    finally:
        context.close()
