"""Cart, countdown, checkout (zero total, Stripe's Payment Element, no Stripe), a hold that
lapses during checkout, enrollments and schedule, through the web pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from portal.billing.models import Payment, SavedPaymentMethod, StripeCustomer
from portal.enrollment.models import Enrollment, Hold, Order, WaitlistEntry
from tenants import routing
from tenants.models import Tenant
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db
STRIPE = "https://api.stripe.com"


def html(response) -> str:
    return response.content.decode()


def add(client, offering, student):
    return client.post("/cart/add/", {"offering": offering.pk, "student": student.pk})


def test_add_to_cart_shows_the_hold_countdown_and_the_price(family_web):
    offering = make_offering(name="Beam Basics", tuition=12000)
    response = add(family_web.web, offering, family_web.student)
    assert response.status_code == 302 and response["Location"] == "/cart/"
    hold = Hold.objects.get(family=family_web.family, status="active")
    page = html(family_web.web.get("/cart/"))
    assert "Beam Basics" in page and family_web.student.first_name in page
    seconds = int(re.search(r'data-seconds-left="(\d+)"', page).group(1))
    assert 14 * 60 < seconds <= 15 * 60  # the portal's hold timer (15 minutes)
    # In the business's zone, with its offset (docs/tenancy.md, "Time").
    local = timezone.localtime(hold.expires_at, family_web.tenant.zone)
    assert f'datetime="{local.isoformat()}"' in page
    assert "about 15 minutes left" in page  # without JavaScript
    # The countdown script runs under the Content-Security-Policy (its nonce).
    response = family_web.web.get("/cart/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in html(response)
    assert "$120.00" in page


def test_cart_errors_come_back_with_a_way_back(family_web):
    offering = make_offering(name="Beam Basics")
    add(family_web.web, offering, family_web.student)
    again = add(family_web.web, offering, family_web.student)
    assert again.status_code == 409
    assert f'href="/classes/{offering.pk}/"' in html(again)
    assert Hold.objects.filter(family=family_web.family).count() == 1
    bad = family_web.web.post("/cart/add/", {"offering": "x", "student": family_web.student.pk})
    assert bad.status_code == 400 and "A valid integer is required." in html(bad)
    assert family_web.web.get("/cart/add/").status_code == 405


def test_someone_elses_student_or_hold(family_web):
    offering = make_offering()
    _, stranger = make_family("other@example.test")
    response = add(family_web.web, offering, stranger)
    assert response.status_code == 404
    assert not Hold.objects.exists()
    other_family, kid = make_family("third@example.test")
    from portal.enrollment import services

    hold = services.cart_add(family=other_family, student_id=kid.pk, offering_id=offering.pk)
    response = family_web.web.post(f"/cart/items/{hold.pk}/remove/")
    assert response.status_code == 404
    hold.refresh_from_db()
    assert hold.status == "active"


def test_remove_from_cart(family_web):
    add(family_web.web, make_offering(name="Beam Basics"), family_web.student)
    hold = Hold.objects.get()
    assert family_web.web.post(f"/cart/items/{hold.pk}/remove/").status_code == 302
    hold.refresh_from_db()
    assert hold.status == "released"
    assert "Your cart is empty." in html(family_web.web.get("/cart/"))


def test_zero_total_checkout_confirms_and_shows_the_enrollment(family_web):
    offering = make_offering(name="Free Trial", tuition=0, registration_fee=0)
    add(family_web.web, offering, family_web.student)
    page = html(family_web.web.get("/checkout/"))
    assert "Confirm enrollment" in page and 'data-seconds-left="' in page
    key = re.search(r'name="idempotency_key" value="(\w+)"', page).group(1)
    response = family_web.web.post("/checkout/", {"idempotency_key": key})
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert order.status == "confirmed"
    assert "You are enrolled. Thank you!" in html(family_web.web.get(response["Location"]))
    # Submitting the same form twice makes no second order.
    family_web.web.post("/checkout/", {"idempotency_key": key})
    assert Order.objects.count() == 1
    enrollment = Enrollment.objects.get()
    assert enrollment.status == "active"
    page = html(family_web.web.get("/enrollments/"))
    assert "Free Trial" in page and family_web.student.first_name in page
    page = html(family_web.web.get("/schedule/"))
    assert "Free Trial" in page


def test_checkout_of_an_empty_cart(family_web):
    response = family_web.web.get("/checkout/", follow=True)
    assert "Your cart is empty." in html(response)
    response = family_web.web.post("/checkout/", {})
    assert response.status_code == 400 and "/cart/" in html(response)
    assert not Order.objects.exists()


def test_a_hold_that_lapsed_during_checkout_gets_a_clear_page(family_web):
    offering = make_offering(name="Beam Basics", tuition=0)
    add(family_web.web, offering, family_web.student)
    assert family_web.web.get("/checkout/").status_code == 200
    Hold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = family_web.web.post("/checkout/", {})
    assert response.status_code == 409
    page = html(response)
    assert "Your hold has ended" in page and "Beam Basics" in page
    assert 'href="/classes/"' in page and "Traceback" not in page
    assert not Order.objects.exists()


def test_a_paid_order_without_stripe_says_so(family_web):
    add(family_web.web, make_offering(name="Beam Basics", tuition=12000), family_web.student)
    response = family_web.web.post("/checkout/", {})
    order = Order.objects.get()
    assert order.status == "awaiting_payment"
    page = html(family_web.web.get(response["Location"]))
    assert "does not take card payments online yet" in page
    assert "payment-element" not in page and "js.stripe.com" not in page
    assert "$120.00" in page


def test_an_unpaid_order_that_lapsed(family_web):
    add(family_web.web, make_offering(name="Beam Basics", tuition=12000), family_web.student)
    family_web.web.post("/checkout/", {})
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = family_web.web.get(f"/orders/{order.pk}/")
    assert response.status_code == 409
    assert "its seats were released" in html(response)


def intent(status="requires_payment_method"):
    return {
        "id": "pi_1",
        "object": "payment_intent",
        "client_secret": "pi_1_secret_x",
        "status": status,
        "amount": 12000,
        "currency": "usd",
    }


@pytest.fixture
def stripe_ready(family_web):
    Tenant.objects.filter(pk=family_web.tenant.pk).update(stripe_account_id="acct_alpha")
    family_web.tenant.stripe_account_id = "acct_alpha"
    routing.router.clear()  # the host -> tenant cache of this process
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


@responses.activate
def test_a_paid_order_gets_stripes_payment_element(stripe_ready):
    family_web = stripe_ready
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    add(family_web.web, make_offering(name="Beam Basics", tuition=12000), family_web.student)
    response = family_web.web.post("/checkout/", {})
    page = html(family_web.web.get(response["Location"]))
    assert 'data-client-secret="pi_1_secret_x"' in page
    assert 'data-publishable-key="pk_test_platform"' in page
    assert 'data-stripe-account="acct_alpha"' in page
    assert 'src="https://js.stripe.com/v3/"></script>' in page
    assert "Pay $120.00" in page
    assert "<noscript>" in page


def test_a_full_class_offers_the_waitlist(family_web):
    offering = make_offering(name="Beam Basics", capacity=1)
    other, kid = make_family("other@example.test")
    from portal.enrollment import services

    services.cart_add(family=other, student_id=kid.pk, offering_id=offering.pk)
    page = html(family_web.web.get(f"/classes/{offering.pk}/"))
    assert "Join the waitlist" in page and 'action="/waitlist/join/"' in page
    response = family_web.web.post(
        "/waitlist/join/", {"offering": offering.pk, "student": family_web.student.pk}
    )
    assert response.status_code == 302
    assert WaitlistEntry.objects.get().student == family_web.student
    assert "Beam Basics" in html(family_web.web.get("/enrollments/"))


@responses.activate
def test_pay_with_a_saved_card_without_javascript(stripe_ready):
    family_web = stripe_ready
    card = saved_card(family_web.family)
    add(family_web.web, make_offering(name="Beam Basics", tuition=12000), family_web.student)
    order_url = family_web.web.post("/checkout/", {})["Location"]
    page = html(family_web.web.get(order_url))
    assert "Pay $120.00 with the card ending 4242" in page
    assert "payment-element" not in page and not responses.calls  # no PaymentIntent yet
    assert f'href="{order_url}?card=new"' in page
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent(status="succeeded"))
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json=intent(status="succeeded"))
    order = Order.objects.get()
    response = family_web.web.post(f"/orders/{order.pk}/pay/", {"payment_method": card.pk})
    assert response.status_code == 302 and response["Location"] == order_url
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert "You are enrolled. Thank you!" in html(family_web.web.get(order_url))


@responses.activate
def test_a_declined_saved_card_says_so_and_keeps_the_order(stripe_ready):
    family_web = stripe_ready
    card = saved_card(family_web.family)
    add(family_web.web, make_offering(name="Beam Basics", tuition=12000), family_web.student)
    family_web.web.post("/checkout/", {})
    order = Order.objects.get()
    responses.post(
        f"{STRIPE}/v1/payment_intents",
        status=402,
        json={
            "error": {
                "type": "card_error",
                "code": "card_declined",
                "message": "Your card was declined.",
            }
        },
    )
    response = family_web.web.post(f"/orders/{order.pk}/pay/", {"payment_method": card.pk})
    assert response.status_code == 402
    assert "declined" in html(response) and f'href="/orders/{order.pk}/"' in html(response)
    order.refresh_from_db()
    assert order.status == "awaiting_payment"
    assert Payment.objects.get().status == "failed"
    bad = family_web.web.post(f"/orders/{order.pk}/pay/", {"payment_method": "999"})
    assert bad.status_code == 404
