"""Paying never dead-ends: a saved card pays any unpaid order, the balance owed counts unpaid
orders, monthly tuition says so before checkout, a receipt page and email follow a payment, the
gift-certificate buyer sees the code, and anyone may check a code's balance (rate-limited)."""

from __future__ import annotations

import re

import pytest
import responses
from django.core import mail
from django.db import connection
from django.test import Client, override_settings

from portal.billing.models import SavedPaymentMethod, StripeCustomer
from portal.config.services import portal_settings_update
from portal.enrollment.models import Order
from portal.store.models import GiftCertificate
from tenants import routing
from tenants.models import Tenant
from tests.helpers import signed_in
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db
STRIPE = "https://api.stripe.com"
API = "/api/v1"


def html(response) -> str:
    return response.content.decode()


def intent(pi="pi_1", status="requires_payment_method", amount=12000):
    return {
        "id": pi,
        "object": "payment_intent",
        "client_secret": f"{pi}_secret_x",
        "status": status,
        "amount": amount,
        "currency": "usd",
        "last_payment_error": None,
    }


@pytest.fixture
def stripe_ready(family_web):
    Tenant.objects.filter(pk=family_web.tenant.pk).update(stripe_account_id="acct_alpha")
    family_web.tenant.stripe_account_id = "acct_alpha"
    routing.router.clear()
    connection.set_tenant(family_web.tenant)
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_platform",
        STRIPE_PUBLISHABLE_KEY="pk_test_platform",
        STRIPE_API_BASE="",
        STRIPE_MAX_NETWORK_RETRIES=0,
    ):
        yield family_web


def saved_card(family):
    StripeCustomer.objects.create(family=family, customer_id="cus_1")
    return SavedPaymentMethod.objects.create(
        family=family, stripe_payment_method_id="pm_1", brand="visa", last4="4242", is_default=True
    )


def checkout(family_web, **offering) -> str:
    offering = make_offering(**{"name": "Beam Basics", "tuition": 12000, **offering})
    family_web.web.post("/cart/add/", {"offering": offering.pk, "student": family_web.student.pk})
    return family_web.web.post("/checkout/", {})["Location"]


@responses.activate
def test_a_saved_card_pays_even_after_a_payment_element_attempt(stripe_ready):
    family_web = stripe_ready
    order_url = checkout(family_web)
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json=intent())
    # The family opened the Payment Element before it had a card: a PaymentIntent is open.
    assert "data-client-secret" in html(family_web.web.get(order_url + "?card=new"))
    card = saved_card(family_web.family)
    page = html(family_web.web.get(order_url))
    assert "Pay $120.00 with the card ending 4242" in page  # no longer hidden
    assert f'value="{card.pk}"' in page and "data-client-secret" not in page


def test_the_balance_owed_counts_unpaid_orders_on_the_web_and_in_the_api(family_web):
    with override_settings(STRIPE_PUBLISHABLE_KEY=""):
        order_url = checkout(family_web)
    order = Order.objects.get()
    page = html(family_web.web.get("/billing/"))
    owed = re.search(r"Balance owed</dt><dd><strong>([^<]+)</strong>", page).group(1)
    assert owed == "$120.00"
    assert f'href="{order_url}"' in page and f"Pay order {order.pk} ($120.00)" in page
    ledger = family_web.client().get(f"{API}/ledger").json()
    assert ledger["owed"] == 12000 and ledger["balance"] == 0
    assert ledger["unpaid_orders"][0]["order_id"] == order.pk
    assert ledger["unpaid_orders"][0]["amount_due"] == 12000
    # Another family's ledger shows none of it.
    other, _kid = make_family("other@alpha.test")
    other_page = html(signed_in(family_web.tenant, other.primary_guardian.email).get("/billing/"))
    assert "Balance owed</dt><dd><strong>$0.00</strong>" in other_page
    assert "Beam Basics" not in other_page


def test_monthly_tuition_says_per_month_billing_day_and_autopay_before_checkout(family_web):
    portal_settings_update(billing_day=5)
    offering = make_offering(name="Swim Club", tuition=8000, tuition_billing="monthly")
    for page in (
        html(family_web.web.get("/classes/")),
        html(family_web.web.get(f"/classes/{offering.pk}/")),
    ):
        assert "$80.00/month" in page
    detail = html(family_web.web.get(f"/classes/{offering.pk}/"))
    assert "autopay charges your saved card on day 5 of each month" in detail
    family_web.web.post("/cart/add/", {"offering": offering.pk, "student": family_web.student.pk})
    for path in ("/cart/", "/checkout/"):
        page = html(family_web.web.get(path))
        assert "Swim Club — Mia: $80.00/month" in page, path
        assert "on day 5 of each month" in page, path
        assert "You will need a saved card for autopay." in page, path
    api = family_web.client().get(f"{API}/offerings/{offering.pk}").json()
    assert api["price"]["tuition_billing"] == "monthly"


@responses.activate
def test_a_payment_gets_a_receipt_page_and_email(stripe_ready, django_capture_on_commit_callbacks):
    family_web = stripe_ready
    card = saved_card(family_web.family)
    order_url = checkout(family_web)
    order = Order.objects.get()
    assert family_web.web.get(f"/orders/{order.pk}/receipt/").status_code == 404  # not paid
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent(status="succeeded"))
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json=intent(status="succeeded"))
    with django_capture_on_commit_callbacks(execute=True):
        family_web.web.post(f"/orders/{order.pk}/pay/", {"payment_method": card.pk})
    page = html(family_web.web.get(order_url))
    assert f'href="/orders/{order.pk}/receipt/"' in page
    receipt = html(family_web.web.get(f"/orders/{order.pk}/receipt/"))
    assert f"Receipt for order {order.pk}" in receipt
    assert "Beam Basics — Mia" in receipt and "Paid by Visa card ending 4242" in receipt
    assert "$120.00" in receipt
    sent = [m for m in mail.outbox if m.subject.startswith("Your receipt from Alpha Gymnastics")]
    assert len(sent) == 1 and f"(order {order.pk})" in sent[0].subject
    assert "Beam Basics — Mia: 120.00 USD" in sent[0].body
    assert "Paid by visa ending 4242: 120.00 USD" in sent[0].body
    assert f"/orders/{order.pk}/receipt/" in sent[0].body
    # Another family, a visitor and another business get no receipt.
    other, _kid = make_family("other@alpha.test")
    other_web = signed_in(family_web.tenant, other.primary_guardian.email)
    assert other_web.get(f"/orders/{order.pk}/receipt/").status_code == 404
    visitor = Client(HTTP_HOST=family_web.tenant.primary_host)
    assert visitor.get(f"/orders/{order.pk}/receipt/")["Location"].startswith("/login/")


def test_store_orders_say_purchased_and_the_buyer_sees_the_code(family_web):
    portal_settings_update(gift_certificates_enabled=True)
    response = family_web.web.post(
        "/store/gift-certificates/buy/",
        {"amount": "2500", "recipient_name": "Gran", "recipient_email": "gran@example.test"},
    )
    order = Order.objects.get()
    certificate = GiftCertificate.objects.get()
    from portal.orders.services import order_confirm

    order_confirm(order_id=order.pk)
    page = html(family_web.web.get(response["Location"]))
    assert "Purchased. Thank you!" in page and "You are enrolled" not in page
    assert certificate.code in page
    store = html(family_web.web.get("/store/"))
    assert certificate.code in store and "$25.00 left" in store


def test_anyone_may_check_a_balance_and_wrong_codes_are_rate_limited(tenant_a, in_tenant_a):
    portal_settings_update(gift_certificates_enabled=True)
    certificate = GiftCertificate.objects.create(
        initial_amount=5000, balance=4000, currency="USD", recipient_name="Us",
        recipient_email="us@example.test", status="active",
    )  # fmt: skip
    connection.set_schema_to_public()
    visitor = Client(HTTP_HOST=tenant_a.primary_host, REMOTE_ADDR="203.0.113.9")
    assert 'action="/store/gift-certificates/balance/"' in html(visitor.get("/store/"))
    url = "/store/gift-certificates/balance/"
    found = visitor.get(url, {"gift_certificate_code": certificate.code})
    assert found.status_code == 200 and "Balance: $40.00" in html(found)
    for _ in range(5):
        wrong = visitor.get(url, {"gift_certificate_code": "NOPE-NOPE"})
        assert wrong.status_code == 400 and "That gift certificate code is not valid." in html(
            wrong
        )
    blocked = visitor.get(url, {"gift_certificate_code": certificate.code})
    assert blocked.status_code == 429 and "Too many wrong codes" in html(blocked)
    # Another address is not blocked by this one's guesses.
    other = Client(HTTP_HOST=tenant_a.primary_host, REMOTE_ADDR="203.0.113.10")
    assert other.get(url, {"gift_certificate_code": certificate.code}).status_code == 200
    long = other.get(url, {"gift_certificate_code": "x" * 5000})
    assert long.status_code == 400
