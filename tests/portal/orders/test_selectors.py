"""The family's orders still waiting for their card payment (the enrollments page)."""

import pytest

from portal.enrollment.models import Order
from portal.orders.selectors import orders_awaiting_payment
from tests.portal.enrollment_helpers import make_family

pytestmark = pytest.mark.django_db


def test_only_the_familys_orders_awaiting_payment(in_tenant_a):
    family, _kid = make_family("awaiting@alpha.test")
    other, _ = make_family("other-awaiting@alpha.test")

    def order(owner, key, status):
        return Order.objects.create(
            family=owner, currency="USD", subtotal=100, total=100, idempotency_key=key,
            status=status,
        )  # fmt: skip

    waiting = order(family, "a1", Order.Status.AWAITING_PAYMENT)
    order(family, "a2", "confirmed")
    order(other, "a3", Order.Status.AWAITING_PAYMENT)
    assert orders_awaiting_payment(family) == [waiting]
    # Read as order_list reads: tenders prefetched, so what is due costs no query per order.
    assert orders_awaiting_payment(family)[0].live_tenders == []
