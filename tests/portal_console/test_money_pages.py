"""Console pages for families and money: search, the family page and its forms (amounts typed
in the currency), refusals that change nothing, receivables, reports and their CSV, roles and
another business's session."""

from __future__ import annotations

import csv
import io

import pytest
import responses
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.billing.models import LedgerEntry, Payment, Refund
from portal.enrollment.models import Order
from portal.staff.services import staff_role_set
from tenants.models import Tenant
from tests.factories import PASSWORD, GuardianFactory, StudentFactory
from tests.helpers import host_of
from tests.portal.billing_helpers import STRIPE

pytestmark = pytest.mark.django_db


def signed_in(tenant, email: str, role: str) -> Client:
    with tenant_context(tenant):
        user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
        staff_role_set(user=user, role=role)
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


@pytest.fixture
def rivera(in_tenant_a):
    guardian = GuardianFactory(
        email="dana@rivera.test", first_name="Dana", last_name="Rivera", phone="555 201 7788"
    )
    StudentFactory(family=guardian.family, first_name="Mia", last_name="Rivera")
    return guardian.family


def text(response) -> str:
    return response.content.decode()


def test_front_desk_finds_a_family_and_takes_cash(in_tenant_a, rivera):
    desk = signed_in(in_tenant_a, "money-desk@alpha.test", "front_desk")
    found = desk.get("/console/families/", {"q": "201-77"})
    assert found.status_code == 200
    assert f'href="/console/families/{rivera.pk}/"' in text(found)
    short = desk.get("/console/families/", {"q": "x"})
    assert short.status_code == 400 and "2 to 100 characters" in text(short)
    family_page = text(desk.get(f"/console/families/{rivera.pk}/"))
    assert "Offline payment" in family_page and "Give credit" not in family_page  # no credit
    assert "Refund" not in family_page
    posted = desk.post(
        f"/console/families/{rivera.pk}/charge", {"amount": "45.00", "description": "Leotard"}
    )
    assert posted.status_code == 302 and posted["Location"] == f"/console/families/{rivera.pk}/"
    paid = desk.post(
        f"/console/families/{rivera.pk}/payment",
        {"amount": "12.50", "method": "cash", "reference": "R-9"},
    )
    assert paid.status_code == 302
    assert list(LedgerEntry.objects.order_by("pk").values_list("amount", flat=True)) == [
        4500,
        -1250,
    ]
    after = text(desk.get(f"/console/families/{rivera.pk}/"))
    assert "32.50 USD" in after and "Payment recorded." in after
    assert "Resend receipt" in after


def test_bad_amounts_show_the_form_again_and_change_nothing(in_tenant_a, rivera):
    owner = signed_in(in_tenant_a, "money-owner@alpha.test", "owner")
    for amount in ("12,50", "-4", "0", "abc", "1.001", ""):
        response = owner.post(
            f"/console/families/{rivera.pk}/credit", {"amount": amount, "description": "x"}
        )
        assert response.status_code == 400, amount
        assert 'role="alert"' in text(response)
        assert f'value="{amount}"' in text(response)  # what was typed is kept
    assert LedgerEntry.objects.count() == 0
    missing = owner.post("/console/families/999999/charge", {"amount": "1", "description": "x"})
    assert missing.status_code == 404


def test_a_coach_sees_no_money_and_front_desk_no_credit(in_tenant_a, rivera):
    coach = signed_in(in_tenant_a, "money-coach@alpha.test", "coach")
    for path in ("/console/families/", f"/console/families/{rivera.pk}/", "/console/receivables/"):
        response = coach.get(path)
        assert response.status_code == 403 and "Not for your role" in text(response)
    desk = signed_in(in_tenant_a, "money-desk@alpha.test", "front_desk")
    refused = desk.post(f"/console/families/{rivera.pk}/credit", {"amount": "5.00"})
    assert refused.status_code == 403
    assert desk.get("/console/reports/").status_code == 403
    assert LedgerEntry.objects.count() == 0
    nav = text(desk.get("/console/families/"))
    assert 'href="/console/receivables/"' in nav and 'href="/console/reports/"' not in nav


@responses.activate
@override_settings(STRIPE_SECRET_KEY="sk_test_platform", STRIPE_MAX_NETWORK_RETRIES=0)
def test_an_owner_refunds_part_of_a_payment(in_tenant_a, rivera):
    Tenant.objects.filter(pk=in_tenant_a.pk).update(stripe_account_id="acct_alpha")
    in_tenant_a.stripe_account_id = "acct_alpha"
    connection.set_tenant(in_tenant_a)
    order = Order.objects.create(
        family=rivera, currency="USD", subtotal=12000, total=12000, idempotency_key="o1",
        status="confirmed",
    )  # fmt: skip
    payment = Payment.objects.create(
        family=rivera, order=order, amount=12000, currency="USD", status="succeeded",
        stripe_payment_intent_id="pi_paid", succeeded_at=timezone.now(),
    )  # fmt: skip
    owner = signed_in(in_tenant_a, "money-owner@alpha.test", "owner")
    url = f"/console/families/{rivera.pk}/payments/{payment.pk}/refund"
    too_much = owner.post(url, {"amount": "120.01"})
    assert too_much.status_code == 400
    assert "At most 120.00 USD can be refunded on this payment." in text(too_much)
    assert len(responses.calls) == 0 and Refund.objects.count() == 0
    responses.post(f"{STRIPE}/v1/refunds", json={"id": "re_1", "object": "refund"})
    done = owner.post(url, {"amount": "20.00", "reason": "Missed a week"})
    assert done.status_code == 302
    payment.refresh_from_db()
    assert payment.amount_refunded == 2000
    assert "100.00" in text(owner.get(f"/console/families/{rivera.pk}/"))


def test_receivables_and_reports_with_csv(in_tenant_a, rivera):
    owner = signed_in(in_tenant_a, "money-owner@alpha.test", "owner")
    owner.post(f"/console/families/{rivera.pk}/charge", {"amount": "80.00", "description": "Fee"})
    aged = text(owner.get("/console/receivables/"))
    assert rivera.name in aged and "80.00 USD" in aged and "1-30 days" in aged
    revenue = owner.get("/console/reports/revenue/")
    assert revenue.status_code == 200 and "Revenue by month" in text(revenue)
    assert 'href="/console/reports/revenue/csv"' in text(revenue)
    download = owner.get("/console/reports/revenue/csv", {"from": "2026-01", "to": "2026-12"})
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][0] == "Month" and len(rows) == 13
    bad = owner.get("/console/reports/revenue/", {"from": "2026-13"})
    assert bad.status_code == 400 and "Use YYYY-MM." in text(bad)
    assert owner.get("/console/reports/nope/").status_code == 404
    assert owner.get("/console/reports/").status_code == 200  # enrollment by default


def test_another_businesss_session_counts_for_nothing(in_tenant_a, rivera, tenant_b):
    owner = signed_in(in_tenant_a, "money-owner@alpha.test", "owner")
    owner.defaults["HTTP_HOST"] = host_of(tenant_b)
    response = owner.get(f"/console/families/{rivera.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    posted = owner.post(
        f"/console/families/{rivera.pk}/charge", {"amount": "5", "description": "x"}
    )
    assert posted.status_code in (302, 403)
    connection.set_tenant(in_tenant_a)
    assert LedgerEntry.objects.count() == 0


@responses.activate
@override_settings(STRIPE_SECRET_KEY="sk_test_platform", STRIPE_MAX_NETWORK_RETRIES=0)
def test_autopay_failures_are_retried_from_the_page(in_tenant_a, rivera):
    from datetime import date

    from portal.billing.models import AutopayCharge, SavedPaymentMethod, StripeCustomer

    Tenant.objects.filter(pk=in_tenant_a.pk).update(stripe_account_id="acct_alpha")
    in_tenant_a.stripe_account_id = "acct_alpha"
    connection.set_tenant(in_tenant_a)
    order = Order.objects.create(
        family=rivera, currency="USD", subtotal=9500, total=9500, idempotency_key="autopay:x",
        status="awaiting_payment", kind="tuition",
    )  # fmt: skip
    order.lines.create(kind="tuition", description="Team Gym, May", amount=9500)
    charge = AutopayCharge.objects.create(
        family=rivera, period=date(2026, 5, 1), amount=9500, currency="USD", order=order,
        status="failed", attempts=1, last_error="Your card was declined.",
    )  # fmt: skip
    StripeCustomer.objects.create(family=rivera, customer_id="cus_1")
    SavedPaymentMethod.objects.create(family=rivera, stripe_payment_method_id="pm_1",
                                      is_default=True)  # fmt: skip
    owner = signed_in(in_tenant_a, "money-owner@alpha.test", "owner")
    listing = text(owner.get("/console/autopay/"))
    assert "May 2026" in listing and "Your card was declined." in listing
    assert "95.00 USD" in listing
    intent = {"id": "pi_r", "object": "payment_intent", "status": "succeeded", "amount": 9500,
              "currency": "usd", "client_secret": "s"}  # fmt: skip
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent)
    responses.get(f"{STRIPE}/v1/payment_intents/pi_r", json=intent)
    done = owner.post(f"/console/autopay/{charge.pk}/retry")
    assert done.status_code == 302
    charge.refresh_from_db()
    assert charge.status == "succeeded" and charge.attempts == 2
    assert "The card was charged." in text(owner.get("/console/autopay/"))
    coach = signed_in(in_tenant_a, "money-coach@alpha.test", "coach")
    assert coach.get("/console/autopay/").status_code == 403


@override_settings(STRIPE_SECRET_KEY="")
def test_payouts_page_says_when_stripe_is_not_connected(in_tenant_a):
    owner = signed_in(in_tenant_a, "money-owner@alpha.test", "owner")
    page = owner.get("/console/payouts/")
    assert page.status_code == 200 and "does not take online payments yet" in text(page)
    desk = signed_in(in_tenant_a, "money-desk@alpha.test", "front_desk")
    assert desk.get("/console/payouts/").status_code == 403
