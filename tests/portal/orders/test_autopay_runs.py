"""Autopay runs as staff follow them, and retrying a failed charge (portal.orders.autopay_runs).
Stripe's HTTP is mocked with `responses`."""

from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from kernel.errors import ApplicationError
from portal.billing.models import AutopayCharge, SavedPaymentMethod, StripeCustomer
from portal.config.services import portal_settings_update
from portal.enrollment.models import Enrollment
from portal.orders.autopay import autopay_run
from portal.orders.autopay_runs import (
    autopay_charge_list,
    autopay_charges_retryable,
    autopay_retry,
    autopay_runs_list,
)
from portal.privacy.models import AuditEntry
from tenants.models import Tenant
from tests.portal.billing_helpers import STRIPE
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
BILLING_DAY = TODAY.replace(day=min(TODAY.day, 28))
DECLINE = {"error": {"type": "card_error", "code": "card_declined", "message": "Declined."}}


@pytest.fixture(autouse=True)
def stripe_settings():
    with override_settings(STRIPE_SECRET_KEY="sk_test_platform", STRIPE_MAX_NETWORK_RETRIES=0):
        yield


@pytest.fixture
def declined(family_a):
    """This month's autopay charge of family A, declined once."""
    Tenant.objects.filter(pk=family_a.tenant.pk).update(stripe_account_id="acct_alpha")
    family_a.tenant.stripe_account_id = "acct_alpha"
    connection.set_tenant(family_a.tenant)
    portal_settings_update(billing_day=BILLING_DAY.day, autopay_retry_days="1,3")
    start = BILLING_DAY.replace(day=1) - timedelta(days=20)
    offering = make_offering(
        tuition=9500, tuition_billing="monthly", start_date=start, end_date=start + timedelta(200)
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
        family=family_a.family, stripe_payment_method_id="pm_1", is_default=True
    )
    with responses.RequestsMock() as mock:
        mock.post(f"{STRIPE}/v1/payment_intents", status=402, json=DECLINE)
        autopay_run(today=BILLING_DAY)
    charge = AutopayCharge.objects.get()
    assert charge.status == "failed"
    return charge


def intent(status="succeeded"):
    return {"id": "pi_retry", "object": "payment_intent", "status": status, "amount": 9500,
            "currency": "usd", "client_secret": "s"}  # fmt: skip


def test_runs_count_charges_and_failures(declined):
    (run,) = autopay_runs_list()
    assert run["period"] == BILLING_DAY.replace(day=1)
    assert (run["charges"], run["amount"], run["failed"], run["failed_amount"]) == (
        1,
        9500,
        1,
        9500,
    )
    assert run["by_status"] == {"failed": {"count": 1, "amount": 9500}}
    assert list(autopay_charge_list(status="failed")) == [declined]
    assert list(autopay_charge_list(status="succeeded")) == []
    assert autopay_charges_retryable() == [declined]
    assert autopay_charges_retryable(limit=0) == []
    with pytest.raises(ApplicationError) as caught:
        autopay_charge_list(status="bogus")
    assert caught.value.code == "invalid_filter"


@responses.activate
def test_a_retry_charges_now_and_a_second_retry_charges_nobody_twice(declined):
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    responses.get(f"{STRIPE}/v1/payment_intents/pi_retry", json=intent())
    charge = autopay_retry(charge_id=declined.pk)
    assert (charge.status, charge.attempts) == ("succeeded", 2)
    assert autopay_charges_retryable() == []  # paid: nothing left to retry
    create = next(c for c in responses.calls if c.request.method == "POST")
    assert create.request.headers["Idempotency-Key"] == f"alpha:autopay:{declined.pk}:2"
    calls = len(responses.calls)
    again = autopay_retry(charge_id=declined.pk)
    assert again.status == "succeeded" and len(responses.calls) == calls
    assert AuditEntry.objects.filter(action="autopay_retry").count() == 1


@responses.activate
def test_a_retry_that_is_declined_again_stays_failed(declined):
    responses.post(f"{STRIPE}/v1/payment_intents", status=402, json=DECLINE)
    charge = autopay_retry(charge_id=declined.pk)
    assert (charge.status, charge.attempts) == ("failed", 2)
    assert charge.last_error == "Declined."


def test_a_charge_being_collected_or_unknown_is_refused(declined):
    AutopayCharge.objects.filter(pk=declined.pk).update(
        status="charging", next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    with pytest.raises(ApplicationError) as caught:
        autopay_retry(charge_id=declined.pk)
    assert (caught.value.code, caught.value.status) == ("autopay_in_progress", 409)
    with pytest.raises(ApplicationError) as caught:
        autopay_retry(charge_id=declined.pk + 1000)
    assert (caught.value.code, caught.value.status) == ("autopay_charge_not_found", 404)
    assert AutopayCharge.objects.get().attempts == 1
