"""The console's content settings in Chromium at 1280 and 768 px: the owner publishes an
announcement and sees it on the family portal and in /api/v1/portal, edits a staff member's
bio and photo and sees them on /staff/, and copies the website snippet with its live preview.
axe-core checks every page; docs/images/console-content-*.png are taken here
(docs/settings.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image
from playwright.sync_api import expect

from kernel.users.models import User
from portal.catalog.models import StaffProfile
from portal.config.models import Announcement
from tests.e2e.data import catalog_create

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "content-pass-2026"
SIZES = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}


def shoot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


def no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
def test_the_owner_publishes_content_families_see(
    viewport, e2e_tenant, browser, axe, request, tmp_path
):
    tenant = e2e_tenant.tenant
    catalog_create(tenant)
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
        coach = StaffProfile.objects.get(display_name="Coach Rivera")
    connection.set_schema_to_public()
    width = SIZES[viewport]["width"]
    photo = tmp_path / "rivera.jpg"
    picture = Image.new("RGB", (600, 600), (30, 110, 90))
    picture.save(photo, "JPEG")
    # axe is injected as an inline script: the test context bypasses the CSP (its headers
    # are checked in tests/portal_console/test_website_pages.py).
    context = browser.new_context(viewport=SIZES[viewport], locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    try:
        page.goto(e2e_tenant("/console/"))
        page.get_by_label("Email").fill(tenant.owner_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(e2e_tenant("/console/"))
        page.goto(e2e_tenant("/console/settings/"))

        # Announcements: a warning banner for everyone.
        page.get_by_role("link", name="Announcements and alerts").first.click()
        page.wait_for_url(e2e_tenant("/console/settings/announcements/"))
        form = page.locator("form[action='/console/settings/announcements/']")
        form.get_by_label("Title").fill("Pool closed Saturday")
        form.get_by_label("Message").fill("The pool is closed for maintenance this Saturday.")
        form.get_by_label("Severity").select_option("warning")
        form.get_by_label("Shows until").fill("2099-12-31T18:00")
        axe.check(page, context="(announcements)")
        form.get_by_role("button", name="Save the announcement").click()
        page.wait_for_url(e2e_tenant("/console/settings/announcements/"))
        expect(page.get_by_text("Announcement saved.", exact=False)).to_be_visible()
        expect(page.get_by_text("Pool closed Saturday").first).to_be_visible()
        assert no_overflow(page)
        axe.check(page, context="(announcements, saved)")
        shoot(page, f"console-content-announcements-{width}.png")
        with tenant_context(tenant):
            saved = Announcement.objects.get()
            assert saved.severity == "warning"
            assert saved.ends_at.astimezone(tenant.zone).hour == 18  # typed in its zone
        connection.set_schema_to_public()

        # Staff page: Coach Rivera's bio and photo.
        page.goto(e2e_tenant("/console/settings/"))
        page.get_by_role("link", name="Staff bios, photos and availability").click()
        page.wait_for_url(e2e_tenant("/console/settings/staff/"))
        card = page.locator("details.s-staff", has_text="Coach Rivera")
        card.locator("summary").click()
        card.get_by_label("Bio").fill("Ten years coaching beam and floor.")
        card.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/settings/staff/"))
        expect(page.get_by_text("The staff page shows the change at once.")).to_be_visible()
        card = page.locator("details.s-staff", has_text="Coach Rivera")
        card.locator("summary").click()
        card.get_by_label("Upload a photo").set_input_files(str(photo))
        card.get_by_role("button", name="Upload", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/settings/staff/"))
        expect(page.get_by_text("Photo saved.")).to_be_visible()
        page.locator("details.s-staff", has_text="Coach Rivera").locator("summary").click()
        assert no_overflow(page)
        axe.check(page, context="(staff page settings)")
        shoot(page, f"console-content-staff-{width}.png")

        # Website integration: the snippet, its copy button and the live preview.
        page.goto(e2e_tenant("/console/settings/"))
        page.get_by_role("link", name="Website integration").click()
        page.wait_for_url(e2e_tenant("/console/settings/website/"))
        page.get_by_label("How many to list").fill("2")
        page.get_by_role("button", name="Update the snippet and preview").click()
        page.wait_for_url("**/console/settings/website/?**")
        snippet = page.get_by_label("Paste this where the list should appear on your website:")
        assert 'data-limit="2"' in snippet.input_value() and "/embed.js" in snippet.input_value()
        preview = page.frame_locator("iframe.s-preview-frame")
        preview.locator(".cp-embed__item").first.wait_for()
        assert preview.locator(".cp-embed__item").count() == 2
        axe.check(page, context="(website)")
        shoot(page, f"console-content-website-{width}.png")

        # What families see: the banner on the portal, in the API, and the staff page.
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(e2e_tenant("/console/login/"))
        page.goto(e2e_tenant("/"))
        banner = page.locator(".announcement-banner.announcement--warning")
        expect(banner.get_by_text("Warning:")).to_be_visible()
        expect(banner.get_by_text("Pool closed Saturday")).to_be_visible()
        assert no_overflow(page)
        axe.check(page, context="(home with banner)")
        shoot(page, f"portal-announcement-{width}.png")
        page.goto(e2e_tenant("/classes/"))
        expect(page.get_by_text("Pool closed Saturday")).to_be_visible()
        axe.check(page, context="(classes with banner)")
        config = page.evaluate("fetch('/api/v1/portal').then(r => r.json())")
        listed = [(a["title"], a["kind"], a["severity"]) for a in config["announcements"]]
        assert listed == [("Pool closed Saturday", "banner", "warning")]
        page.goto(e2e_tenant("/staff/"))
        expect(page.get_by_text("Ten years coaching beam and floor.")).to_be_visible()
        portrait = page.get_by_role("img", name="Photo of Coach Rivera")
        expect(portrait).to_be_visible()
        assert page.evaluate(
            "img => img.complete && img.naturalWidth > 0", portrait.element_handle()
        )
        axe.check(page, context="(staff page)")
        shoot(page, f"portal-staff-{width}.png")
        staff = page.evaluate("fetch('/api/v1/staff').then(r => r.json())")
        assert staff[0]["bio"] == "Ten years coaching beam and floor."
        assert "/media/" in staff[0]["photo_url"]
        with tenant_context(tenant):
            coach.refresh_from_db()
            assert coach.photo.name.startswith(f"{tenant.schema_name}/staff/")
        connection.set_schema_to_public()
    finally:
        context.close()
