"""An owner decides families' requests in the staff console, in Chromium at 1280 and 768 px:
the dashboard's "requests to decide" opens the requests page, a drop is refused a denial
without a reason and then denied with one, an absence is approved (the makeup token named on
its page), and the "failed payments" tile opens the failed card payments with the autopay
retry. axe-core checks every page; the screenshots of docs/staff.md ("Requests") are taken
here."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.users.models import User
from portal.billing.models import AutopayCharge, Payment
from portal.enrollment.models import Order
from portal.requests.models import Request
from tests.portal.request_helpers import pending_requests

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "requests-pass-2026"
SIZES = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}


def requests_data(tenant) -> dict:
    """Three pending requests of the Rivera family, a failed autopay card payment of another
    family; the owner with a password. Committed: the live server reads it."""
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
        asks = pending_requests("dana@kestrel.test", first_name="Mia")
        family = asks.family
        family.name = "The Rivera family"
        family.save(update_fields=["name"])
        other = pending_requests("sam@kestrel.test", first_name="Leo").family
        other.name = "The Okafor family"
        other.save(update_fields=["name"])
        order = Order.objects.create(family=other, currency=tenant.currency, subtotal=9500,
                                     total=9500, idempotency_key="e2e:tuition",
                                     status="awaiting_payment", kind="tuition")  # fmt: skip
        order.lines.create(kind="tuition", description="Monthly tuition, May 2026", amount=9500)
        Payment.objects.create(family=other, order=order, amount=9500, currency=tenant.currency,
                               status="failed", failure_code="card_declined",
                               failure_message="Your card was declined.", off_session=True,
                               idempotency_key="e2e:autopay:1")  # fmt: skip
        AutopayCharge.objects.create(family=other, period=date(2026, 5, 1), amount=9500,
                                     currency=tenant.currency, order=order, status="failed",
                                     attempts=1, last_error="Your card was declined.")  # fmt: skip
    connection.set_schema_to_public()
    return {"absence": asks.absence, "drop": asks.drop, "transfer": asks.transfer}


def shoot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", list(SIZES))
def test_an_owner_decides_requests_from_the_dashboard(viewport, e2e_tenant, browser, axe,
                                                      request):  # fmt: skip
    data = requests_data(e2e_tenant.tenant)
    width = SIZES[viewport]["width"]
    context = browser.new_context(viewport=SIZES[viewport], locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    try:
        page.goto(e2e_tenant("/console/login/"))
        page.get_by_label("Email").fill(e2e_tenant.tenant.owner_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(e2e_tenant("/console/"))
        tile = page.get_by_role("link", name="requests to decide")
        assert tile.inner_text().split()[0] == "6"
        axe.check(page, context="(dashboard)")
        tile.click()
        page.wait_for_url(e2e_tenant("/console/requests/"))
        expect(page.get_by_role("heading", name="Families' requests")).to_be_visible()
        page.get_by_label("Type").select_option("drop")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**/console/requests/?**type=drop**")
        expect(page.get_by_text("Moving away").first).to_be_visible()
        page.get_by_label("Type").select_option("")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**/console/requests/?**")
        axe.check(page, context="(requests to decide)")
        no_sideways_scroll(page)
        shoot(page, f"console-requests-{width}.png")

        # The Rivera family's drop: a denial needs the reason the family reads.
        drop = data["drop"]
        page.locator(f'a[href="/console/requests/{drop.pk}/"]').click()
        page.wait_for_url(e2e_tenant(f"/console/requests/{drop.pk}/"))
        expect(page.get_by_role("heading", name="Drop request for Mia")).to_be_visible()
        page.get_by_role("button", name="Deny").click()
        page.get_by_role("alert").first.wait_for()
        assert (
            "Give the family the reason for the denial."
            in page.get_by_role("alert").first.inner_text()
        )
        axe.check(page, context="(denial refused)")
        page.get_by_label("Note to the family (the reason, if you deny)").fill(
            "The term is paid in full; the drop takes effect at the end of term."
        )
        shoot(page, f"console-request-{width}.png")
        page.get_by_role("button", name="Deny").click()
        page.get_by_text("Request denied; the family is told why.").wait_for()
        expect(page.get_by_text(f"by {e2e_tenant.tenant.owner_email}").first).to_be_visible()
        axe.check(page, context="(request denied)")
        no_sideways_scroll(page)

        # The absence: approved, the makeup token it issued is named on its page.
        absence = data["absence"]
        page.goto(e2e_tenant(f"/console/requests/{absence.pk}/"))
        page.get_by_role("button", name="Approve").click()
        page.get_by_text("Request approved; the family is told.").wait_for()
        expect(page.get_by_text("issued, valid until")).to_be_visible()
        axe.check(page, context="(absence approved)")

        # The failed payments tile.
        page.get_by_role("link", name="Dashboard", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/"))
        assert page.get_by_role("link", name="requests to decide").inner_text().split()[0] == "4"
        page.get_by_role("link", name="failed payments (30 days)").click()
        page.wait_for_url(e2e_tenant("/console/payments/failed/"))
        expect(page.get_by_text("The Okafor family")).to_be_visible()
        expect(page.get_by_text("95.00 USD")).to_be_visible()
        expect(page.get_by_role("button", name="Charge the card now")).to_be_visible()
        axe.check(page, context="(failed payments)")
        no_sideways_scroll(page)
        shoot(page, f"console-payments-failed-{width}.png")
        with tenant_context(e2e_tenant.tenant):
            decided = dict(Request.objects.filter(pk__in=[drop.pk, absence.pk])
                           .values_list("pk", "status"))  # fmt: skip
        connection.set_schema_to_public()
        assert decided == {drop.pk: "denied", absence.pk: "approved"}
    finally:
        context.close()
