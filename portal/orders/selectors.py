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


def unpaid_order_list(family) -> list[tuple[Order, int]]:
    """Orders the family still has to pay whose charges are not in its ledger yet (a checkout
    or a store purchase waiting for its card payment), with what is due on each, oldest first.
    Invoices (their charges are already posted) and balance payments (they pay the ledger) are
    left out, so ledger balance + these = everything owed, nothing counted twice."""
    from django.utils import timezone

    from portal.billing.models import LedgerEntry

    now = timezone.now()
    posted = LedgerEntry.objects.filter(
        family=family, order_id__isnull=False, kind=LedgerEntry.Kind.CHARGE
    ).values("order_id")
    orders = (
        order_list(family)
        .filter(status=Order.Status.AWAITING_PAYMENT)
        .exclude(kind__in=(*Order.INVOICE_KINDS, Order.Kind.BALANCE))
        .exclude(pk__in=posted)
        .order_by("created_at", "pk")
    )
    rows = [(order, amount_due(order)) for order in orders if not order.lapsed(now)]
    return [(order, due) for order, due in rows if due > 0]
