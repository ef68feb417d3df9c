"""The console's settings in Chromium at 1280 and 768 px: the owner edits settings of each
group and sees the effect on the family portal and in /api/v1/portal — the class-search filters
and their order, the welcome text, the checkout hold timer, the mobile-app switch, a custom
signup question. axe-core checks every page; docs/images/console-settings-*.png are taken
here (docs/settings.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.users.models import User
from portal.config.models import PortalSettings, SignupQuestion

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "settings-pass-2026"


def shoot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
def test_the_owner_shapes_the_portal_from_the_console(viewport, e2e_tenant, browser, axe,
                                                       request):  # fmt: skip
    tenant = e2e_tenant.tenant
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
    connection.set_schema_to_public()
    size = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}
    width = size[viewport]["width"]
    context = browser.new_context(viewport=size[viewport], locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    try:
        page.goto(e2e_tenant("/console/"))
        page.get_by_label("Email").fill(tenant.owner_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(e2e_tenant("/console/"))
        page.get_by_role("link", name="Settings", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/settings/"))
        for group in ("Settings", "Staff", "Other settings"):
            expect(page.get_by_role("heading", name=group, exact=True, level=2)).to_be_visible()
        axe.check(page, context="(settings index)")
        shoot(page, f"console-settings-{width}.png")

        # Other settings: the class list and the portal's welcome.
        page.get_by_role("link", name="Portal and class list").first.click()
        page.wait_for_url(e2e_tenant("/console/settings/display/"))
        page.get_by_label("Welcome heading").fill("Welcome to Kestrel, gymnasts!")
        page.get_by_label("Class search filters").fill("age, day, program")
        axe.check(page, context="(display settings)")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(e2e_tenant("/console/settings/display/"))
        expect(page.get_by_text("Saved. Families see the change at once.")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shoot(page, f"console-settings-display-{width}.png")

        # A bad value is refused beside its field and changes nothing.
        page.get_by_label("Class search filters").fill("age, colour")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Unknown filter “colour”", exact=False)).to_be_visible()
        axe.check(page, context="(display settings, refused)")

        # Settings: the checkout hold timer.
        page.goto(e2e_tenant("/console/settings/checkout/"))
        page.get_by_label("Hold timer minutes").fill("25")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(e2e_tenant("/console/settings/checkout/"))
        axe.check(page, context="(checkout settings)")

        # Other settings: the mobile app off.
        page.goto(e2e_tenant("/console/settings/features/"))
        page.get_by_label("Mobile app enabled").uncheck()
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(e2e_tenant("/console/settings/features/"))
        axe.check(page, context="(features)")

        # Settings: a signup question of the business's own.
        page.goto(e2e_tenant("/console/settings/signup-questions/"))
        page.get_by_label("Question", exact=True).fill("Which school does your child attend?")
        page.get_by_label("Families must answer").check()
        page.get_by_role("button", name="Add the question").click()
        page.wait_for_url(e2e_tenant("/console/settings/signup-questions/"))
        axe.check(page, context="(signup questions)")
        shoot(page, f"console-settings-questions-{width}.png")

        with tenant_context(tenant):
            row = PortalSettings.objects.get()
            assert row.class_search_filters == "age, day, program"
            assert row.hold_timer_minutes == 25 and row.mobile_app_enabled is False
            assert SignupQuestion.objects.get().required is True
        connection.set_schema_to_public()

        # What families see (signed out, as a visitor): the web portal...
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(e2e_tenant("/console/login/"))
        page.goto(e2e_tenant("/"))
        expect(page.get_by_role("heading", name="Welcome to Kestrel, gymnasts!")).to_be_visible()
        axe.check(page, context="(home)")
        page.goto(e2e_tenant("/classes/"))
        summary = page.locator("summary", has_text="More filters")
        if summary.is_visible():
            summary.click()
        labels = page.locator(".filters .field > label, .filters .field > legend").all_inner_texts()
        assert [label.strip() for label in labels[:3]] == ["Age", "Days", "Program"]
        assert page.locator("#id_location").count() == 0
        axe.check(page, context="(classes)")
        page.goto(e2e_tenant("/signup/"))
        expect(page.get_by_label("Which school does your child attend?")).to_be_visible()
        axe.check(page, context="(signup)")
        # ... and the apps' config.
        config = page.evaluate("fetch('/api/v1/portal').then(r => r.json())")
        assert config["settings"]["mobile_app_enabled"] is False
        assert config["settings"]["hold_timer_minutes"] == 25
        assert config["settings"]["class_search_filters"] == "age, day, program"
        assert config["signup_questions"][0]["label"] == "Which school does your child attend?"
        refused = page.evaluate(
            """fetch('/api/v1/auth/token', {method: 'POST',
                 headers: {'Content-Type': 'application/json'},
                 body: JSON.stringify({email: 'x@kestrel.test', password: 'x'})})
               .then(async r => [r.status, (await r.json()).code])"""
        )
        assert refused == [403, "mobile_app_disabled"]
    finally:
        context.close()
