"""Families and money in the staff console, in Chromium at 1280 and 768 px: the front desk
finds a family by phone and takes a cash payment typed in the currency; the owner gives credit,
reads the receivables and downloads a report as CSV. axe-core checks every page; the
screenshots of docs/staff.md ("Families and money") are taken here."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.users.models import User
from portal.accounts.models import Family, Guardian, Student
from portal.billing.models import AutopayCharge, LedgerEntry
from portal.enrollment.models import Order
from portal.staff.services import staff_role_set
from tests.e2e.data import business_today

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "money-pass-2026"
SIZES = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}


def money_data(tenant) -> dict:
    """Two families owing money since 45 and 10 days, a front desk clerk and the owner with
    passwords. Committed: the live server reads it."""
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
        desk = User.objects.create_user(email="desk@kestrel.test", password=PASSWORD,
                                        is_staff=True)  # fmt: skip
        staff_role_set(user=desk, role="front_desk")
        families = {}
        for name, kid, phone, days, amount in (
            ("Rivera", "Mia", "(555) 201-7788", 45, 12000),
            ("Chen", "Leo", "555 309 1122", 10, 4500),
        ):
            family = Family.objects.create(name=f"The {name} family")
            Guardian.objects.create(family=family, first_name="Pat", last_name=name,
                                    email=f"{kid.lower()}@kestrel.test", phone=phone,
                                    is_primary=True)  # fmt: skip
            Student.objects.create(family=family, first_name=kid, last_name=name,
                                   date_of_birth=date(2018, 3, 1))  # fmt: skip
            LedgerEntry.objects.create(
                family=family, kind="charge", description="Spring tuition", amount=amount,
                currency=tenant.currency, source_key=f"e2e:{name}",
                created_at=timezone.now() - timedelta(days=days),
            )  # fmt: skip
            families[name] = family
        order = Order.objects.create(
            family=families["Chen"], currency=tenant.currency, subtotal=9500, total=9500,
            idempotency_key="autopay:e2e", status="awaiting_payment", kind="tuition",
        )  # fmt: skip
        AutopayCharge.objects.create(
            family=families["Chen"], period=business_today(tenant).replace(day=1), amount=9500,
            currency=tenant.currency, order=order, status="failed", attempts=1,
            last_error="Your card was declined.",
            next_attempt_at=timezone.now() + timedelta(days=1),
        )  # fmt: skip
    connection.set_schema_to_public()
    return {"owner": owner, "families": families}


def sign_in(page, e2e_tenant, email: str) -> None:
    page.goto(e2e_tenant("/console/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(e2e_tenant("/console/"))


def shoot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", list(SIZES))
def test_front_desk_takes_cash_and_the_owner_reads_the_money(
    viewport, e2e_tenant, browser, axe, request
):
    data = money_data(e2e_tenant.tenant)
    rivera = data["families"]["Rivera"]
    width = SIZES[viewport]["width"]
    context = browser.new_context(viewport=SIZES[viewport], locale="en-US", bypass_csp=True,
                                  accept_downloads=True)  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    try:
        # The front desk: a parent on the phone gives their number; they pay 25.50 in cash.
        sign_in(page, e2e_tenant, "desk@kestrel.test")
        page.get_by_role("link", name="Families", exact=True).click()
        page.get_by_label("Name, email, phone or student").fill("201 7788")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="The Rivera family").click()
        page.wait_for_url(e2e_tenant(f"/console/families/{rivera.pk}/"))
        expect(page.get_by_text("120.00 USD").first).to_be_visible()
        assert page.get_by_role("button", name="Give credit").count() == 0  # not the desk's
        form = page.locator(f'form[action="/console/families/{rivera.pk}/payment"]')
        form.get_by_label("Amount (USD)").fill("25,50")  # a comma: refused, nothing changes
        form.get_by_role("button", name="Record payment").click()
        assert page.get_by_role("alert").first.inner_text().startswith("“25,50” is not an amount")
        axe.check(page, context="(refused amount)")
        form = page.locator(f'form[action="/console/families/{rivera.pk}/payment"]')
        form.get_by_label("Amount (USD)").fill("25.50")
        form.get_by_label("Paid by").select_option("cash")
        form.get_by_label("Reference (cheque number…)").fill("Desk receipt 88")
        form.get_by_role("button", name="Record payment").click()
        page.wait_for_url(e2e_tenant(f"/console/families/{rivera.pk}/"))
        expect(page.get_by_text("Payment recorded.")).to_be_visible()
        expect(page.get_by_text("94.50 USD").first).to_be_visible()
        axe.check(page, context="(family, front desk)")
        no_sideways_scroll(page)
        shoot(page, f"console-family-{width}.png")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(e2e_tenant("/console/login/"))

        # The owner: credit, receivables, a report and its CSV.
        sign_in(page, e2e_tenant, e2e_tenant.tenant.owner_email)
        page.goto(e2e_tenant("/console/families/?q=chen"))
        axe.check(page, context="(family search)")
        shoot(page, f"console-families-{width}.png")
        page.get_by_role("link", name="The Chen family").click()
        form = page.locator('form[action$="/credit"]')
        form.get_by_label("Amount (USD)").fill("5.00")
        form.get_by_label("Reason shown to the family").fill("Missed class")
        form.get_by_role("button", name="Give credit").click()
        expect(page.get_by_text("Credit given.")).to_be_visible()
        page.get_by_role("link", name="Receivables", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/receivables/"))
        expect(page.get_by_role("link", name="The Rivera family")).to_be_visible()
        expect(page.get_by_text("134.50 USD").first).to_be_visible()  # 94.50 + 40.00 owed
        axe.check(page, context="(receivables)")
        no_sideways_scroll(page)
        shoot(page, f"console-receivables-{width}.png")
        page.get_by_role("link", name="Reports", exact=True).click()
        page.get_by_role("link", name="Revenue by month").click()
        page.wait_for_url(e2e_tenant("/console/reports/revenue/"))
        axe.check(page, context="(revenue report)")
        shoot(page, f"console-reports-{width}.png")
        page.get_by_role("link", name="Autopay", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/autopay/"))
        expect(page.get_by_text("Your card was declined.")).to_be_visible()
        expect(page.get_by_role("button", name="Charge the card now")).to_be_visible()
        axe.check(page, context="(autopay)")
        no_sideways_scroll(page)
        shoot(page, f"console-autopay-{width}.png")
        page.get_by_role("link", name="Payouts", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/payouts/"))
        expect(page.get_by_role("alert")).to_be_visible()  # no Stripe account connected here
        axe.check(page, context="(payouts)")
        page.goto(e2e_tenant("/console/reports/revenue/"))
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        saved = download.value
        assert saved.suggested_filename == "revenue.csv"
        lines = Path(saved.path()).read_text().splitlines()
        assert lines[0] == "Month,Charged,Discounts,Credits,Collected,Refunded,Net collected"
        assert lines[-1].split(",")[4] == "25.50"  # this month's cash
        with tenant_context(e2e_tenant.tenant):
            kinds = sorted(LedgerEntry.objects.values_list("kind", "amount"))
        connection.set_schema_to_public()
        assert kinds == [("charge", 4500), ("charge", 12000), ("credit", -500),
                         ("payment", -2550)]  # fmt: skip
    finally:
        context.close()
