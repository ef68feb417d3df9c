"""The front desk and the owner's day in the staff console, in Chromium at 1280 and 768 px
(issue 18's "done when", less the coach's attendance): the front desk finds a family by phone,
enrolls a child with the family's price and takes cash, reads the online activity and a class's
waitlist; the owner reads the dashboard, approves a pending enrollment, refunds part of a card
payment (Stripe offline: localstripe), reads the receivables and downloads a report as CSV.
axe-core checks every page; the screenshots of docs/staff.md ("Front desk") are taken here."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest
import stripe
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.users.models import User
from portal.accounts.models import Family, Guardian, Student
from portal.billing.models import Payment, StripeCustomer
from portal.catalog.models import Location, Offering, Program
from portal.enrollment import services as enrollment_services
from portal.enrollment.models import Enrollment, Order
from portal.staff.services import staff_role_set
from tenants.models import Tenant
from tests.e2e.data import business_today
from tests.localstripe import KEY

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "desk-pass-2026"
SIZES = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}


def _family(name: str, kid: str, phone: str, born: date) -> tuple[Family, Student]:
    family = Family.objects.create(name=f"The {name} family")
    Guardian.objects.create(family=family, first_name="Pat", last_name=name,
                            email=f"{kid.lower()}@kestrel.test", phone=phone,
                            is_primary=True)  # fmt: skip
    student = Student.objects.create(family=family, first_name=kid, last_name=name,
                                     date_of_birth=born)  # fmt: skip
    return family, student


def desk_data(tenant, stripe_url: str) -> dict:
    """Classes, a family calling the desk, a pending enrollment, a family who paid 120.00 by
    card (a PaymentIntent on localstripe), a full class with someone waiting; a front desk
    clerk and the owner with passwords. Committed: the live server reads it."""
    today = business_today(tenant)
    client = stripe.StripeClient(KEY, base_addresses={"api": stripe_url}, max_network_retries=0)
    customer = client.v1.customers.create(params={"email": "ana@kestrel.test"})
    method = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12,
                                         "exp_year": today.year + 3, "cvc": "123"}}
    )  # fmt: skip
    client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    intent = client.v1.payment_intents.create(
        params={"amount": 12000, "currency": "usd", "customer": customer.id,
                "payment_method": method.id, "off_session": True, "confirm": True}
    )  # fmt: skip
    assert intent.status == "succeeded", intent.status
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
        desk = User.objects.create_user(email="desk@kestrel.test", password=PASSWORD,
                                        is_staff=True)  # fmt: skip
        staff_role_set(user=desk, role="front_desk")
        gym = Program.objects.create(name="Gymnastics")
        main = Location.objects.create(name="Main gym", city="Springfield")
        common = dict(program=gym, location=main, start_date=today + timedelta(days=3),
                      end_date=today + timedelta(weeks=10), registration_fee=0)  # fmt: skip
        tots = Offering.objects.create(name="Tumble Tots", capacity=8, tuition=9000,
                                       weekdays=[1], start_time=time(16), end_time=time(17),
                                       **common)  # fmt: skip
        ninja = Offering.objects.create(name="Ninja Skills", capacity=1, tuition=12000,
                                        weekdays=[3], start_time=time(17), end_time=time(18),
                                        registration_mode="request", **common)  # fmt: skip
        rivera, mia = _family("Rivera", "Mia", "(555) 201-7788", date(2019, 3, 1))
        chen, leo = _family("Chen", "Leo", "555 309 1122", date(2018, 5, 1))
        pending = Enrollment.objects.create(
            family=chen, student=leo, offering=ninja, status="pending",
            start_date=ninja.start_date,
        )  # fmt: skip
        park, ana = _family("Park", "Ana", "555 400 1000", date(2017, 2, 1))
        order = Order.objects.create(family=park, currency=tenant.currency, subtotal=12000,
                                     total=12000, idempotency_key="e2e:park",
                                     status="confirmed")  # fmt: skip
        StripeCustomer.objects.create(family=park, customer_id=customer.id)
        payment = Payment.objects.create(family=park, order=order, amount=12000,
                                         currency=tenant.currency, status="succeeded",
                                         stripe_payment_intent_id=intent.id)  # fmt: skip
        Enrollment.objects.create(family=park, student=ana, offering=ninja, status="active",
                                  start_date=ninja.start_date, order=order)  # fmt: skip
        Offering.objects.filter(pk=ninja.pk).update(seats_taken=1)
        # Leo's sister waits for Ninja Skills (full): the family's join lands in the inbox.
        kim = Student.objects.create(family=chen, first_name="Kim", last_name="Chen",
                                     date_of_birth=date(2017, 8, 1))  # fmt: skip
        enrollment_services.waitlist_join(family=chen, student_id=kim.pk, offering_id=ninja.pk)
    Tenant.objects.filter(pk=tenant.pk).update(stripe_account_id="acct_kestrel")
    connection.set_schema_to_public()
    return {"rivera": rivera, "mia": mia, "tots": tots, "ninja": ninja, "pending": pending,
            "park": park, "payment": payment}  # fmt: skip


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
def test_front_desk_enrolls_by_phone_and_the_owner_approves_and_refunds(
    viewport, e2e_tenant, browser, axe, request, localstripe
):
    data = desk_data(e2e_tenant.tenant, localstripe)
    rivera = data["rivera"]
    width = SIZES[viewport]["width"]
    context = browser.new_context(viewport=SIZES[viewport], locale="en-US", bypass_csp=True,
                                  accept_downloads=True)  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    settings = override_settings(
        STRIPE_SECRET_KEY=KEY, STRIPE_API_BASE=localstripe, STRIPE_MAX_NETWORK_RETRIES=0
    )
    settings.enable()
    try:
        # The front desk: a parent calls, gives their number, enrolls Mia and pays in cash.
        sign_in(page, e2e_tenant, "desk@kestrel.test")
        page.get_by_role("link", name="Families", exact=True).click()
        page.get_by_label("Name, email, phone or student").fill("201 7788")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="The Rivera family").click()
        page.wait_for_url(e2e_tenant(f"/console/families/{rivera.pk}/"))
        form = page.locator(f'form[action="/console/families/{rivera.pk}/enroll"]')
        form.get_by_label("Student", exact=True).select_option(label="Mia Rivera")
        form.get_by_label("Class", exact=True).select_option(str(data["tots"].pk))
        form.get_by_label("cash").check()
        form.get_by_label("Reference (cheque number…)").fill("Desk receipt 12")
        form.get_by_role("button", name="Enroll").click()
        page.wait_for_url(e2e_tenant(f"/console/families/{rivera.pk}/"))
        expect(page.get_by_text("Enrolled; 90.00 USD paid in cash.")).to_be_visible()
        expect(page.get_by_text("enrolled at the desk by desk@kestrel.test")).to_be_visible()
        axe.check(page, context="(family after a desk enrollment)")
        no_sideways_scroll(page)
        shoot(page, f"console-desk-enroll-{width}.png")
        page.get_by_role("link", name="Activity", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/activity/"))
        expect(page.get_by_text("Kim: joined the waitlist of Ninja Skills")).to_be_visible()
        page.get_by_role("button", name="Mark processed").first.click()
        expect(page.get_by_text("Marked processed.")).to_be_visible()
        page.get_by_label("Status").select_option("processed")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_text("by desk@kestrel.test").first).to_be_visible()
        axe.check(page, context="(activity)")
        no_sideways_scroll(page)
        shoot(page, f"console-activity-{width}.png")
        page.get_by_role("link", name="Waitlists", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/waitlists/"))
        axe.check(page, context="(waitlists)")
        page.get_by_role("link", name="Ninja Skills").click()
        page.wait_for_url(e2e_tenant(f"/console/waitlists/{data['ninja'].pk}/"))
        expect(page.get_by_text("Kim Chen")).to_be_visible()
        axe.check(page, context="(a class's waitlist)")
        no_sideways_scroll(page)
        shoot(page, f"console-waitlist-{width}.png")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(e2e_tenant("/console/login/"))

        # The owner: the dashboard, an approval, a partial refund, receivables and a CSV.
        sign_in(page, e2e_tenant, e2e_tenant.tenant.owner_email)
        expect(page.get_by_text("families with unsigned policies")).to_be_visible()
        expect(page.get_by_role("heading", name="Fill rate by program")).to_be_visible()
        axe.check(page, context="(owner's dashboard)")
        no_sideways_scroll(page)
        shoot(page, f"console-dashboard-month-{width}.png")
        page.get_by_role("link", name="families with unsigned policies").click()
        page.wait_for_url(e2e_tenant("/console/families/unsigned-policies/"))
        axe.check(page, context="(unsigned policies)")
        page.get_by_role("link", name="Enrollments", exact=True).click()
        form = page.locator(f'form[action="/console/enrollments/{data["pending"].pk}/decide"]')
        form.get_by_label("Note to the family").fill("See you on Thursday!")
        form.get_by_role("button", name="Approve").click()
        # Ninja Skills (capacity 1) is full: the approval is refused and changes nothing.
        page.get_by_role("alert").first.wait_for()
        assert page.get_by_role("alert").first.inner_text().startswith("Ninja Skills is full")
        axe.check(page, context="(approval refused)")
        with tenant_context(e2e_tenant.tenant):
            Offering.objects.filter(pk=data["ninja"].pk).update(capacity=3)
        connection.set_schema_to_public()
        form = page.locator(f'form[action="/console/enrollments/{data["pending"].pk}/decide"]')
        form.get_by_role("button", name="Approve").click()
        page.wait_for_url(e2e_tenant("/console/enrollments/"))
        expect(page.get_by_text("Enrollment approved; the family is told.")).to_be_visible()
        page.goto(e2e_tenant(f"/console/families/{data['park'].pk}/"))
        payment = data["payment"]
        form = page.locator(f'form[action$="/payments/{payment.pk}/refund"]')
        form.get_by_label("Amount (up to 120.00; empty: all of it)").fill("50.00")
        form.get_by_label("Reason").fill("Missed two classes")
        form.get_by_role("button", name="Refund").click()
        page.wait_for_url(e2e_tenant(f"/console/families/{data['park'].pk}/"))
        expect(page.get_by_text("50.00 USD").first).to_be_visible()
        axe.check(page, context="(family after a refund)")
        page.get_by_role("link", name="Receivables", exact=True).click()
        page.wait_for_url(e2e_tenant("/console/receivables/"))
        axe.check(page, context="(receivables)")
        page.goto(e2e_tenant("/console/reports/enrollment/"))
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        saved = download.value
        assert saved.suggested_filename == "enrollment.csv"
        text = Path(saved.path()).read_text()
        assert "Gymnastics" in text
        with tenant_context(e2e_tenant.tenant):
            mia_enrollment = Enrollment.objects.get(student=data["mia"])
            refunded = Payment.objects.get(pk=payment.pk).amount_refunded
            approved = Enrollment.objects.get(pk=data["pending"].pk).status
        connection.set_schema_to_public()
        assert mia_enrollment.status == "active" and mia_enrollment.offering_id == data["tots"].pk
        assert refunded == 5000 and approved == "active"
    finally:
        settings.disable()
        context.close()
