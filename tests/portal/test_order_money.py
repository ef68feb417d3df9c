"""An order's money has one owner (portal.orders): the total is the sum of its lines; account
credit and gift certificates are tenders, never lines; what a card pays is total - tenders.

The property test checks the invariants over random carts, discount schedules, account credit
and gift certificates, through the real services (Stripe's HTTP mocked with `responses`), both
when the order is paid and when it lapses."""

from __future__ import annotations

import itertools
import json
import re
from datetime import date, time, timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection, transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.process_cache import tenant_config
from portal.accounts.models import Family, Student
from portal.billing.models import LedgerEntry, SavedPaymentMethod, StripeCustomer
from portal.catalog.models import Offering, Program
from portal.config.services import portal_settings_update
from portal.enrollment import services as enrollment
from portal.enrollment.models import Enrollment, Order
from portal.orders import payments, tenders
from portal.orders import services as orders
from portal.orders.models import OrderTender
from portal.store.models import GiftCertificate
from tenants.models import Tenant
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
STRIPE = "https://api.stripe.com"
API = "/api/v1"
_ids = itertools.count(1)


@pytest.fixture
def money_tenant(tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(stripe_account_id="acct_alpha")
    tenant_a.stripe_account_id = "acct_alpha"
    connection.set_tenant(tenant_a)
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_platform", STRIPE_API_BASE="", STRIPE_MAX_NETWORK_RETRIES=0
    ):
        yield tenant_a
    connection.set_schema_to_public()


def _family(n_students: int) -> tuple[Family, list[Student]]:
    n = next(_ids)
    family = Family.objects.create(name=f"Money {n}")
    students = [
        Student.objects.create(
            family=family,
            first_name=f"Kid{n}x{i}",
            last_name="Money",
            date_of_birth=date(2015, 1, 1) + timedelta(days=400 * i),
        )
        for i in range(n_students)
    ]
    StripeCustomer.objects.create(family=family, customer_id=f"cus_{n}")
    SavedPaymentMethod.objects.create(
        family=family, stripe_payment_method_id=f"pm_{n}", last4="4242", is_default=True
    )
    return family, students


def _offering(index: int, tuition: int, fee: int) -> Offering:
    program = Program.objects.get_or_create(name="Money")[0]
    start = timezone.localdate() + timedelta(days=7 + index)  # one weekday each: no clashes
    return Offering.objects.create(
        name=f"Class {index}",
        program=program,
        capacity=10,
        start_date=start,
        end_date=start + timedelta(weeks=8),
        start_time=time(16),
        end_time=time(17),
        weekdays=[start.weekday()],
        tuition=tuition,
        registration_fee=fee,
    )


def _stripe_paying(rsps: responses.RequestsMock) -> None:
    """A Stripe that accepts every saved-card charge for the amount asked."""
    intents: dict[str, dict] = {}

    def create(request):
        body = {k: v[0] for k, v in parse_qs(request.body).items()}
        pi = {
            "id": f"pi_{next(_ids)}",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": int(body["amount"]),
            "currency": "usd",
            "client_secret": "secret",
        }
        intents[pi["id"]] = pi
        return 200, {}, json.dumps(pi)

    def retrieve(request):
        return 200, {}, json.dumps(intents[request.url.rsplit("/", 1)[-1]])

    rsps.add_callback(responses.POST, f"{STRIPE}/v1/payment_intents", callback=create)
    rsps.add_callback(
        responses.GET, re.compile(rf"{STRIPE}/v1/payment_intents/pi_\d+"), callback=retrieve
    )


carts = st.fixed_dictionaries(
    {
        "offerings": st.lists(
            st.tuples(
                st.integers(0, 300).map(lambda n: n * 100),  # tuition
                st.sampled_from([0, 0, 2500, 4000]),  # registration fee
            ),
            min_size=1,
            max_size=4,
        ),
        "students": st.integers(1, 3),
        "picks": st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), min_size=1, max_size=6),
        "sibling": st.sampled_from(["", "0,10", "0,10,20", "5,5,5"]),
        "multi": st.sampled_from(["", "0,10", "0,15,25"]),
        "fee_scope": st.sampled_from(["family", "student"]),
        "credit": st.sampled_from([0, 0, 500, 2500, 9999, 100000]),
        "gift": st.one_of(st.none(), st.integers(1, 600).map(lambda n: n * 100)),
        "use_credit": st.booleans(),
        "pay": st.booleans(),
    }
)


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cart=carts)
def test_order_money_invariants_hold_for_any_cart(money_tenant, cart):
    with transaction.atomic():
        tenant_config.clear()
        _check_one_cart(cart)
        transaction.set_rollback(True)
    tenant_config.clear()


def _check_one_cart(cart: dict) -> None:
    portal_settings_update(
        sibling_discount_percents=cart["sibling"],
        multi_class_discount_percents=cart["multi"],
        registration_fee_scope=cart["fee_scope"],
        stored_payment_method_policy="optional",
    )
    family, students = _family(cart["students"])
    offerings = [_offering(i, t, f) for i, (t, f) in enumerate(cart["offerings"])]
    picks = {(students[s % len(students)], offerings[o % len(offerings)]) for s, o in cart["picks"]}
    for student, offering in picks:
        enrollment.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
    if cart["credit"]:
        LedgerEntry.objects.create(
            family=family,
            kind="credit",
            description="Credit",
            amount=-cart["credit"],
            currency="USD",
            source_key=f"test:credit:{family.pk}",
        )
    balance_before = -cart["credit"]
    credit_before = tenders.credit_available(family)
    gift = None
    if cart["gift"]:
        gift = GiftCertificate.objects.create(
            initial_amount=cart["gift"],
            balance=cart["gift"],
            currency="USD",
            recipient_name="R",
            recipient_email="r@example.com",
        )

    order = orders.checkout(
        family=family,
        gift_certificate_code=gift.code if gift else "",
        use_account_credit=cart["use_credit"],
    )

    lines = list(order.lines.values_list("amount", flat=True))
    assert order.total == sum(lines) == order.subtotal + order.discount_total
    assert order.subtotal == sum(a for a in lines if a > 0)
    assert order.discount_total == sum(a for a in lines if a < 0) <= 0
    assert order.total >= 0
    live = list(OrderTender.objects.filter(order=order, status__in=OrderTender.LIVE))
    assert all(t.amount > 0 for t in live)
    due = tenders.amount_due(order)
    assert due == order.total - sum(t.amount for t in live) >= 0
    gift_used = sum(t.amount for t in live if t.kind == "gift_certificate")
    credit_used = sum(t.amount for t in live if t.kind == "account_credit")
    assert credit_used <= credit_before
    assert credit_used == 0 or cart["use_credit"]
    if gift:
        gift.refresh_from_db()
        assert gift.balance == cart["gift"] - gift_used >= 0
        assert gift_used == min(cart["gift"], order.total)
    if due == 0:
        assert order.status == Order.Status.CONFIRMED
    elif cart["pay"]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            _stripe_paying(rsps)
            method = SavedPaymentMethod.objects.get(family=family)
            payment = payments.order_pay(
                family=family, order_id=order.pk, saved_method_id=method.pk
            )
        assert payment.amount == due and payment.status == "succeeded"
    else:
        Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        orders.order_expire(order_id=order.pk)
    order.refresh_from_db()

    balance = LedgerEntry.objects.filter(family=family).aggregate(s=Sum("amount"))["s"] or 0
    if order.status == Order.Status.CONFIRMED:
        assert not Enrollment.objects.filter(order=order, status="reserved").exists()
        # The charges are the lines; a gift certificate is a credit; the card paid what was
        # due; account credit needed no entry: the charges absorbed it.
        ours = LedgerEntry.objects.filter(order=order)
        assert sum(e.amount for e in ours if e.kind in ("charge", "discount")) == order.total
        assert sum(e.amount for e in ours if e.kind == "credit") == -gift_used
        assert sum(e.amount for e in ours if e.kind == "payment") == -due
        assert balance == balance_before + credit_used
        assert balance <= 0  # nothing is owed; any credit left stays the family's
        assert all(t.status == "used" for t in OrderTender.objects.filter(order=order))
    else:
        assert order.status == Order.Status.EXPIRED
        assert balance == balance_before  # nothing was charged
        assert not OrderTender.objects.filter(order=order, status__in=OrderTender.LIVE).exists()
        assert tenders.credit_available(family) == credit_before
        if gift:
            gift.refresh_from_db()
            assert gift.balance == cart["gift"]
        assert not Enrollment.objects.filter(order=order, status="reserved").exists()


# --- the reported case -------------------------------------------------------------------------


def test_credit_and_a_gift_certificate_are_tenders_not_lines(money_tenant):
    """The reported case: a 120.00 order with 25.00 of account credit and a 50.00 gift
    certificate. Two signal handlers used to rewrite the total from stale copies (lines summing
    to 45.00, total 70.00, depending on INSTALLED_APPS); now the total is 120.00, the lines sum
    to it, and the card pays 45.00."""
    portal_settings_update(sibling_discount_percents="", multi_class_discount_percents="")
    family, (student,) = _family(1)
    offering = _offering(0, 12000, 0)
    LedgerEntry.objects.create(
        family=family,
        kind="credit",
        description="Credit",
        amount=-2500,
        currency="USD",
        source_key="test:credit-25",
    )
    gift = GiftCertificate.objects.create(
        initial_amount=5000,
        balance=5000,
        currency="USD",
        recipient_name="R",
        recipient_email="r@example.com",
    )
    enrollment.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
    order = orders.checkout(family=family, gift_certificate_code=gift.code)
    assert (order.subtotal, order.discount_total, order.total) == (12000, 0, 12000)
    assert list(order.lines.values_list("kind", "amount")) == [("tuition", 12000)]
    assert list(order.tenders.values_list("kind", "amount")) == [
        ("gift_certificate", 5000),
        ("account_credit", 2500),
    ]
    assert tenders.amount_due(order) == 4500


def test_the_api_shows_tenders_and_what_is_due(money_tenant):
    from tests.helpers import client_for

    family, (student,) = _family(1)
    from kernel.users.models import User
    from kernel.users.services import api_token_issue
    from portal.accounts.models import Guardian

    user = User.objects.create_user(email="money@alpha.test", password="x-password-1")
    Guardian.objects.create(
        family=family, user=user, first_name="M", last_name="O", email=user.email, is_primary=True
    )
    _, token = api_token_issue(user=user, name="tests")
    LedgerEntry.objects.create(
        family=family,
        kind="credit",
        description="Credit",
        amount=-1000,
        currency="USD",
        source_key="test:credit-10",
    )
    offering = _offering(0, 6000, 0)
    client = client_for(money_tenant, token=token)
    added = client.post(
        f"{API}/cart/items", {"offering": offering.pk, "student": student.pk}, format="json"
    )
    assert added.status_code == 201, added.content
    no_credit = client.post(f"{API}/checkout", {"use_account_credit": False}, format="json")
    body = no_credit.json()
    assert (body["total"], body["amount_due"], body["tenders"]) == (6000, 6000, [])
    assert body["kind"] == "registration"
    client.delete(f"{API}/cart")


def test_a_wrong_gift_code_at_checkout_changes_nothing(money_tenant):
    family, (student,) = _family(1)
    offering = _offering(0, 6000, 0)
    hold = enrollment.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
    with pytest.raises(Exception) as excinfo:
        orders.checkout(family=family, gift_certificate_code="NOPE-NOPE-NOPE-NOPE")
    assert excinfo.value.code == "gift_certificate_invalid"
    assert not Order.objects.filter(family=family).exists()
    hold.refresh_from_db()
    assert hold.status == "active"
    offering.refresh_from_db()
    assert offering.seats_taken == 1


def test_checkout_on_the_web_refuses_an_empty_certificate_with_its_field(money_tenant):
    from django.test import Client

    from kernel.users.models import User
    from portal.accounts.models import Guardian
    from tests.helpers import host_of

    family, (student,) = _family(1)
    user = User.objects.create_user(email="web-money@alpha.test", password="x-password-1")
    Guardian.objects.create(
        family=family, user=user, first_name="W", last_name="M", email=user.email, is_primary=True
    )
    empty = GiftCertificate.objects.create(
        initial_amount=1000,
        balance=0,
        currency="USD",
        recipient_name="R",
        recipient_email="r@example.com",
    )
    offering = _offering(0, 6000, 0)
    enrollment.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
    web = Client(HTTP_HOST=host_of(money_tenant))
    web.force_login(user)
    response = web.post("/checkout/", {"gift_certificate_code": empty.code})
    assert response.status_code == 409
    assert "This gift certificate has no balance left." in response.content.decode()
    assert not Order.objects.filter(family=family).exists()


def test_api_checkout_refuses_bad_input_with_codes(money_tenant):
    from kernel.users.models import User
    from kernel.users.services import api_token_issue
    from portal.accounts.models import Guardian
    from tests.helpers import client_for

    family, (student,) = _family(1)
    user = User.objects.create_user(email="bad-money@alpha.test", password="x-password-1")
    Guardian.objects.create(
        family=family, user=user, first_name="B", last_name="M", email=user.email, is_primary=True
    )
    _, token = api_token_issue(user=user, name="tests")
    client = client_for(money_tenant, token=token)
    enrollment.cart_add(family=family, student_id=student.pk, offering_id=_offering(0, 100, 0).pk)
    assert_error(
        client.post(f"{API}/checkout", {"use_account_credit": "maybe"}, format="json"),
        400,
        "invalid_input",
    )
    assert_error(
        client.post(f"{API}/checkout", {"gift_certificate_code": "x" * 41}, format="json"),
        400,
        "invalid_input",
    )
    assert not Order.objects.filter(family=family).exists()
