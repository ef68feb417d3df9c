"""Reads of a family's orders, with their live tenders prefetched so what is due needs no
query per order."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from portal.enrollment.models import Order

from .models import OrderTender


def order_list(family) -> QuerySet[Order]:
    return Order.objects.filter(family=family).prefetch_related(
        "lines",
        "enrollments",
        Prefetch(
            "tenders",
            queryset=OrderTender.objects.filter(status__in=OrderTender.LIVE).select_related(
                "gift_certificate"
            ),
            to_attr="live_tenders",
        ),
    )


def order_get(family, order_id) -> Order | None:
    return order_list(family).filter(pk=order_id).first()


def amount_due(order: Order) -> int:
    """What is still due on an order from ``order_list`` (total minus its live tenders)."""
    return order.total - sum(t.amount for t in order.live_tenders)
