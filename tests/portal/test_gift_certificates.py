from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.config.services import portal_settings_update
from portal.enrollment import services as enrollment
from portal.enrollment.models import Order
from portal.enrollment.tasks import expire_due_task
from portal.orders import services as orders
from portal.orders.models import OrderTender
from portal.orders.tasks import orders_expire_due_task
from portal.store.models import GiftCertificate, normalize_code
from portal.store.services import gift_certificate_issue
from tests.helpers import assert_error, client_for, make_actor
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def store_on(family_a):
    portal_settings_update(gift_certificates_enabled=True)
    cache.delete(f"store:gift-lookups:{family_a.family.pk}")
    connection.set_tenant(family_a.tenant)
    return family_a


def certificate(amount=5000, **kwargs) -> GiftCertificate:
    return GiftCertificate.objects.create(
        initial_amount=amount,
        balance=amount,
        currency="USD",
        recipient_name="Ana",
        recipient_email="ana@example.com",
        **kwargs,
    )


def test_buying_a_certificate_is_an_order_and_paying_it_emails_the_code(
    store_on, django_capture_on_commit_callbacks
):
    response = store_on.client().post(
        f"{API}/store/gift-certificates",
        {
            "amount": 5000,
            "recipient_name": "Grandma Rose",
            "recipient_email": "rose@example.com",
            "message": "Happy birthday!",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["status"], order["total"]) == ("awaiting_payment", 5000)
    assert [line["kind"] for line in order["lines"]] == ["gift_certificate"]
    gift = GiftCertificate.objects.get()
    assert gift.status == "awaiting_payment"
    with django_capture_on_commit_callbacks(execute=True):
        orders.order_confirm(order_id=order["id"])
    gift.refresh_from_db()
    assert gift.status == "active"
    to_rose = next(m for m in mail.outbox if m.to == ["rose@example.com"])
    assert gift.code in to_rose.body and "Happy birthday!" in to_rose.body
    assert to_rose.subject == "A 50.00 USD gift certificate for Alpha Gymnastics"
    listed = store_on.client().get(f"{API}/store/gift-certificates").json()
    assert listed[0]["code"] == gift.code and listed[0]["balance"] == 5000


@pytest.mark.parametrize("amount", [5, 10_000_000, 999])
def test_amounts_outside_the_offer_are_refused(amount, store_on):
    response = store_on.client().post(
        f"{API}/store/gift-certificates",
        {"amount": amount, "recipient_name": "A", "recipient_email": "a@example.com"},
        format="json",
    )
    assert_error(response, 400, "gift_amount_invalid")
    assert not GiftCertificate.objects.exists() and not Order.objects.exists()


def test_the_store_can_be_off(family_a):
    response = family_a.client().post(
        f"{API}/store/gift-certificates",
        {"amount": 5000, "recipient_name": "A", "recipient_email": "a@example.com"},
        format="json",
    )
    assert_error(response, 403, "gift_certificates_disabled")


def checkout_with(actor, code, tuition=12000):
    offering = make_offering(tuition=tuition, registration_fee=0)
    enrollment.cart_add(family=actor.family, student_id=actor.student.pk, offering_id=offering.pk)
    return actor.client().post(f"{API}/checkout", {"gift_certificate_code": code}, format="json")


def test_a_certificate_pays_part_of_an_order_and_returns_if_it_lapses(store_on):
    gift = certificate(5000)
    response = checkout_with(store_on, gift.code.lower().replace("-", " "))
    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["total"], order["amount_due"]) == (12000, 7000)
    assert [line["amount"] for line in order["lines"]] == [12000]  # a tender is never a line
    assert [(t["kind"], t["amount"], t["status"]) for t in order["tenders"]] == [
        ("gift_certificate", 5000, "reserved")
    ]
    gift.refresh_from_db()
    assert gift.balance == 0
    Order.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expire_due_task()
    orders_expire_due_task()
    gift.refresh_from_db()
    assert gift.balance == 5000
    assert OrderTender.objects.get().status == "released"
    assert Order.objects.get().status == "expired"


def test_a_certificate_covering_everything_confirms_at_once(store_on):
    gift = certificate(20000)
    order = checkout_with(store_on, gift.code).json()
    assert (order["status"], order["total"], order["amount_due"]) == ("confirmed", 12000, 0)
    gift.refresh_from_db()
    assert gift.balance == 8000
    assert OrderTender.objects.get().status == "used"
    ledger = store_on.client().get(f"{API}/ledger?period=all").json()
    assert [(e["kind"], e["amount"]) for e in ledger["entries"]] == [
        ("charge", 12000),
        ("credit", -12000),
    ]


def test_wrong_void_empty_and_guessed_codes(store_on):
    assert_error(
        checkout_with(store_on, "AAAA-BBBB-CCCC-DDDD"),
        400,
        "gift_certificate_invalid",
        "That gift certificate code is not valid.",
    )
    assert not Order.objects.exists()
    void = certificate(5000, status="void")
    assert_error(
        store_on.client().get(f"{API}/store/gift-certificates/balance?code={void.code}"),
        400,
        "gift_certificate_invalid",
    )
    empty = certificate(5000)
    GiftCertificate.objects.filter(pk=empty.pk).update(balance=0)
    assert_error(
        store_on.client().post(
            f"{API}/checkout", {"gift_certificate_code": empty.code}, format="json"
        ),
        409,
        "gift_certificate_empty",
    )
    for _ in range(3):
        store_on.client().get(f"{API}/store/gift-certificates/balance?code=ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    good = certificate(5000)
    assert_error(
        store_on.client().get(f"{API}/store/gift-certificates/balance?code={good.code}"),
        429,
        "too_many_attempts",
    )


def test_a_code_from_another_business_is_not_valid_here(store_on, tenant_b):
    with tenant_context(tenant_b):
        foreign = certificate(5000)
    connection.set_tenant(store_on.tenant)
    assert_error(
        store_on.client().get(f"{API}/store/gift-certificates/balance?code={foreign.code}"),
        400,
        "gift_certificate_invalid",
    )


def test_codes_are_unguessable_and_normalised(in_tenant_a):
    codes = {certificate().code for _ in range(50)}
    assert len(codes) == 50
    assert all(len(code) == 19 and code.count("-") == 3 for code in codes)
    assert normalize_code("abcd efgh-jkmn pqrs") == "ABCD-EFGH-JKMN-PQRS"


def test_staff_issue_and_void_in_the_admin(
    store_on, in_tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        issued = gift_certificate_issue(
            amount=2500, recipient_name="Winner", recipient_email="winner@example.com"
        )
    assert issued.issued_by_staff and issued.status == "active"
    assert any(m.to == ["winner@example.com"] and issued.code in m.body for m in mail.outbox)
    staff = make_actor(in_tenant_a, email="desk@alpha.test", staff=True, superuser=True)
    client = client_for(in_tenant_a)
    with tenant_context(in_tenant_a):
        client.force_login(staff.user)
    response = client.post(
        "/admin/portal_store/giftcertificate/", {"action": "void", "_selected_action": [issued.pk]}
    )
    assert response.status_code == 302
    connection.set_tenant(in_tenant_a)
    assert GiftCertificate.objects.get(pk=issued.pk).status == "void"


def test_an_unpaid_gift_order_lapses(store_on):
    response = store_on.client().post(
        f"{API}/store/gift-certificates",
        {"amount": 5000, "recipient_name": "A", "recipient_email": "a@example.com"},
        format="json",
    )
    Order.objects.filter(pk=response.json()["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    orders_expire_due_task()
    orders_expire_due_task()
    assert Order.objects.get().status == "expired"
    assert GiftCertificate.objects.get().status == "void"  # never paid, never usable


VISITOR = {
    "buyer_name": "Sam Visitor",
    "buyer_email": "sam@example.com",
    "amount": 2500,
    "recipient_name": "Kim",
    "recipient_email": "kim@example.com",
}


def test_visitors_buy_only_when_allowed(store_on):
    response = client_for(store_on.tenant).post(
        f"{API}/store/gift-certificates/visitor", VISITOR, format="json"
    )
    assert_error(response, 403, "visitor_purchase_disabled")
    assert not Order.objects.exists()


def test_a_visitor_buys_and_pays_a_certificate(store_on, django_capture_on_commit_callbacks):
    import responses as mock
    from django.test import override_settings

    from portal.accounts.models import Family
    from tenants.models import Tenant

    portal_settings_update(gift_certificates_visitors_may_buy=True)
    Tenant.objects.filter(pk=store_on.tenant.pk).update(stripe_account_id="acct_alpha")
    store_on.tenant.stripe_account_id = "acct_alpha"
    connection.set_tenant(store_on.tenant)
    pi = {
        "id": "pi_v",
        "object": "payment_intent",
        "client_secret": "pi_v_secret",
        "status": "requires_payment_method",
        "amount": 2500,
        "currency": "usd",
    }
    with (
        override_settings(STRIPE_SECRET_KEY="sk_test_x", STRIPE_MAX_NETWORK_RETRIES=0),
        mock.RequestsMock() as rsps,
    ):
        rsps.post("https://api.stripe.com/v1/payment_intents", json=pi)
        response = client_for(store_on.tenant).post(
            f"{API}/store/gift-certificates/visitor", VISITOR, format="json"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["payment"]["client_secret"] == "pi_v_secret"
        assert body["order"]["total"] == 2500
        guest = Family.objects.get(is_guest=True)
        assert guest.guardians.get().user is None
        rsps.get(
            "https://api.stripe.com/v1/payment_intents/pi_v", json={**pi, "status": "succeeded"}
        )
        with django_capture_on_commit_callbacks(execute=True):
            status = client_for(store_on.tenant).get(
                f"{API}/store/gift-certificates/visitor/status?token={body['status_token']}"
            )
        assert status.json() == {"order_status": "confirmed"}
    connection.set_tenant(store_on.tenant)
    gift = GiftCertificate.objects.get()
    assert gift.status == "active"
    assert any(m.to == ["kim@example.com"] and gift.code in m.body for m in mail.outbox)
    bad = client_for(store_on.tenant).get(
        f"{API}/store/gift-certificates/visitor/status?token=forged"
    )
    assert_error(bad, 404, "invalid_token")
