"""Reads of a family's cards and payments that the checkout and receipt pages make through
selectors."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.billing.models import Payment, SavedPaymentMethod
from portal.billing.selectors import has_saved_card, order_payments_succeeded
from portal.enrollment.models import Order
from tests.portal.enrollment_helpers import make_family

pytestmark = pytest.mark.django_db


def test_a_removed_card_is_no_saved_card(in_tenant_a):
    family, _kid = make_family("cards@alpha.test")
    other, _ = make_family("other-cards@alpha.test")
    SavedPaymentMethod.objects.create(family=other, stripe_payment_method_id="pm_other")
    assert has_saved_card(family=family) is False
    card = SavedPaymentMethod.objects.create(family=family, stripe_payment_method_id="pm_1")
    assert has_saved_card(family=family) is True
    SavedPaymentMethod.objects.filter(pk=card.pk).update(removed_at=timezone.now())
    assert has_saved_card(family=family) is False


def test_a_receipt_lists_the_payments_that_went_through_oldest_first(in_tenant_a):
    family, _kid = make_family("receipt@alpha.test")
    order = Order.objects.create(
        family=family, currency="USD", subtotal=9000, total=9000, idempotency_key="r1",
        status="confirmed",
    )  # fmt: skip
    card = SavedPaymentMethod.objects.create(family=family, stripe_payment_method_id="pm_r")
    now = timezone.now()

    def pay(attempt, status, minutes_ago, method=None):
        return Payment.objects.create(
            family=family, order=order, amount=3000, currency="USD", status=status,
            attempt=attempt, stripe_payment_intent_id=f"pi_{attempt}", saved_method=method,
            created_at=now - timedelta(minutes=minutes_ago),
        )  # fmt: skip

    second = pay(2, "succeeded", 5, card)
    first = pay(1, "succeeded", 10)
    pay(3, "failed", 1)
    payments = order_payments_succeeded(order=order)
    assert payments == [first, second]
    assert payments[1].saved_method == card
