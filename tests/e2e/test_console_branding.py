"""Branding from the console in Chromium at 1280 and 768 px: the owner uploads a logo, types
a primary colour that is hard to read (the live preview repaints and warns as they type),
saves it, applies the suggested fix in one click, publishes (told the branded app needs a new
build for it) and sees the logo and the colour on the family portal; then rolls back. The
screenshots of docs/theming.md are taken here (docs/images/console-branding-*.png,
portal-branded-*.png)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from kernel.users.models import User
from theming.models import ThemeVersion

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "branding-pass-2026"
SIZES = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}


def logo_png() -> bytes:
    image = Image.new("RGB", (480, 120), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 110, 110), fill=(190, 24, 93))
    draw.rectangle((130, 40, 460, 80), fill=(17, 24, 39))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def shoot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


def css_var(page, selector: str, name: str) -> str:
    return page.evaluate(
        "([s, n]) => getComputedStyle(document.querySelector(s)).getPropertyValue(n).trim()",
        [selector, name],
    )


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
def test_owner_brands_the_portal_from_the_console(viewport, e2e_tenant, browser, axe, request):
    tenant = e2e_tenant.tenant
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
    connection.set_schema_to_public()
    size = SIZES[viewport]
    width = size["width"]
    context = browser.new_context(viewport=size, locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    request.node._e2e_pages = [page]
    if True:  # the page stays open on failure, for the failure's screenshot
        page.goto(e2e_tenant("/console/login/"))
        page.get_by_label("Email").fill(tenant.owner_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(e2e_tenant("/console/"))
        page.get_by_role("link", name="Settings", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/settings/"))
        page.get_by_role("link", name="Branding", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/settings/branding/"))
        axe.check(page, context="(branding)")

        # Upload a logo.
        form = page.locator('form[action="/console/settings/branding/images/logo"]')
        form.locator("input[type=file]").set_input_files(
            {"name": "logo.png", "mimeType": "image/png", "buffer": logo_png()}
        )
        form.get_by_role("button", name="Upload", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/settings/branding/"))
        expect(page.get_by_text("Logo uploaded to the draft.")).to_be_visible()
        assert page.evaluate("document.querySelector('.b-portal__logo').naturalWidth") == 480

        # A primary colour too light to read: the preview repaints and warns as it is typed.
        primary = page.locator("#colour-primary")
        primary.fill("#fcd34d")
        assert css_var(page, "#brand-preview", "--p-primary") == "#fcd34d"
        live = page.locator("#live-contrast")
        assert "Primary on background" in live.inner_text()
        page.get_by_role("button", name="Save the draft's colours").click()
        page.wait_for_url(e2e_tenant("/console/settings/branding/"))
        expect(page.locator(".b-failures").get_by_text("primary on background")).to_be_visible()
        shoot(page, f"console-branding-contrast-{width}.png")

        # One click applies the suggestion; the draft now passes and is published.
        page.get_by_role("button", name="Apply the suggested colours").click()
        page.wait_for_url(e2e_tenant("/console/settings/branding/"))
        expect(page.locator("#contrast-ok")).to_be_visible()
        fixed = primary.input_value()
        assert fixed != "#fcd34d"
        axe.check(page, context="(fixed)")
        page.get_by_role("button", name="Publish the draft").click()
        page.wait_for_url(e2e_tenant("/console/settings/branding/"))
        expect(page.get_by_text("Version 2 is published")).to_be_visible()
        expect(page.get_by_text("change on phones only with a new app build")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        axe.check(page, context="(published)")
        shoot(page, f"console-branding-{width}.png")

        # The family portal shows the new logo and colour.
        page.goto(e2e_tenant("/"))
        logo = page.locator("img.brand__logo")
        expect(logo).to_be_visible()
        assert page.evaluate("document.querySelector('img.brand__logo').naturalWidth") == 480
        # Its size is printed (recorded at publishing): the header keeps the logo's shape, no
        # layout shift while it loads.
        assert (logo.get_attribute("width"), logo.get_attribute("height")) == ("480", "120")
        box = logo.bounding_box()
        assert box["height"] <= 72 and abs(box["width"] / box["height"] - 4) < 0.1
        assert css_var(page, "html", "--color-primary") == fixed
        axe.check(page, context="(portal)")
        shoot(page, f"portal-branded-{width}.png")

        # Roll back to version 1: the default colour and no logo again.
        page.goto(e2e_tenant("/console/settings/branding/"))
        page.get_by_role("button", name="Publish version 1 again").click()
        page.wait_for_url(e2e_tenant("/console/settings/branding/"))
        expect(page.get_by_text("Version 1 is published again as version 3.")).to_be_visible()
        axe.check(page, context="(rolled back)")
        with tenant_context(tenant):
            latest = ThemeVersion.objects.order_by("-number").first()
            assert latest.number == 3 and latest.snapshot["primary"] == "#1d4ed8"
        connection.set_schema_to_public()
        page.goto(e2e_tenant("/"))
        assert page.locator("img.brand__logo").count() == 0
        axe.check(page, context="(portal after rollback)")
        assert errors == []
    context.close()
