"""Money and rules that close their loops (issue 15): transfers post their price difference,
required policies (every version) and a saved card for monthly tuition are enforced where seats
and money change hands, and a family pays its whole open balance in one step."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

import pytest
import responses
from django.core import mail
from django.db import connection
from django.test import Client, override_settings

from portal.accounts.models import Policy, PolicyAcceptance
from portal.accounts.services import policy_save
from portal.billing.models import AutopayCharge, LedgerEntry, SavedPaymentMethod, StripeCustomer
from portal.config.services import portal_settings_update
from portal.enrollment import services as enrollment
from portal.enrollment.models import Enrollment, Hold, Order
from portal.enrollment.pricing import Line
from portal.orders import services as orders
from portal.orders import tenders
from portal.requests import services as requests_services
from tenants.models import Tenant
from tests.factories import ProgramFactory
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, host_of, make_actor
from tests.portal.enrollment_helpers import make_offering, next_weekday

pytestmark = pytest.mark.django_db
API = "/api/v1"
STRIPE = "https://api.stripe.com"


@pytest.fixture
def connected(family_a):
    Tenant.objects.filter(pk=family_a.tenant.pk).update(stripe_account_id="acct_alpha")
    family_a.tenant.stripe_account_id = "acct_alpha"
    connection.set_tenant(family_a.tenant)
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_platform", STRIPE_API_BASE="", STRIPE_MAX_NETWORK_RETRIES=0
    ):
        yield family_a


def save_card(family) -> SavedPaymentMethod:
    StripeCustomer.objects.get_or_create(family=family, defaults={"customer_id": "cus_1"})
    return SavedPaymentMethod.objects.create(
        family=family, stripe_payment_method_id="pm_1", brand="visa", last4="4242", is_default=True
    )


def stripe_accepting(rsps) -> list[dict]:
    """Stripe saying yes to every charge; returns what was sent."""
    sent: list[dict] = []

    def create(request):
        body = {k: v[0] for k, v in parse_qs(request.body).items()}
        sent.append({**body, "_key": request.headers.get("Idempotency-Key")})
        pi = {
            "id": f"pi_{len(sent)}",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": int(body["amount"]),
            "currency": "usd",
            "client_secret": "s",
        }
        return 200, {}, json.dumps(pi)

    def retrieve(request):
        number = int(request.url.rsplit("_", 1)[-1])
        body = sent[number - 1]
        pi = {
            "id": f"pi_{number}",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": int(body["amount"]),
            "currency": "usd",
        }
        return 200, {}, json.dumps(pi)

    rsps.add_callback(responses.POST, f"{STRIPE}/v1/payment_intents", callback=create)
    rsps.add_callback(
        responses.GET, re.compile(rf"{STRIPE}/v1/payment_intents/pi_\d+"), callback=retrieve
    )
    return sent


def enrolled_in(actor, tuition=12000):
    program = ProgramFactory(name="Gymnastics")
    offering = make_offering(
        name="Rec Gym", tuition=tuition, program=program, capacity=5, start_date=next_weekday(0, 1)
    )
    enrollment.cart_add(family=actor.family, student_id=actor.student.pk, offering_id=offering.pk)
    order = orders.checkout(family=actor.family, use_account_credit=False)
    orders.order_confirm(order_id=order.pk)
    LedgerEntry.objects.create(  # paid at the desk: the family owes nothing before the transfer
        family=actor.family,
        kind="payment",
        description="Cash",
        amount=-tuition,
        currency="USD",
        source_key=f"test:paid:{order.pk}",
    )
    return Enrollment.objects.get(offering=offering), program


def approve_transfer(actor, source, target):
    preview = requests_services.transfer_preview(
        family=actor.family, enrollment_id=source.pk, offering_id=target.pk
    )
    req = requests_services.transfer_request(
        family=actor.family, enrollment_id=source.pk, offering_id=target.pk
    )
    assert req.price_difference == preview["difference"]
    requests_services.request_decide(request_id=req.pk, approve=True)
    return preview, req


# --- transfers move money ------------------------------------------------------------------


def test_a_transfer_to_a_dearer_class_is_an_invoice_autopay_collects(
    connected, django_capture_on_commit_callbacks
):
    source, program = enrolled_in(connected, tuition=12000)
    save_card(connected.family)
    target = make_offering(
        name="Team Gym", tuition=20000, program=program, weekdays=[3], start_date=next_weekday(3, 1)
    )
    balance_before = sum(
        LedgerEntry.objects.filter(family=connected.family).values_list("amount", flat=True)
    )
    with responses.RequestsMock() as rsps:
        sent = stripe_accepting(rsps)
        with django_capture_on_commit_callbacks(execute=True):
            preview, _ = approve_transfer(connected, source, target)
    difference = preview["difference"]
    assert difference > 0
    invoice = Order.objects.get(kind="adjustment")
    assert (invoice.total, invoice.expires_at) == (difference, None)
    assert list(invoice.lines.values_list("kind", "amount")) == [("transfer", difference)]
    charge = LedgerEntry.objects.get(order=invoice, kind="charge")
    assert charge.amount == difference and "Rec Gym to Team Gym" in charge.description
    # Autopay collected it from the saved card, off-session, with its own idempotency key.
    assert [(s["amount"], s["off_session"], s["payment_method"]) for s in sent] == [
        (str(difference), "true", "pm_1")
    ]
    autopay = AutopayCharge.objects.get(order=invoice)
    assert sent[0]["_key"] == f"alpha:autopay:{autopay.pk}:1"
    assert autopay.status == "succeeded"
    invoice.refresh_from_db()
    assert invoice.status == "confirmed"
    balance = sum(
        LedgerEntry.objects.filter(family=connected.family).values_list("amount", flat=True)
    )
    assert balance == balance_before  # charged and paid


def test_without_a_card_the_family_gets_a_link_to_pay_the_difference(
    connected, django_capture_on_commit_callbacks
):
    source, program = enrolled_in(connected, tuition=12000)
    target = make_offering(
        name="Team Gym", tuition=20000, program=program, weekdays=[3], start_date=next_weekday(3, 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        preview, _ = approve_transfer(connected, source, target)
    invoice = Order.objects.get(kind="adjustment")
    assert invoice.status == "awaiting_payment"
    assert AutopayCharge.objects.get(order=invoice).status == "needs_action"
    message = next(m for m in mail.outbox if "could not charge your card" in m.subject)
    # The order's page, where the family pays what is due (not the POST-only pay action).
    assert connected.tenant.url(f"/orders/{invoice.pk}/") in message.body
    ledger = connected.client().get(f"{API}/ledger?period=all").json()
    assert ledger["balance"] == preview["difference"]  # owed now; payable online
    listed = connected.client().get(f"{API}/orders/{invoice.pk}").json()
    assert (listed["kind"], listed["amount_due"], listed["expires_at"]) == (
        "adjustment",
        preview["difference"],
        None,
    )


def test_a_transfer_to_a_cheaper_class_credits_the_account(connected):
    source, program = enrolled_in(connected, tuition=20000)
    target = make_offering(
        name="Rec Gym Thu",
        tuition=8000,
        program=program,
        weekdays=[3],
        start_date=next_weekday(3, 1),
    )
    preview, req = approve_transfer(connected, source, target)
    assert preview["difference"] < 0
    credit = LedgerEntry.objects.get(source_key=f"transfer:{req.pk}")
    assert (credit.kind, credit.amount) == ("credit", preview["difference"])
    assert not Order.objects.filter(kind="adjustment").exists()
    assert tenders.credit_available(connected.family) == -preview["difference"]
    # The credit pays part of the next checkout.
    other = make_offering(
        name="Open gym", tuition=50000, weekdays=[4], start_date=next_weekday(4, 1)
    )
    enrollment.cart_add(
        family=connected.family, student_id=connected.student.pk, offering_id=other.pk
    )
    order = orders.checkout(family=connected.family)
    assert tenders.amount_due(order) == 50000 + preview["difference"]


def test_an_approved_transfer_posts_its_money_once(connected):
    source, program = enrolled_in(connected, tuition=20000)
    target = make_offering(
        name="B", tuition=8000, program=program, weekdays=[3], start_date=next_weekday(3, 1)
    )
    _, req = approve_transfer(connected, source, target)
    with pytest.raises(Exception) as excinfo:
        requests_services.request_decide(request_id=req.pk, approve=True)
    assert excinfo.value.code == "request_not_pending"
    assert LedgerEntry.objects.filter(source_key=f"transfer:{req.pk}").count() == 1


# --- required policies, every version -------------------------------------------------------


def add(actor, offering):
    return actor.client().post(
        f"{API}/cart/items", {"offering": offering.pk, "student": actor.student.pk}, format="json"
    )


def test_a_changed_policy_must_be_accepted_again_before_a_cart_add_or_a_checkout(family_a):
    waiver = Policy.objects.create(title="Waiver", body="v1 text", kind="waiver")
    PolicyAcceptance.objects.create(
        policy=waiver, version=1, family=family_a.family, guardian=family_a.guardian, signature="D"
    )
    offering = make_offering(tuition=0)
    assert add(family_a, offering).status_code == 201  # v1 accepted: fine
    waiver.body = "v2 text: new rules"
    policy_save(policy=waiver, text_changed=True)
    assert waiver.version == 2
    response = family_a.client().post(f"{API}/checkout", {}, format="json")
    assert_error(
        response,
        403,
        "policy_acceptance_required",
        "Please accept Waiver (version 2) before enrolling.",
    )
    assert response.json()["fields"]["policies"] == ["Waiver (version 2)"]
    assert not Order.objects.exists()
    assert Hold.objects.get().status == "active"  # nothing changed
    other = make_offering(tuition=0, weekdays=[3], start_date=next_weekday(3))
    assert_error(add(family_a, other), 403, "policy_acceptance_required")
    accepted = family_a.client().post(
        f"{API}/family/policies",
        {"policies": [{"policy": waiver.pk, "version": 2, "signature": "Dana Rivera"}]},
        format="json",
    )
    assert accepted.status_code in (200, 201), accepted.content
    assert family_a.client().post(f"{API}/checkout", {}, format="json").status_code == 201


def test_active_policies_are_read_once_per_process_and_a_change_is_seen_at_once(family_a):
    from django.test.utils import CaptureQueriesContext

    from portal.accounts.selectors import active_policies, policies_pending

    assert active_policies() == []
    with CaptureQueriesContext(connection) as ctx:
        assert policies_pending(family_a.family) == []
    assert len(ctx.captured_queries) == 0  # no policy: the copy answers, nothing is read
    offering = make_offering(tuition=0)
    waiver = Policy.objects.create(title="Waiver", body="v1", kind="waiver")  # signal: dropped
    assert [p.pk for p in active_policies()] == [waiver.pk]
    assert_error(add(family_a, offering), 403, "policy_acceptance_required")
    waiver.is_active = False
    waiver.save()
    assert add(family_a, offering).status_code == 201


def test_a_per_student_policy_is_asked_for_the_student_enrolling(family_a):
    Policy.objects.create(title="Medical release", body="...", scope="student")
    response = add(family_a, make_offering(tuition=0))
    assert_error(response, 403, "policy_acceptance_required")
    assert response.json()["fields"]["policies"] == ["Medical release (version 1) for Mia"]


def test_the_web_shows_which_policies_and_the_way_forward(family_a):
    Policy.objects.create(title="Rules", body="...")
    offering = make_offering(tuition=0)
    web = Client(HTTP_HOST=host_of(family_a.tenant))
    web.force_login(family_a.guardian.user)
    response = web.post("/cart/add/", {"offering": offering.pk, "student": family_a.student.pk})
    page = response.content.decode()
    assert response.status_code == 403
    assert "Rules (version 1)" in page
    assert 'href="/family/policies/"' in page and "Review and accept the policies" in page
    assert not Hold.objects.exists()


# --- a saved card for recurring tuition -----------------------------------------------------


def test_monthly_tuition_needs_a_saved_card_when_the_business_requires_one(connected):
    portal_settings_update(stored_payment_method_policy="required")
    monthly = make_offering(name="Team", tuition=9500, tuition_billing="monthly")
    assert add(connected, monthly).status_code == 201
    response = connected.client().post(f"{API}/checkout", {}, format="json")
    assert_error(response, 409, "payment_method_required")
    assert "Team bills monthly by autopay" in response.json()["message"]
    assert not Order.objects.exists()
    save_card(connected.family)
    assert connected.client().post(f"{API}/checkout", {}, format="json").status_code == 201


def test_term_tuition_and_optional_cards_need_no_saved_card(connected):
    portal_settings_update(stored_payment_method_policy="required")
    term = make_offering(name="Camp", tuition=9500)
    add(connected, term)
    assert connected.client().post(f"{API}/checkout", {}, format="json").status_code == 201
    portal_settings_update(stored_payment_method_policy="optional")
    monthly = make_offering(
        name="Team",
        tuition=9500,
        tuition_billing="monthly",
        weekdays=[3],
        start_date=next_weekday(3),
    )
    add(connected, monthly)
    assert connected.client().post(f"{API}/checkout", {}, format="json").status_code == 201


# --- paying the open balance in one step ----------------------------------------------------


def test_the_family_pays_its_open_balance_in_one_step(connected):
    """A month's tuition invoice and an old charge: one balance payment settles both, and
    autopay no longer collects the invoice."""
    save_card(connected.family)
    invoice = orders.invoice_create(
        family=connected.family,
        kind="tuition",
        lines=[Line("tuition", "Team — March", 9500)],
        idempotency_key="autopay:test",
        collect=True,
        period=next_weekday(0).replace(day=1),
    )
    LedgerEntry.objects.create(
        family=connected.family,
        kind="charge",
        description="Lost leotard",
        amount=2000,
        currency="USD",
        source_key="test:leotard",
    )
    assert connected.client().get(f"{API}/ledger").json()["balance"] == 11500
    method = SavedPaymentMethod.objects.get()
    with responses.RequestsMock() as rsps:
        sent = stripe_accepting(rsps)
        response = connected.client().post(
            f"{API}/balance/pay", {"payment_method": method.pk}, format="json"
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "succeeded" and response.json()["amount"] == 11500
    assert [s["amount"] for s in sent] == ["11500"]
    balance_order = Order.objects.get(kind="balance")
    assert balance_order.status == "confirmed"
    assert connected.client().get(f"{API}/ledger").json()["balance"] == 0
    invoice.refresh_from_db()
    assert invoice.status == "confirmed"  # settled by the balance payment
    assert AutopayCharge.objects.get(order=invoice).status == "succeeded"
    assert_error(
        connected.client().post(f"{API}/balance/pay", {}, format="json"), 409, "nothing_owed"
    )


def test_balance_pay_refuses_bad_input_and_strangers(connected, tenant_b):
    LedgerEntry.objects.create(
        family=connected.family,
        kind="charge",
        description="Fee",
        amount=2000,
        currency="USD",
        source_key="test:fee",
    )
    assert_error(
        connected.client().post(f"{API}/balance/pay", {"payment_method": "x"}, format="json"),
        400,
        "invalid_input",
    )
    assert_error(
        connected.client().post(f"{API}/balance/pay", {"payment_method": 999}, format="json"),
        404,
        "payment_method_not_found",
    )
    assert client_for(connected.tenant).post(f"{API}/balance/pay").status_code in (401, 403)
    assert_cross_tenant_denied(
        credentials_client=connected.client(),
        target=tenant_b,
        method="post",
        path=f"{API}/balance/pay",
        data={},
    )
    staff = make_actor(connected.tenant, email="desk@alpha.test", staff=True)
    assert staff.client().post(f"{API}/balance/pay").status_code == 403
    connection.set_tenant(connected.tenant)
    assert not Order.objects.filter(kind="balance", status="confirmed").exists()


def test_checkout_on_the_web_names_the_rule_and_the_way_forward(connected):
    """Each refusal at checkout says what and why, and links to where the family fixes it."""
    web = Client(HTTP_HOST=host_of(connected.tenant))
    web.force_login(connected.guardian.user)
    portal_settings_update(stored_payment_method_policy="required")
    monthly = make_offering(name="Team", tuition=9500, tuition_billing="monthly")
    add(connected, monthly)
    page = web.post("/checkout/")
    assert page.status_code == 409
    text = page.content.decode()
    assert "Team bills monthly by autopay" in text and "Save a card" in text
    assert 'href="/billing/payment-methods/add/"' in text
    save_card(connected.family)
    Policy.objects.create(title="Code of conduct", body="...")
    page = web.post("/checkout/")
    text = page.content.decode()
    assert page.status_code == 403 and "Code of conduct (version 1)" in text
    assert "Review and accept the policies" in text
    assert not Order.objects.exists()
