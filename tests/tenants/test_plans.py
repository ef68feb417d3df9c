"""Plans billed through Stripe Billing on the platform account (recorded responses shaped like
Stripe's: localstripe has no Prices and no invoiced subscriptions), the webhooks that move a
subscription's status, and the grace period before the student limit refuses enrollments."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
import stripe
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from portal.enrollment.models import Enrollment
from portal.tenancy.services import plan_enrollment_check
from tenants import plans
from tenants.models import Plan, PlatformStripeEvent, Subscription, Tenant
from tenants.services import tenant_provision
from tests.factories import GuardianFactory, OfferingFactory, StudentFactory
from tests.helpers import make_actor

pytestmark = pytest.mark.django_db

STRIPE = "https://api.stripe.com"
SECRET = "whsec_platform_test"
ROOT = "testserver.local"
STRIPE_SETTINGS = {
    "STRIPE_SECRET_KEY": "sk_test_platform",
    "STRIPE_API_BASE": "",
    "STRIPE_MAX_NETWORK_RETRIES": 0,
    "STRIPE_WEBHOOK_SECRET": SECRET,
}
PERIOD_END = 1798761600  # 2027-01-01


def _subscription(status: str, sub_id: str = "sub_1", price: str = "price_starter") -> dict:
    """A subscription as Stripe's API (2025-09-30.clover) returns it: the period on its item."""
    return {
        "id": sub_id,
        "object": "subscription",
        "status": status,
        "customer": "cus_1",
        "collection_method": "send_invoice",
        "days_until_due": 14,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_1",
                    "object": "subscription_item",
                    "price": {"id": price, "object": "price"},
                    "current_period_end": PERIOD_END,
                }
            ],
        },
        "metadata": {"tenant": "gamma"},
    }


@pytest.fixture
def gamma() -> Tenant:
    tenant = tenant_provision(
        slug="gamma", name="Gamma Dance", owner_email="owner@gamma.test", plan="starter"
    ).tenant
    connection.set_schema_to_public()
    return tenant


def _stripe_started() -> None:
    responses.post(
        f"{STRIPE}/v1/prices",
        json={"id": "price_starter", "object": "price", "unit_amount": 4900, "currency": "usd"},
    )
    responses.post(
        f"{STRIPE}/v1/customers", json={"id": "cus_1", "object": "customer", "email": "o@g.test"}
    )
    responses.post(f"{STRIPE}/v1/subscriptions", json=_subscription("active"))


@responses.activate
@override_settings(**STRIPE_SETTINGS)
def test_start_makes_a_price_a_customer_and_an_invoiced_subscription_once(gamma):
    _stripe_started()
    subscription = plans.subscription_start(slug="gamma")
    assert subscription.status == "active"
    assert subscription.stripe_customer_id == "cus_1"
    assert subscription.stripe_subscription_id == "sub_1"
    assert subscription.current_period_end.timestamp() == PERIOD_END
    assert Plan.objects.get(code="starter").stripe_price_id == "price_starter"
    price, customer, created = (call.request for call in responses.calls)
    assert "Stripe-Account" not in created.headers  # the platform's own account
    assert created.headers["Idempotency-Key"] == f"platform-subscription-{gamma.pk}-1"
    assert customer.headers["Idempotency-Key"] == f"platform-customer-{gamma.pk}"
    body = created.body if isinstance(created.body, str) else created.body.decode()
    assert "collection_method=send_invoice" in body and "price_starter" in body
    assert "unit_amount=4900" in (
        price.body if isinstance(price.body, str) else price.body.decode()
    )
    again = plans.subscription_start(slug="gamma")  # a live subscription is kept
    assert again.stripe_subscription_id == "sub_1" and len(responses.calls) == 3


@responses.activate
@override_settings(**STRIPE_SETTINGS)
def test_a_stripe_refusal_is_a_clear_error_and_records_no_subscription(gamma):
    responses.post(
        f"{STRIPE}/v1/prices",
        status=400,
        json={"error": {"type": "invalid_request_error", "message": "No such product"}},
    )
    with pytest.raises(ApplicationError) as refused:
        plans.subscription_start(slug="gamma")
    assert refused.value.code == "platform_billing_unavailable"
    assert Subscription.objects.get(tenant=gamma).stripe_subscription_id == ""


def test_billing_needs_a_plan_and_stripe(gamma, settings):
    Tenant.objects.filter(pk=gamma.pk).update(plan=None)
    with pytest.raises(ApplicationError) as no_plan:
        plans.subscription_start(slug="gamma")
    assert no_plan.value.code == "plan_required"
    settings.STRIPE_SECRET_KEY = ""
    Tenant.objects.filter(pk=gamma.pk).update(plan=Plan.objects.get(code="starter"))
    with pytest.raises(ApplicationError) as unconfigured:
        plans.subscription_start(slug="gamma")
    assert unconfigured.value.code == "platform_billing_unavailable"
    with pytest.raises(ApplicationError) as unknown:
        plans.plan_change(slug="gamma", plan_code="diamond")
    assert unknown.value.code == "plan_unknown"


@responses.activate
@override_settings(**STRIPE_SETTINGS)
def test_changing_plan_moves_the_subscription_to_the_new_price(gamma):
    _stripe_started()
    plans.subscription_start(slug="gamma")
    responses.post(f"{STRIPE}/v1/prices", json={"id": "price_growth", "object": "price"})
    responses.get(f"{STRIPE}/v1/subscriptions/sub_1", json=_subscription("active"))
    responses.post(
        f"{STRIPE}/v1/subscriptions/sub_1", json=_subscription("active", price="price_growth")
    )
    tenant = plans.plan_change(slug="gamma", plan_code="growth")
    assert tenant.plan.code == "growth"
    update = responses.calls[-1].request
    body = update.body if isinstance(update.body, str) else update.body.decode()
    assert "price_growth" in body and "si_1" in body and "create_prorations" in body


def _signed(payload: dict) -> tuple[str, str]:
    body = json.dumps(payload)
    return body, stripe.WebhookSignature.generate_signature_header(body, SECRET)


def _post_event(event_type: str, obj: dict, event_id: str = "evt_1"):
    body, header = _signed(
        {"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}
    )
    return Client(HTTP_HOST=ROOT).post(
        "/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


@responses.activate
@override_settings(**STRIPE_SETTINGS)
def test_webhooks_move_the_status_from_the_refetched_subscription(
    gamma, django_capture_on_commit_callbacks
):
    Subscription.objects.filter(tenant=gamma).update(
        stripe_customer_id="cus_1", stripe_subscription_id="sub_1", status="active"
    )
    # invoice.payment_failed: Stripe now says past_due.
    responses.get(f"{STRIPE}/v1/subscriptions/sub_1", json=_subscription("past_due"))
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "number": "PLAT-0001",
        "customer": "cus_1",
        "parent": {"subscription_details": {"subscription": "sub_1"}},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_event("invoice.payment_failed", invoice, "evt_fail")
    assert response.status_code == 200 and response.json() == {"received": True}
    subscription = Subscription.objects.get(tenant=gamma)
    assert subscription.status == "past_due"
    assert subscription.last_payment_error == "Payment of invoice PLAT-0001 failed."
    # A redelivery changes nothing and calls Stripe no more.
    calls = len(responses.calls)
    with django_capture_on_commit_callbacks(execute=True):
        duplicate = _post_event("invoice.payment_failed", invoice, "evt_fail")
    assert duplicate.json() == {"received": True, "duplicate": True}
    assert len(responses.calls) == calls
    # customer.subscription.updated: paid, active again; the error is cleared.
    responses.replace(
        responses.GET, f"{STRIPE}/v1/subscriptions/sub_1", json=_subscription("active")
    )
    with django_capture_on_commit_callbacks(execute=True):
        _post_event("customer.subscription.updated", _subscription("active"), "evt_ok")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.last_payment_error) == ("active", "")
    # customer.subscription.deleted: canceled (the event's own body is not trusted).
    responses.replace(
        responses.GET, f"{STRIPE}/v1/subscriptions/sub_1", json=_subscription("canceled")
    )
    with django_capture_on_commit_callbacks(execute=True):
        _post_event("customer.subscription.deleted", _subscription("active"), "evt_del")
    subscription.refresh_from_db()
    assert subscription.status == "canceled"
    assert PlatformStripeEvent.objects.filter(processed_at__isnull=False).count() == 3


@override_settings(**STRIPE_SETTINGS)
def test_platform_webhooks_ignore_other_events_and_unknown_subscriptions(
    gamma, django_capture_on_commit_callbacks
):
    ignored = _post_event("customer.created", {"id": "cus_9", "object": "customer"}, "evt_c")
    assert ignored.json()["ignored"] == "not a platform billing event"
    with django_capture_on_commit_callbacks(execute=True):
        unknown = _post_event("customer.subscription.updated", _subscription("active", "sub_x"))
    assert unknown.status_code == 200
    event = PlatformStripeEvent.objects.get(event_id="evt_1")
    assert event.error == "no such subscription" and event.processed_at is not None
    bad = Client(HTTP_HOST=ROOT).post(
        "/webhooks/stripe", "{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=x"
    )
    assert bad.status_code == 400


def _students(tenant: Tenant, count: int):
    with tenant_context(tenant):
        guardian = GuardianFactory()
        offering = OfferingFactory(capacity=50)
        for _ in range(count):
            Enrollment.objects.create(
                family=guardian.family,
                student=StudentFactory(family=guardian.family),
                offering=offering,
                status="active",
                start_date=timezone.localdate(),
            )
        newcomer = StudentFactory(family=guardian.family)
    connection.set_schema_to_public()
    return guardian, newcomer


def test_over_the_limit_warns_then_refuses_new_students_after_the_grace_period(gamma):
    Plan.objects.filter(code="starter").update(student_limit=2, grace_days=7)
    gamma = Tenant.objects.select_related("plan").get(pk=gamma.pk)
    _guardian, newcomer = _students(gamma, 3)
    with tenant_context(gamma):
        plan_enrollment_check(student_id=newcomer.pk)  # over, but in the grace period
    connection.set_schema_to_public()
    subscription = Subscription.objects.get(tenant=gamma)
    assert subscription.over_limit_since is not None
    Subscription.objects.filter(pk=subscription.pk).update(
        over_limit_since=timezone.now() - timedelta(days=8)
    )
    with tenant_context(gamma):
        with pytest.raises(ApplicationError) as refused:
            plan_enrollment_check(student_id=newcomer.pk)
        assert refused.value.code == "plan_student_limit_reached"
        assert refused.value.status == 409
        # A student already enrolled adds nothing to the count: still allowed.
        enrolled = Enrollment.objects.filter(status="active").first().student_id
        plan_enrollment_check(student_id=enrolled)
        # Back under the limit: the grace period is forgotten.
        Enrollment.objects.filter(status="active").update(status="dropped")
        plan_enrollment_check(student_id=newcomer.pk)
    connection.set_schema_to_public()
    assert Subscription.objects.get(pk=subscription.pk).over_limit_since is None


def test_the_family_api_answers_the_limit_code(gamma):
    from django_tenants.utils import tenant_context as ctx

    from kernel.users.services import api_token_issue
    from tests.helpers import client_for

    Plan.objects.filter(code="starter").update(student_limit=1, grace_days=0)
    Tenant.objects.filter(pk=gamma.pk).update(launched_at=timezone.now())
    guardian, newcomer = _students(gamma, 2)
    with ctx(gamma):
        offering = OfferingFactory(capacity=5)
        _, token = api_token_issue(user=guardian.user, name="t")
    connection.set_schema_to_public()
    Subscription.objects.filter(tenant=gamma).update(
        over_limit_since=timezone.now() - timedelta(days=1)
    )
    response = client_for(Tenant.objects.get(pk=gamma.pk), token=token).post(
        "/api/v1/cart/items", {"student": newcomer.pk, "offering": offering.pk}, format="json"
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "plan_student_limit_reached"


def test_staff_plan_page_is_for_the_owner(gamma, tenant_a):
    owner = make_actor(gamma, email="boss@gamma.test", role="owner")
    manager = make_actor(gamma, email="mgr@gamma.test", role="manager")
    from tests.helpers import host_of

    for actor, status in ((owner, 200), (manager, 403)):
        client = Client(HTTP_HOST=host_of(gamma))
        with tenant_context(gamma):
            client.force_login(actor.user)
        connection.set_schema_to_public()
        response = client.get("/console/plan/")
        assert response.status_code == status
        if status == 200:
            page = response.content.decode()
            assert "Starter" in page and "Not subscribed" in page
    assert Client(HTTP_HOST=host_of(gamma)).get("/console/plan/").status_code == 302
