"""Reads of a family's orders, with their live tenders prefetched so what is due needs no
query per order."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import prefetch
from kernel.errors import ApplicationError
from portal.accounts.models import Family
from portal.enrollment.models import Order

from .models import OrderTender


def order_list(family: Family) -> QuerySet[Order]:
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


def orders_awaiting_payment(family: Family) -> list[Order]:
    """The family's orders waiting for their card payment (checked out, not paid yet)."""
    return list(order_list(family).filter(status=Order.Status.AWAITING_PAYMENT))


def order_get(family: Family, order_id: int) -> Order | None:
    return order_list(family).filter(pk=order_id).first()


def order_in_hand(order: Order) -> bool:
    """Whether ``order`` carries what ``order_list`` prefetches (its lines, enrollments and
    live tenders), so it can be shown without reading it again: a checkout's new order does."""
    return (
        prefetch.attached(order, "lines")
        and prefetch.attached(order, "enrollments")
        and hasattr(order, "live_tenders")
    )


def amount_due(order: Order) -> int:
    """What is still due on an order from ``order_list`` (total minus its live tenders)."""
    tenders: list[OrderTender] = order.live_tenders  # type: ignore[attr-defined]
    return order.total - sum(t.amount for t in tenders)


def unpaid_order_list(family: Family) -> list[tuple[Order, int]]:
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


FAILED_PAYMENT_DAYS = (7, 30, 90, 365)


def payments_failed_list(*, days: int | str = 30, limit: int = 200) -> list[dict]:
    """Card payments that failed in the last ``days`` (one of FAILED_PAYMENT_DAYS; 30 is the
    dashboard's count), newest first, each with its family and order, why it failed, and what
    became of the bill since (``outcome``):

    * ``paid``: a later card payment or the autopay charge paid the order;
    * ``retry``: an autopay charge that failed (or waits for the family): staff may charge
      the saved card again now (``autopay_charge``, ``portal.orders.autopay_runs``);
    * ``collecting``: autopay is charging the card or will again on its schedule;
    * ``lapsed``: the order was cancelled or expired (its seats released): nothing is owed;
    * ``family``: a checkout the family pays from their account (no card to charge without
      them: no retry).

    A bad ``days`` is ``invalid_filter`` (400)."""
    from portal.billing.models import AutopayCharge, Payment

    from .autopay_runs import RETRYABLE

    text = str(days).strip()
    if not text.isdigit() or int(text) not in FAILED_PAYMENT_DAYS:
        choices = ", ".join(str(d) for d in FAILED_PAYMENT_DAYS)
        raise ApplicationError(
            "invalid_filter",
            _("Show the last %(choices)s days.") % {"choices": choices},
            fields={"days": [_("Use one of: %(choices)s.") % {"choices": choices}]},
        )
    since = timezone.now() - timedelta(days=int(text))
    failed = list(
        Payment.objects.filter(status=Payment.Status.FAILED, created_at__gte=since)
        .select_related("family", "order")
        .prefetch_related("order__lines")
        .order_by("-created_at", "-pk")[:limit]
    )
    order_ids = {payment.order_id for payment in failed}
    paid = set(
        Payment.objects.filter(order_id__in=order_ids, status=Payment.Status.SUCCEEDED).values_list(
            "order_id", flat=True
        )
    )
    charges = {
        charge.order_id: charge for charge in AutopayCharge.objects.filter(order_id__in=order_ids)
    }
    rows = []
    for payment in failed:
        order = payment.order
        charge = charges.get(payment.order_id)
        if payment.order_id in paid or (
            charge is not None and charge.status == AutopayCharge.Status.SUCCEEDED
        ):
            outcome = "paid"
        elif charge is not None and charge.status in RETRYABLE:
            outcome = "retry"
        elif charge is not None:
            outcome = "collecting"
        elif order.status in (Order.Status.CANCELLED, Order.Status.EXPIRED):
            outcome = "lapsed"
        else:
            outcome = "family"
        rows.append(
            {
                "payment": payment,
                "family": payment.family,
                "order": order,
                "what": ", ".join(line.description for line in order.lines.all())[:200],
                "reason": payment.failure_message or payment.failure_code or "",
                "autopay_charge": charge,
                "outcome": outcome,
            }
        )
    return rows
