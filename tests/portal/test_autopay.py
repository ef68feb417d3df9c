"""Monthly tuition by autopay, offline (Stripe's HTTP mocked with `responses`)."""

from datetime import date, timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from portal.billing.models import AutopayCharge, LedgerEntry, SavedPaymentMethod, StripeCustomer
from portal.config.services import portal_settings_update
from portal.enrollment.models import Enrollment, Order
from portal.orders.autopay import autopay_run
from tenants.models import Tenant
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
STRIPE = "https://api.stripe.com"
TODAY = timezone.localdate()
BILLING_DAY = TODAY.replace(day=min(TODAY.day, 28))


@pytest.fixture(autouse=True)
def stripe_settings():
    with override_settings(STRIPE_SECRET_KEY="sk_test_platform", STRIPE_MAX_NETWORK_RETRIES=0):
        yield


@pytest.fixture
def monthly(family_a):
    """An active monthly enrollment that started last month, a saved default card."""
    Tenant.objects.filter(pk=family_a.tenant.pk).update(stripe_account_id="acct_alpha")
    family_a.tenant.stripe_account_id = "acct_alpha"
    connection.set_tenant(family_a.tenant)
    portal_settings_update(billing_day=BILLING_DAY.day, autopay_retry_days="1,3")
    start = BILLING_DAY.replace(day=1) - timedelta(days=20)
    offering = make_offering(
        name="Team Gym",
        tuition=9500,
        tuition_billing="monthly",
        start_date=start,
        end_date=start + timedelta(days=200),
    )
    Enrollment.objects.create(
        family=family_a.family,
        student=family_a.student,
        offering=offering,
        status="active",
        start_date=start,
    )
    StripeCustomer.objects.create(family=family_a.family, customer_id="cus_1")
    SavedPaymentMethod.objects.create(
        family=family_a.family,
        stripe_payment_method_id="pm_1",
        brand="visa",
        last4="4242",
        is_default=True,
    )
    return family_a


def intent(status="succeeded"):
    return {
        "id": "pi_auto",
        "object": "payment_intent",
        "status": status,
        "amount": 9500,
        "currency": "usd",
        "client_secret": "pi_auto_secret",
    }


@responses.activate
def test_the_billing_day_charges_the_saved_card_once(monthly, django_capture_on_commit_callbacks):
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    responses.get(f"{STRIPE}/v1/payment_intents/pi_auto", json=intent())
    with django_capture_on_commit_callbacks(execute=True):
        assert autopay_run(today=BILLING_DAY) == {"billed": 1, "attempted": 1}
    charge = AutopayCharge.objects.get()
    assert (charge.status, charge.amount, charge.period) == (
        "succeeded",
        9500,
        BILLING_DAY.replace(day=1),
    )
    create = responses.calls[0].request
    sent = {k: v[0] for k, v in parse_qs(create.body).items()}
    assert sent["off_session"] == "true" and sent["confirm"] == "true"
    assert (sent["customer"], sent["payment_method"], sent["amount"]) == ("cus_1", "pm_1", "9500")
    assert create.headers["Idempotency-Key"] == f"alpha:autopay:{charge.pk}:1"
    assert create.headers["Stripe-Account"] == "acct_alpha"
    assert charge.order.status == "confirmed"
    kinds = list(LedgerEntry.objects.order_by("pk").values_list("kind", "amount"))
    assert kinds == [("charge", 9500), ("payment", -9500)]
    calls = len(responses.calls)
    with django_capture_on_commit_callbacks(execute=True):
        assert autopay_run(today=BILLING_DAY) == {"billed": 0, "attempted": 0}  # twice: nothing
    assert len(responses.calls) == calls
    assert AutopayCharge.objects.count() == 1 and Order.objects.count() == 1


def test_other_days_and_first_months_are_not_billed(monthly):
    assert autopay_run(today=BILLING_DAY + timedelta(days=1)) == {"billed": 0, "attempted": 0}
    Enrollment.objects.update(start_date=BILLING_DAY.replace(day=1))  # first month paid at checkout
    portal_settings_update(billing_day=BILLING_DAY.day)
    assert autopay_run(today=BILLING_DAY)["billed"] == 0


@responses.activate
def test_a_decline_emails_a_pay_now_link_and_retries_on_schedule(
    monthly, django_capture_on_commit_callbacks
):
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
    with django_capture_on_commit_callbacks(execute=True):
        autopay_run(today=BILLING_DAY)
    charge = AutopayCharge.objects.get()
    assert (charge.status, charge.attempts) == ("failed", 1)
    assert charge.next_attempt_at.date() == (timezone.now() + timedelta(days=1)).date()
    failed = LedgerEntry.objects.get(description__startswith="Autopay attempt 1 failed")
    assert failed.amount == 0
    message = next(m for m in mail.outbox if "could not charge your card" in m.subject)
    assert f"/orders/{charge.order_id}/" in message.body  # the order's page, where it is paid
    # Not due yet: running again does nothing.
    assert autopay_run(today=BILLING_DAY)["attempted"] == 0
    AutopayCharge.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        autopay_run(today=BILLING_DAY)
    assert responses.calls[-1].request.headers["Idempotency-Key"] == f"alpha:autopay:{charge.pk}:2"
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == ("failed", 2)
    AutopayCharge.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    autopay_run(today=BILLING_DAY)
    charge.refresh_from_db()
    assert charge.status == "needs_action"  # retries used up: the family pays by link


@responses.activate
def test_authentication_required_goes_straight_to_the_family(monthly):
    responses.post(
        f"{STRIPE}/v1/payment_intents",
        status=402,
        json={
            "error": {
                "type": "card_error",
                "code": "authentication_required",
                "message": "Your bank requires authentication.",
            }
        },
    )
    autopay_run(today=BILLING_DAY)
    assert AutopayCharge.objects.get().status == "needs_action"


def test_no_card_on_file_asks_the_family_to_pay(monthly):
    SavedPaymentMethod.objects.all().delete()
    autopay_run(today=BILLING_DAY)
    charge = AutopayCharge.objects.get()
    assert (charge.status, charge.last_error) == ("needs_action", "No card on file.")
    assert charge.order.status == "awaiting_payment"
    assert (charge.order.kind, charge.order.expires_at) == ("tuition", None)  # never lapses
    assert not charge.order.lapsed(timezone.now() + timedelta(days=400))


def test_paying_the_link_settles_the_charge(monthly):
    from portal.orders.services import order_confirm

    SavedPaymentMethod.objects.all().delete()
    autopay_run(today=BILLING_DAY)
    charge = AutopayCharge.objects.get()
    order_confirm(order_id=charge.order_id)
    charge.refresh_from_db()
    assert charge.status == "succeeded"


def test_term_offerings_are_not_billed_monthly(monthly):
    Enrollment.objects.update(
        offering=make_offering(
            tuition=9500, start_date=date(2020, 1, 6), end_date=TODAY + timedelta(days=60)
        )
    )
    assert autopay_run(today=BILLING_DAY)["billed"] == 0
