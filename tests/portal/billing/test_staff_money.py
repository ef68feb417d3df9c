"""Staff money actions on a family's account (portal.billing.staff): charges, credits,
offline payments, refunds and receipts. Stripe's HTTP is mocked with `responses`."""

from datetime import timedelta

import pytest
import responses
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from kernel.errors import ApplicationError
from portal.billing import staff
from portal.billing.models import LedgerEntry, Payment, Refund, StaffPosting
from portal.billing.money import amount_format, amount_parse
from portal.billing.selectors import ledger_get
from portal.privacy.models import AuditEntry
from tenants.models import Tenant
from tests.factories import GuardianFactory, UserFactory
from tests.portal.billing_helpers import STRIPE

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(in_tenant_a):
    return UserFactory(email="desk@alpha.test", is_staff=True)


def _nothing_posted():
    assert LedgerEntry.objects.count() == 0
    assert StaffPosting.objects.count() == 0
    assert AuditEntry.objects.filter(action__startswith=("staff_")).count() == 0


@pytest.mark.parametrize(
    "raw, minor",
    [("12.50", 1250), ("12.5", 1250), ("12", 1200), (" 0.01 ", 1), ("1000000.00", 100_000_000)],
)
def test_amounts_are_typed_in_the_currency(raw, minor):
    assert amount_parse(raw, currency="USD") == minor
    assert amount_format(minor, currency="USD") == f"{minor // 100}.{minor % 100:02d}"


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "“” is not an amount; write it like 12.50."),
        ("12,50", "“12,50” is not an amount; write it like 12.50."),
        ("-5", "“-5” is not an amount; write it like 12.50."),
        ("1e3", "“1e3” is not an amount; write it like 12.50."),
        ("12.505", "USD amounts have at most 2 decimals."),
        ("0.00", "The amount must be more than zero."),
        ("1000000.01", "At most 1000000.00 at once."),
        ("NaN", "“NaN” is not an amount; write it like 12.50."),
        (None, "“” is not an amount; write it like 12.50."),
        (True, "“” is not an amount; write it like 12.50."),
        ("12\x00", "“12\x00” is not an amount; write it like 12.50."),
    ],
)
def test_bad_amounts_are_refused_with_a_stable_code(raw, message):
    with pytest.raises(ApplicationError) as caught:
        amount_parse(raw, currency="USD")
    assert (caught.value.code, caught.value.message) == ("invalid_amount", message)
    assert caught.value.fields == {"amount": [message]}


def test_zero_decimal_currencies_have_no_cents():
    assert amount_parse("1200", currency="JPY") == 1200
    assert amount_format(1200, currency="JPY") == "1200"
    with pytest.raises(ApplicationError):
        amount_parse("12.5", currency="JPY")


def test_charge_credit_and_cash_payment_move_the_balance(family_a, clerk):
    family = family_a.family
    charge = staff.ledger_charge_post(
        family_id=family.pk, amount=4500, description="Leotard", note="size 8", by=clerk
    )
    credit = staff.ledger_credit_post(family_id=family.pk, amount=1000, by=clerk)
    cash = staff.offline_payment_record(
        family_id=family.pk,
        amount=2000,
        method="cheque",
        reference="#1042",
        note="left at the desk",
        by=clerk,
    )
    ledger = ledger_get(family=family, period="all")
    assert [(e["kind"], e["amount"], e["description"]) for e in ledger["entries"]] == [
        ("charge", 4500, "Leotard"),
        ("credit", -1000, "Account credit"),
        ("payment", -2000, "Cheque payment (#1042)"),
    ]
    assert ledger["balance"] == 1500
    assert (cash.kind, cash.method, cash.reference, cash.note) == (
        "payment",
        "cheque",
        "#1042",
        "left at the desk",
    )
    assert charge.posted_by_id == clerk.pk and charge.currency == "USD"
    audits = AuditEntry.objects.filter(object_type="portal_billing.staffposting").order_by("pk")
    assert [(a.action, a.actor_email, a.family_id) for a in audits] == [
        ("staff_charge", "desk@alpha.test", family.pk),
        ("staff_credit", "desk@alpha.test", family.pk),
        ("offline_payment", "desk@alpha.test", family.pk),
    ]
    assert audits[2].fields["reference"] == "#1042" and audits[2].fields["amount"] == 2000
    assert credit.ledger_entry.source_key.startswith("staff:credit:")


def test_the_same_idempotency_key_posts_once(family_a, clerk):
    first = staff.offline_payment_record(
        family_id=family_a.family.pk, amount=2000, method="cash", idempotency_key="k1", by=clerk
    )
    again = staff.offline_payment_record(
        family_id=family_a.family.pk, amount=2000, method="cash", idempotency_key="k1", by=clerk
    )
    assert again.pk == first.pk and LedgerEntry.objects.count() == 1
    with pytest.raises(ApplicationError) as caught:
        staff.offline_payment_record(
            family_id=family_a.family.pk, amount=9999, method="cash", idempotency_key="k1"
        )
    assert (caught.value.code, caught.value.status) == ("idempotency_key_reused", 409)
    assert LedgerEntry.objects.count() == 1


CHARGE, PAY, CREDIT = (
    staff.ledger_charge_post,
    staff.offline_payment_record,
    staff.ledger_credit_post,
)
BAD_INPUT = [
    (CHARGE, {"amount": 0, "description": "x"}, "invalid_amount", "amount"),
    (CHARGE, {"amount": -5, "description": "x"}, "invalid_amount", "amount"),
    (CHARGE, {"amount": 10**12, "description": "x"}, "invalid_amount", "amount"),
    (CHARGE, {"amount": True, "description": "x"}, "invalid_amount", "amount"),
    (CHARGE, {"amount": 100, "description": "  "}, "invalid_input", "description"),
    (CHARGE, {"amount": 100, "description": "x" * 256}, "invalid_input", "description"),
    (CHARGE, {"amount": 100, "description": "a\x00b"}, "invalid_input", "description"),
    (PAY, {"amount": 100, "method": "bitcoin"}, "invalid_input", "method"),
    (PAY, {"amount": 100, "method": ""}, "invalid_input", "method"),
    (PAY, {"amount": 100, "method": "cash", "reference": "r" * 101}, "invalid_input", "reference"),
    (CREDIT, {"amount": 100, "note": "n" * 2001}, "invalid_input", "note"),
]


@pytest.mark.parametrize("service, kwargs, code, field", BAD_INPUT)
def test_bad_input_changes_nothing(family_a, service, kwargs, code, field):
    with pytest.raises(ApplicationError) as caught:
        service(family_id=family_a.family.pk, **kwargs)
    assert caught.value.code == code and field in caught.value.fields
    _nothing_posted()


def test_a_family_of_another_business_is_not_found(family_a, tenant_b):
    connection.set_tenant(tenant_b)
    with pytest.raises(ApplicationError) as caught:
        staff.ledger_charge_post(family_id=family_a.family.pk, amount=100, description="Fee")
    assert (caught.value.code, caught.value.status) == ("family_not_found", 404)
    assert LedgerEntry.objects.count() == 0
    connection.set_tenant(family_a.tenant)
    _nothing_posted()


@pytest.fixture
def paid(family_a):
    """A 120.00 card payment of family A that succeeded, on a connected Stripe account."""
    from portal.enrollment.models import Order

    Tenant.objects.filter(pk=family_a.tenant.pk).update(stripe_account_id="acct_alpha")
    family_a.tenant.stripe_account_id = "acct_alpha"
    connection.set_tenant(family_a.tenant)
    order = Order.objects.create(
        family=family_a.family,
        currency="USD",
        subtotal=12000,
        total=12000,
        idempotency_key="o1",
        status="confirmed",
    )
    return Payment.objects.create(
        family=family_a.family,
        order=order,
        amount=12000,
        currency="USD",
        status="succeeded",
        stripe_payment_intent_id="pi_paid",
        succeeded_at=timezone.now(),
    )


@responses.activate
@override_settings(STRIPE_SECRET_KEY="sk_test_platform", STRIPE_MAX_NETWORK_RETRIES=0)
def test_a_partial_refund_then_the_rest_never_more(paid, clerk):
    responses.post(f"{STRIPE}/v1/refunds", json={"id": "re_1", "object": "refund"})
    payment = staff.staff_payment_refund(
        family_id=paid.family_id, payment_id=paid.pk, amount=4000, reason="Sick", by=clerk
    )
    assert payment.amount_refunded == 4000
    call = responses.calls[0].request
    assert call.headers["Stripe-Account"] == "acct_alpha"
    assert "amount=4000" in call.body and "payment_intent=pi_paid" in call.body
    with pytest.raises(ApplicationError) as caught:
        staff.staff_payment_refund(
            family_id=paid.family_id, payment_id=paid.pk, amount=8001, by=clerk
        )
    assert caught.value.code == "refund_too_large"
    assert caught.value.message == "At most 80.00 USD can be refunded on this payment."
    assert len(responses.calls) == 1 and Refund.objects.count() == 1
    responses.post(f"{STRIPE}/v1/refunds", json={"id": "re_2", "object": "refund"})
    payment = staff.staff_payment_refund(
        family_id=paid.family_id, payment_id=paid.pk, amount=None, by=clerk
    )
    assert payment.amount_refunded == 12000
    assert list(LedgerEntry.objects.filter(kind="refund").values_list("amount", flat=True)) == [
        4000,
        8000,
    ]
    refunds = AuditEntry.objects.filter(action="refund").order_by("pk")  # the refused one: none
    assert [a.fields["amount"] for a in refunds] == [4000, 8000]
    assert {a.actor_email for a in refunds} == {"desk@alpha.test"}


@responses.activate
@override_settings(STRIPE_SECRET_KEY="sk_test_platform", STRIPE_MAX_NETWORK_RETRIES=0)
def test_a_refund_stripe_refuses_is_recorded_failed_and_audited(paid, clerk):
    responses.post(
        f"{STRIPE}/v1/refunds",
        status=400,
        json={"error": {"type": "invalid_request_error", "message": "Charge already refunded."}},
    )
    with pytest.raises(ApplicationError) as caught:
        staff.staff_payment_refund(
            family_id=paid.family_id, payment_id=paid.pk, amount=500, by=clerk
        )
    assert caught.value.status == 502
    assert Refund.objects.get().status == "failed"
    paid.refresh_from_db()
    assert paid.amount_refunded == 0 and not LedgerEntry.objects.filter(kind="refund").exists()
    (audit,) = AuditEntry.objects.filter(action="refund_failed")
    assert audit.fields["code"] == "payment_provider_error"


def test_a_refund_of_another_familys_payment_is_not_found(paid):
    other = GuardianFactory(email="other@alpha.test").family
    with pytest.raises(ApplicationError) as caught:
        staff.staff_payment_refund(family_id=other.pk, payment_id=paid.pk, amount=100)
    assert (caught.value.code, caught.value.status) == ("payment_not_found", 404)
    assert Refund.objects.count() == 0


def test_receipts_are_emailed_again_after_commit(
    family_a, clerk, django_capture_on_commit_callbacks
):
    cash = staff.offline_payment_record(
        family_id=family_a.family.pk, amount=2550, method="cash", by=clerk
    )
    LedgerEntry.objects.filter(pk=cash.ledger_entry_id).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        staff.receipt_resend(family_id=family_a.family.pk, entry_id=cash.ledger_entry_id, by=clerk)
    assert callbacks  # sent only once the transaction commits
    (message,) = mail.outbox
    assert message.to == ["parent@alpha.test"]
    assert message.subject == f"Your receipt from {family_a.tenant.name}"
    assert "Amount: 25.50 USD" in message.body and "Paid by: Cash" in message.body
    assert f"Receipt number: R-{cash.ledger_entry_id}" in message.body
    assert AuditEntry.objects.filter(action="receipt_resent").count() == 1


def test_only_a_payment_has_a_receipt(family_a):
    charge = staff.ledger_charge_post(family_id=family_a.family.pk, amount=100, description="Fee")
    with pytest.raises(ApplicationError) as caught:
        staff.receipt_resend(family_id=family_a.family.pk, entry_id=charge.ledger_entry_id)
    assert (caught.value.code, caught.value.status) == ("not_a_payment", 409)
    other = GuardianFactory(email="x@alpha.test").family
    with pytest.raises(ApplicationError) as caught:
        staff.receipt_resend(family_id=other.pk, entry_id=charge.ledger_entry_id)
    assert caught.value.code == "ledger_entry_not_found"
    assert mail.outbox == []


def test_a_card_payment_gets_its_orders_receipt_again(
    paid, clerk, django_capture_on_commit_callbacks
):
    from portal.billing.services import ledger_record_payment

    entry = ledger_record_payment(payment=paid)
    with django_capture_on_commit_callbacks(execute=True):
        staff.receipt_resend(family_id=paid.family_id, entry_id=entry.pk, by=clerk)
    (message,) = mail.outbox
    assert message.subject.endswith(f"(order {paid.order_id})")
    assert "Paid by card: 120.00 USD" in message.body
