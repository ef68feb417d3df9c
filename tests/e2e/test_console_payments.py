"""Online payments in the console in Chromium at 1280 and 768 px, in demo mode (the local
Stripe stand-in has no Connect): the owner sees the business not connected, connects the
explicit demo account and sees it connected. Screenshots: docs/images/console-payments-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from kernel.users.models import User
from tenants.models import Tenant

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "payments-pass-2026"
SIZES = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
def test_owner_connects_a_demo_account(viewport, e2e_tenant, browser, axe, request, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:1"  # the local stand-in: demo mode
    tenant = e2e_tenant.tenant
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
    connection.set_schema_to_public()
    size = SIZES[viewport]
    context = browser.new_context(viewport=size, locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    page.goto(e2e_tenant("/console/login/"))
    page.get_by_label("Email").fill(tenant.owner_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(e2e_tenant("/console/"))
    page.goto(e2e_tenant("/console/settings/"))
    page.get_by_role("link", name="Online payments (Stripe)").click()
    page.wait_for_url(e2e_tenant("/console/settings/payments/"))
    assert "Not connected" in page.locator("#payments-state").inner_text()
    axe.check(page, context="(not connected)")
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"console-payments-{size['width']}.png"), full_page=True)
    page.get_by_role("button", name="Connect a demo account").click()
    page.wait_for_url(e2e_tenant("/console/settings/payments/"))
    assert "demo account" in page.locator("#payments-state").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    axe.check(page, context="(demo connected)")
    page.screenshot(path=str(IMAGES / f"console-payments-demo-{size['width']}.png"), full_page=True)
    row = Tenant.objects.get(pk=tenant.pk)
    assert row.stripe_account_id == f"acct_demo_{tenant.schema_name}"
    assert row.stripe_charges_enabled
    context.close()
