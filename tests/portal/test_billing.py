"""Payments on the business's own Stripe account, offline: Stripe's HTTP is mocked with
`responses`, webhooks are signed with the stripe library's own helper."""

import time
from urllib.parse import parse_qs

import pytest
import responses
import stripe
from django.db import connection
from django.test import override_settings

from portal.billing.models import LedgerEntry, Payment, StripeEvent
from portal.enrollment import services as enrollment
from portal.enrollment.models import Enrollment, Order
from portal.orders import services as orders
from portal.orders import tenders
from tenants.models import Tenant
from tests.helpers import (
    assert_cross_tenant_denied,
    assert_error,
    client_for,
    make_actor,
    tenant_today,
)
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
    order = orders.checkout(family=connected.family)
    assert order.status == "awaiting_payment"
    return order


def form(call) -> dict:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@responses.activate
def test_paying_creates_a_payment_intent_on_the_business_account(open_order, connected):
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    response = connected.client().post(
        f"{API}/orders/{open_order.pk}/pay", {"amount": 1}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["client_secret"] == "pi_1_secret_x" and body["stripe_account"] == "acct_alpha"
    (call,) = responses.calls
    assert call.request.headers["Stripe-Account"] == "acct_alpha"
    assert call.request.headers["Idempotency-Key"] == f"alpha:order-pay:{open_order.pk}:1"
    sent = form(call)
    assert sent["amount"] == "12000"  # the server's price, not the client's "amount": 1
    assert sent["currency"] == "usd" and sent["metadata[order_id]"] == str(open_order.pk)
    assert "application_fee_amount" not in sent
    again = connected.client().post(f"{API}/orders/{open_order.pk}/pay")
    assert again.json()["id"] == body["id"]
    assert len(responses.calls) == 1  # a double click makes no second charge


@responses.activate
@override_settings(STRIPE_APPLICATION_FEE_BPS=250)
def test_platform_fee_is_sent_when_configured(open_order, connected):
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    connected.client().post(f"{API}/orders/{open_order.pk}/pay")
    assert form(responses.calls[0])["application_fee_amount"] == "300"


@responses.activate
def test_webhook_confirms_the_order_and_records_the_ledger(
    open_order, connected, django_capture_on_commit_callbacks
):
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    connected.client().post(f"{API}/orders/{open_order.pk}/pay")
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json=intent(status="succeeded"))
    payload, header = signed_event(
        "payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(payload, header)
    assert response.status_code == 200 and response.json() == {"received": True}
    connection.set_tenant(connected.tenant)
    assert responses.calls[-1].request.headers["Stripe-Account"] == "acct_alpha"  # re-fetched
    payment = Payment.objects.get()
    assert payment.status == "succeeded"
    assert Order.objects.get().status == "confirmed"
    assert Enrollment.objects.get().status == "active"
    ledger = connected.client().get(f"{API}/ledger?period=all").json()
    assert [(e["kind"], e["amount"], e["balance"]) for e in ledger["entries"]] == [
        ("charge", 12000, 12000),
        ("payment", -12000, 0),
    ]
    assert ledger["balance"] == 0
    # The same event again is recorded once and processed once.
    with django_capture_on_commit_callbacks(execute=True):
        duplicate = deliver(payload, header)
    assert duplicate.json() == {"received": True, "duplicate": True}
    connection.set_tenant(connected.tenant)
    assert StripeEvent.objects.count() == 1
    assert LedgerEntry.objects.count() == 2


@pytest.mark.parametrize("problem", ["wrong", "stale", "missing", "future"])
def test_bad_signatures_are_refused_and_nothing_is_recorded(problem, connected):
    timestamps = {"stale": int(time.time()) - 3600, "future": int(time.time()) + 3600}
    payload, header = signed_event(
        "payment_intent.succeeded", {"id": "pi_1"}, timestamp=timestamps.get(problem)
    )
    if problem == "wrong":
        header = header[:-4] + "beef"
    response = client_for(None).post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        **({} if problem == "missing" else {"HTTP_STRIPE_SIGNATURE": header}),
    )
    assert_error(response, 400, "invalid_signature")
    connection.set_tenant(connected.tenant)
    assert not StripeEvent.objects.exists()


def test_a_timestamp_a_little_ahead_is_within_the_tolerance(connected):
    payload, header = signed_event(
        "customer.created", {"id": "cus_1"}, timestamp=int(time.time()) + 60
    )
    assert deliver(payload, header).json() == {"received": True}


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        "{}",
        "null",
        '"evt"',
        "not json",
        '{"id": "evt_1", "type": "payment_intent.succeeded", "account": "acct_alpha"}',
        '{"id": 1, "type": "x", "account": "acct_alpha", "data": {"object": {}}}',
        '{"id": "evt_1", "type": ["x"], "account": "acct_alpha", "data": {"object": {}}}',
        '{"id": "evt_1", "type": "x", "account": ["acct_alpha"], "data": {"object": {}}}',
        '{"id": "evt_1", "type": "x", "account": "acct_alpha", "data": []}',
        '{"id": "evt_1", "type": "x", "account": "acct_alpha", "data": {"object": "pi_1"}}',
        '{"id": "evt_1", "type": "x", "account": "acct_alpha", "data": {"object": {"id": 7}}}',
        '{"id": "' + "e" * 300 + '", "type": "x", "account": "acct_alpha", "data": {"object": {}}}',
        '{"id": "evt\\u0000", "type": "x", "account": "acct_alpha", "data": {"object": {}}}',
    ],
)
def test_signed_but_malformed_events_are_a_400_and_nothing_is_recorded(body, connected):
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    assert_error(deliver(body, header), 400, "event_malformed")
    connection.set_tenant(connected.tenant)
    assert not StripeEvent.objects.exists()


def test_a_body_that_is_not_utf8_is_refused(connected):
    body = b'{"id": "evt_\xff"}'
    header = stripe.WebhookSignature.generate_signature_header(body.decode("latin-1"), SECRET)
    response = client_for(None).post(
        "/webhooks/stripe", data=body, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )  # fmt: skip
    assert_error(response, 400, "invalid_signature")


def test_events_for_unknown_accounts_are_acknowledged_and_ignored(connected):
    payload, header = signed_event(
        "payment_intent.succeeded", {"id": "pi_1"}, account="acct_nobody"
    )
    response = deliver(payload, header)
    assert response.json() == {"received": True, "ignored": "unknown account"}


@responses.activate
def test_a_failed_payment_keeps_the_order_payable(
    open_order, connected, django_capture_on_commit_callbacks
):
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    connected.client().post(f"{API}/orders/{open_order.pk}/pay")
    responses.get(
        f"{STRIPE}/v1/payment_intents/pi_1",
        json=intent(
            last_payment_error={"message": "Your card was declined.", "type": "card_error"}
        ),
    )
    payload, header = signed_event("payment_intent.payment_failed", {"id": "pi_1"})
    with django_capture_on_commit_callbacks(execute=True):
        deliver(payload, header)
    connection.set_tenant(connected.tenant)
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_message) == ("failed", "Your card was declined.")
    assert Order.objects.get().status == "awaiting_payment"
    assert Enrollment.objects.get().status == "reserved"
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent(pi_id="pi_2"))
    retry = connected.client().post(f"{API}/orders/{open_order.pk}/pay").json()
    assert retry["client_secret"] == "pi_2_secret_x"
    assert (
        responses.calls[-1].request.headers["Idempotency-Key"]
        == f"alpha:order-pay:{open_order.pk}:2"
    )


@responses.activate
def test_staff_refund_part_and_never_more_than_paid(open_order, connected, in_tenant_a):
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    connected.client().post(f"{API}/orders/{open_order.pk}/pay")
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json=intent(status="succeeded"))
    from portal.orders.payments import payment_refresh

    payment_refresh(payment_intent_id="pi_1")
    payment = Payment.objects.get()
    staff = make_actor(in_tenant_a, email="desk@alpha.test", role="manager")
    assert_error(
        connected.client().post(
            f"{API}/staff/payments/{payment.pk}/refund", {"amount": "1.00"}, format="json"
        ),
        403,
        "permission_denied",
    )
    responses.post(f"{STRIPE}/v1/refunds", json={"id": "re_1", "object": "refund", "amount": 5000})
    ok = staff.client().post(
        f"{API}/staff/payments/{payment.pk}/refund",
        {"amount": "50.00", "reason": "Missed classes"},
        format="json",
    )
    assert ok.status_code == 200, ok.content
    sent = form(responses.calls[-1])
    assert sent == {"payment_intent": "pi_1", "amount": "5000"}
    assert responses.calls[-1].request.headers["Idempotency-Key"] == f"alpha:refund:{payment.pk}:1"
    calls = len(responses.calls)
    too_much = staff.client().post(
        f"{API}/staff/payments/{payment.pk}/refund", {"amount": "70.01"}, format="json"
    )
    message = "At most 70.00 USD can be refunded on this payment."
    assert_error(too_much, 400, "refund_too_large", message)
    # Amounts are typed in the currency like every staff amount: "12,50" is not one.
    typed = staff.client().post(
        f"{API}/staff/payments/{payment.pk}/refund", {"amount": "12,50"}, format="json"
    )
    assert_error(typed, 400, "invalid_amount")
    assert len(responses.calls) == calls
    connection.set_tenant(connected.tenant)
    kinds = list(LedgerEntry.objects.values_list("kind", "amount"))
    assert ("refund", 5000) in kinds
    assert Payment.objects.get().amount_refunded == 5000


def test_payments_need_a_connected_account(connected):
    Tenant.objects.filter(pk=connected.tenant.pk).update(stripe_account_id="")
    connected.tenant.stripe_account_id = ""
    offering = make_offering(tuition=500)
    enrollment.cart_add(
        family=connected.family, student_id=connected.student.pk, offering_id=offering.pk
    )
    order = orders.checkout(family=connected.family)
    response = connected.client().post(f"{API}/orders/{order.pk}/pay")
    assert_error(response, 409, "payments_not_configured")
    assert not Payment.objects.exists()


def test_paying_someone_elses_a_paid_or_a_lapsed_order(open_order, connected):
    from django.utils import timezone

    assert_error(connected.client().post(f"{API}/orders/999999/pay"), 404, "order_not_found")
    Order.objects.filter(pk=open_order.pk).update(expires_at=timezone.now())
    assert_error(
        connected.client().post(f"{API}/orders/{open_order.pk}/pay"), 409, "order_not_payable"
    )


def test_ledger_bad_period(connected):
    assert_error(connected.client().get(f"{API}/ledger?period=year"), 400, "invalid_filter")
    assert connected.client().get(f"{API}/ledger").json()["entries"] == []


def test_free_orders_still_reach_the_ledger(connected):
    offering = make_offering(tuition=0, registration_fee=0)
    enrollment.cart_add(
        family=connected.family, student_id=connected.student.pk, offering_id=offering.pk
    )
    order = orders.checkout(family=connected.family)
    assert list(LedgerEntry.objects.values_list("kind", "amount")) == [("charge", 0)]
    # Recorded in the checkout's transaction without a savepoint of its own (the order is new):
    # the same entry and audit record as the idempotent path makes, and recording the order
    # again (a webhook, a retried task) still adds nothing.
    from portal.billing.services import ledger_record_order
    from portal.privacy.models import AuditEntry

    entry = LedgerEntry.objects.get()
    assert entry.order_id == order.pk and entry.source_key.startswith("orderline:")
    assert AuditEntry.objects.filter(
        object_type=LedgerEntry._meta.label_lower, object_id=str(entry.pk)
    ).exists()
    ledger_record_order(order=order)
    assert LedgerEntry.objects.count() == 1


def test_a_ledger_entry_said_new_is_still_refused_twice(connected):
    """``new_source`` skips the savepoint, not the unique key: a caller wrong about its source
    being new fails its transaction instead of recording the charge twice."""
    from django.db import IntegrityError, transaction

    from portal.billing.services import ledger_post

    entry = {
        "family_id": connected.family.pk,
        "kind": LedgerEntry.Kind.CHARGE,
        "description": "Tuition",
        "amount": 1000,
        "currency": "usd",
        "source_key": "orderline:test-1",
    }
    first = ledger_post(**entry, new_source=True)
    assert ledger_post(**entry) == first  # the idempotent path returns the first entry
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger_post(**entry, new_source=True)
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", f"{API}/orders/1/pay"),
        ("get", f"{API}/ledger"),
        ("post", f"{API}/staff/payments/1/refund"),
    ],
)
def test_billing_endpoints_stay_in_their_tenant(method, path, connected, tenant_b):
    assert_cross_tenant_denied(
        credentials_client=connected.client(), target=tenant_b, method=method, path=path, data={}
    )


@responses.activate
def test_staff_get_a_stripe_onboarding_link(in_tenant_a):
    Tenant.objects.filter(pk=in_tenant_a.pk).update(stripe_account_id="")
    in_tenant_a.stripe_account_id = ""
    staff = make_actor(in_tenant_a, email="owner2@alpha.test", role="owner")
    responses.post(f"{STRIPE}/v1/accounts", json={"id": "acct_new", "object": "account"})
    responses.post(
        f"{STRIPE}/v1/account_links",
        json={"object": "account_link", "url": "https://connect.stripe.com/setup/s/abc"},
    )
    response = staff.client().post(f"{API}/staff/stripe/onboarding")
    assert response.json() == {"url": "https://connect.stripe.com/setup/s/abc"}
    assert responses.calls[0].request.headers["Idempotency-Key"] == "tenant:alpha:account:1"
    assert form(responses.calls[1])["account"] == "acct_new"
    assert Tenant.objects.get(pk=in_tenant_a.pk).stripe_account_id == "acct_new"


# --- saved payment methods -----------------------------------------------------------------


def _save_card(
    connected, django_capture_on_commit_callbacks, pm="pm_1", seti="seti_1", event="evt_s1"
):
    from portal.billing.models import StripeCustomer

    if not StripeCustomer.objects.exists():
        responses.post(f"{STRIPE}/v1/customers", json={"id": "cus_1", "object": "customer"})
    responses.post(
        f"{STRIPE}/v1/setup_intents",
        json={
            "id": seti,
            "object": "setup_intent",
            "client_secret": f"{seti}_secret",
            "status": "requires_payment_method",
        },
    )
    response = connected.client().post(f"{API}/payment-methods/setup")
    assert response.status_code == 201, response.content
    responses.get(
        f"{STRIPE}/v1/setup_intents/{seti}",
        json={
            "id": seti,
            "object": "setup_intent",
            "status": "succeeded",
            "customer": "cus_1",
            "payment_method": pm,
        },
    )
    responses.get(
        f"{STRIPE}/v1/payment_methods/{pm}",
        json={
            "id": pm,
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
        },
    )
    payload, header = signed_event(
        "setup_intent.succeeded", {"id": seti, "object": "setup_intent"}, event_id=event
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(payload, header).status_code == 200
    connection.set_tenant(connected.tenant)
    return response.json()


@responses.activate
def test_saving_a_card_through_a_setup_intent(connected, django_capture_on_commit_callbacks):
    body = _save_card(connected, django_capture_on_commit_callbacks)
    assert body == {"client_secret": "seti_1_secret", "stripe_account": "acct_alpha"}
    setup_call = next(c for c in responses.calls if c.request.url.endswith("/v1/setup_intents"))
    assert form(setup_call)["usage"] == "off_session" and form(setup_call)["customer"] == "cus_1"
    assert setup_call.request.headers["Idempotency-Key"] == f"alpha:setup:{connected.family.pk}:1"
    assert setup_call.request.headers["Stripe-Account"] == "acct_alpha"
    (card,) = connected.client().get(f"{API}/payment-methods").json()
    assert (card["brand"], card["last4"], card["is_default"]) == ("visa", "4242", True)


@responses.activate
def test_default_and_removal_rules(connected, django_capture_on_commit_callbacks):
    from portal.config.services import portal_settings_update

    _save_card(connected, django_capture_on_commit_callbacks)
    _save_card(
        connected, django_capture_on_commit_callbacks, pm="pm_2", seti="seti_2", event="evt_s2"
    )
    cards = connected.client().get(f"{API}/payment-methods").json()
    second = next(c for c in cards if not c["is_default"])
    assert (
        connected.client()
        .post(f"{API}/payment-methods/{second['id']}/default")
        .json()["is_default"]
    )
    portal_settings_update(stored_payment_method_policy="required")
    offering = make_offering(tuition=0)
    enrollment.cart_add(
        family=connected.family, student_id=connected.student.pk, offering_id=offering.pk
    )
    orders.checkout(family=connected.family)
    responses.post(
        f"{STRIPE}/v1/payment_methods/pm_2/detach", json={"id": "pm_2", "object": "payment_method"}
    )
    assert connected.client().delete(f"{API}/payment-methods/{second['id']}").status_code == 204
    (last,) = connected.client().get(f"{API}/payment-methods").json()
    assert last["is_default"] is True  # the remaining card became the default
    assert_error(
        connected.client().delete(f"{API}/payment-methods/{last['id']}"),
        409,
        "payment_method_required",
    )
    assert_error(
        connected.client().delete(f"{API}/payment-methods/999999"), 404, "payment_method_not_found"
    )


def test_payment_methods_follow_the_policy_and_the_primary_guardian(connected):
    from kernel.users.services import api_token_issue
    from portal.config.services import portal_settings_update
    from tests.factories import GuardianFactory

    portal_settings_update(stored_payment_method_policy="off")
    assert_error(
        connected.client().post(f"{API}/payment-methods/setup"), 403, "payment_methods_disabled"
    )
    portal_settings_update(stored_payment_method_policy="optional")
    second = GuardianFactory(family=connected.family, is_primary=False, email="other@alpha.test")
    _, token = api_token_issue(user=second.user)
    response = client_for(connected.tenant, token=token).post(f"{API}/payment-methods/setup")
    assert_error(response, 403, "primary_guardian_only")


def test_statement_pdf_for_a_date_range(connected):

    offering = make_offering(tuition=0, registration_fee=0, name="Rec Gym")
    enrollment.cart_add(
        family=connected.family, student_id=connected.student.pk, offering_id=offering.pk
    )
    orders.checkout(family=connected.family)
    LedgerEntry.objects.create(
        family=connected.family,
        kind="credit",
        description="Welcome credit",
        amount=-2500,
        currency="USD",
        source_key="test:credit",
    )
    today = tenant_today().isoformat()
    response = connected.client().get(f"{API}/ledger/statement?from={today}&to={today}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="statement-{today}-{today}.pdf"' in response["Content-Disposition"]
    assert_error(
        connected.client().get(f"{API}/ledger/statement?from=2026-02-30&to={today}"),
        400,
        "invalid_filter",
    )
    assert_error(
        connected.client().get(f"{API}/ledger/statement?from={today}&to=2000-01-01"),
        400,
        "invalid_filter",
    )


@responses.activate
def test_reading_an_order_asks_stripe_about_open_payments(open_order, connected):
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    connected.client().post(f"{API}/orders/{open_order.pk}/pay")
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json=intent(status="succeeded"))
    body = connected.client().get(f"{API}/orders/{open_order.pk}").json()
    assert body["status"] == "confirmed"  # no webhook needed
    assert Enrollment.objects.get().status == "active"


@responses.activate
def test_disputes_flag_the_payment_and_account_updates_reach_the_tenant(
    open_order, connected, django_capture_on_commit_callbacks
):
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    connected.client().post(f"{API}/orders/{open_order.pk}/pay")
    responses.get(
        f"{STRIPE}/v1/disputes/dp_1", json={"id": "dp_1", "object": "dispute", "charge": "ch_1"}
    )
    responses.get(
        f"{STRIPE}/v1/charges/ch_1",
        json={"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "amount_refunded": 0},
    )
    payload, header = signed_event(
        "charge.dispute.created", {"id": "dp_1", "object": "dispute"}, event_id="evt_d1"
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(payload, header)
    connection.set_tenant(connected.tenant)
    assert Payment.objects.get().disputed is True
    responses.get(
        f"{STRIPE}/v1/accounts/acct_alpha",
        json={"id": "acct_alpha", "object": "account", "charges_enabled": True},
    )
    payload, header = signed_event(
        "account.updated", {"id": "acct_alpha", "object": "account"}, event_id="evt_a1"
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(payload, header)
    assert Tenant.objects.get(pk=connected.tenant.pk).stripe_charges_enabled is True


@responses.activate
def test_a_refund_made_in_stripe_reaches_the_ledger_once(
    open_order, connected, django_capture_on_commit_callbacks
):
    from portal.orders.payments import payment_refresh

    responses.post(f"{STRIPE}/v1/payment_intents", json=intent())
    connected.client().post(f"{API}/orders/{open_order.pk}/pay")
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json=intent(status="succeeded"))
    payment_refresh(payment_intent_id="pi_1")
    responses.get(
        f"{STRIPE}/v1/charges/ch_9",
        json={"id": "ch_9", "object": "charge", "payment_intent": "pi_1", "amount_refunded": 3000},
    )
    for event_id in ("evt_r1", "evt_r2"):  # two deliveries of two events about the same refund
        payload, header = signed_event(
            "charge.refunded", {"id": "ch_9", "object": "charge"}, event_id=event_id
        )
        with django_capture_on_commit_callbacks(execute=True):
            deliver(payload, header)
    connection.set_tenant(connected.tenant)
    assert Payment.objects.get().amount_refunded == 3000
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_account_credit_is_used_at_checkout_once(connected):
    LedgerEntry.objects.create(
        family=connected.family,
        kind="credit",
        description="Refund as credit",
        amount=-2500,
        currency="USD",
        source_key="test:credit-1",
    )
    first = make_offering(tuition=12000, registration_fee=0)
    enrollment.cart_add(
        family=connected.family, student_id=connected.student.pk, offering_id=first.pk
    )
    order = orders.checkout(family=connected.family)
    assert order.total == 12000  # the lines; credit is a tender, never a line
    assert list(order.tenders.values_list("kind", "amount", "status")) == [
        ("account_credit", 2500, "reserved")
    ]
    assert tenders.amount_due(order) == 9500
    # The credit is promised to the open order: a second checkout cannot spend it again.
    from tests.portal.enrollment_helpers import next_weekday

    second = make_offering(
        tuition=3000, registration_fee=0, weekdays=[4], name="Other", start_date=next_weekday(4)
    )
    enrollment.cart_add(
        family=connected.family, student_id=connected.student.pk, offering_id=second.pk
    )
    other = orders.checkout(family=connected.family)
    assert (other.total, tenders.amount_due(other)) == (3000, 3000)
    assert not other.tenders.exists()
    orders.order_confirm(order_id=order.pk)
    ledger = connected.client().get(f"{API}/ledger?period=all").json()
    assert ledger["balance"] == 12000 - 2500  # charge recorded in full, the credit absorbed
    assert [e["kind"] for e in ledger["entries"]] == ["credit", "charge"]


def test_a_credit_covering_the_order_confirms_it(connected):
    LedgerEntry.objects.create(
        family=connected.family,
        kind="credit",
        description="Credit",
        amount=-20000,
        currency="USD",
        source_key="test:credit-2",
    )
    offering = make_offering(tuition=12000, registration_fee=0)
    enrollment.cart_add(
        family=connected.family, student_id=connected.student.pk, offering_id=offering.pk
    )
    order = orders.checkout(family=connected.family)
    assert (order.status, order.total, tenders.amount_due(order)) == ("confirmed", 12000, 0)
    assert connected.client().get(f"{API}/ledger?period=all").json()["credit"] == 8000


@responses.activate
def test_listing_cards_records_a_setup_that_no_webhook_reported(connected):
    responses.post(f"{STRIPE}/v1/customers", json={"id": "cus_1", "object": "customer"})
    responses.post(
        f"{STRIPE}/v1/setup_intents",
        json={
            "id": "seti_9",
            "object": "setup_intent",
            "client_secret": "seti_9_secret",
            "status": "requires_payment_method",
        },
    )
    connected.client().post(f"{API}/payment-methods/setup")
    responses.get(
        f"{STRIPE}/v1/setup_intents/seti_9",
        json={
            "id": "seti_9",
            "object": "setup_intent",
            "status": "succeeded",
            "customer": "cus_1",
            "payment_method": "pm_9",
        },
    )
    responses.get(
        f"{STRIPE}/v1/payment_methods/pm_9",
        json={
            "id": "pm_9",
            "object": "payment_method",
            "card": {"brand": "mastercard", "last4": "4444"},
        },
    )
    (card,) = connected.client().get(f"{API}/payment-methods").json()
    assert (card["brand"], card["last4"], card["is_default"]) == ("mastercard", "4444", True)
    calls = len(responses.calls)
    connected.client().get(f"{API}/payment-methods")
    assert len(responses.calls) == calls  # nothing pending any more


def _saved_card(connected):
    from portal.billing.models import SavedPaymentMethod, StripeCustomer

    StripeCustomer.objects.create(family=connected.family, customer_id="cus_1")
    return SavedPaymentMethod.objects.create(
        family=connected.family,
        stripe_payment_method_id="pm_1",
        brand="visa",
        last4="4242",
        is_default=True,
    )


@responses.activate
def test_paying_with_a_saved_card_charges_it_at_once(open_order, connected):
    card = _saved_card(connected)
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent(status="succeeded"))
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json=intent(status="succeeded"))
    response = connected.client().post(
        f"{API}/orders/{open_order.pk}/pay", {"payment_method": card.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "succeeded"
    sent = form(responses.calls[0])
    assert (sent["customer"], sent["payment_method"], sent["confirm"]) == ("cus_1", "pm_1", "true")
    assert Order.objects.get().status == "confirmed"


@responses.activate
def test_a_declined_saved_card_keeps_the_order_payable(open_order, connected):
    card = _saved_card(connected)
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
    response = connected.client().post(
        f"{API}/orders/{open_order.pk}/pay", {"payment_method": card.pk}, format="json"
    )
    assert_error(response, 402, "card_declined")
    assert Payment.objects.get().status == "failed"
    assert Order.objects.get().status == "awaiting_payment"
    responses.post(f"{STRIPE}/v1/payment_intents", json=intent(pi_id="pi_2"))
    retry = connected.client().post(f"{API}/orders/{open_order.pk}/pay")
    assert retry.status_code == 201
    assert (
        responses.calls[-1].request.headers["Idempotency-Key"]
        == f"alpha:order-pay:{open_order.pk}:2"
    )
    assert_error(
        connected.client().post(
            f"{API}/orders/{open_order.pk}/pay", {"payment_method": 999}, format="json"
        ),
        404,
        "payment_method_not_found",
    )
