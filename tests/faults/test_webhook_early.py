"""A Stripe webhook delivered before the order (its payment row) commits: Stripe can be faster
than our transaction. The event is stored, waits for its payment, and is applied once the
payment exists (the task retries; billing.stripe_events_retry sweeps), exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from portal.billing.models import LedgerEntry, Payment, StripeEvent
from portal.enrollment import services as enrollment
from portal.enrollment.models import Order
from portal.orders import services as orders
from portal.orders.events import event_apply
from portal.orders.tasks import stripe_events_retry_task
from tenants.models import Tenant
from tests.portal.billing_helpers import SECRET, STRIPE, deliver, intent, signed_event
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture(autouse=True)
def stripe_settings():
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_platform",
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_API_BASE="",
        STRIPE_MAX_NETWORK_RETRIES=0,
    ):
        yield


@pytest.fixture
def connected(family_a):
    Tenant.objects.filter(pk=family_a.tenant.pk).update(stripe_account_id="acct_alpha")
    family_a.tenant.stripe_account_id = "acct_alpha"
    connection.set_tenant(family_a.tenant)
    return family_a


@pytest.fixture
def open_order(connected):
    offering = make_offering(tuition=12000, registration_fee=0, name="Rec Gym")
    enrollment.cart_add(
        family=connected.family, student_id=connected.student.pk, offering_id=offering.pk
    )
    return orders.checkout(family=connected.family)


@responses.activate
def test_a_webhook_before_the_order_commits_is_applied_once_the_payment_exists(
    open_order, connected, faults, django_capture_on_commit_callbacks
):
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json=intent(status="succeeded"))
    payload, header = signed_event(
        "payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"}
    )
    faults.inject("webhook before commit")
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(payload, header)  # no Payment row for pi_1 yet
    assert response.status_code == 200 and response.json() == {"received": True}
    connection.set_tenant(connected.tenant)
    event = StripeEvent.objects.get()
    assert event.processed_at is None and event.error == "no matching payment yet"
    assert Order.objects.get().status == "awaiting_payment"

    # The payment commits (the family's pay request finishes).
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    assert connected.client().post(f"{API}/orders/{open_order.pk}/pay").status_code == 201
    connection.set_tenant(connected.tenant)
    StripeEvent.objects.update(received_at=timezone.now() - timedelta(minutes=1))
    assert stripe_events_retry_task() == 1

    event.refresh_from_db()
    assert event.processed_at is not None and event.error == ""
    faults.check_lost(
        "payments (early webhook)", 1, Payment.objects.filter(status="succeeded").count()
    )
    faults.check_lost("orders (early webhook)", 1, Order.objects.filter(status="confirmed").count())
    # Once: another sweep, the task again, and Stripe's redelivery change nothing.
    assert stripe_events_retry_task() == 0
    assert event_apply(event_id=event.event_id) == "already processed"
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(payload, header).json() == {"received": True, "duplicate": True}
    connection.set_tenant(connected.tenant)
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_an_event_whose_payment_never_comes_is_closed_after_a_day(connected, faults):
    connection.set_tenant(connected.tenant)
    StripeEvent.objects.create(
        event_id="evt_orphan",
        type="payment_intent.succeeded",
        object_id="pi_elsewhere",
        received_at=timezone.now() - timedelta(minutes=5),
    )
    faults.inject("webhook for an unknown payment")
    assert stripe_events_retry_task() == 0  # still waiting
    StripeEvent.objects.update(received_at=timezone.now() - timedelta(days=2))
    assert stripe_events_retry_task() == 1
    event = StripeEvent.objects.get()
    assert event.processed_at is not None and event.error == "no matching payment"
