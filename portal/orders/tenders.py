"""Tenders: account credit and gift certificates applied to an order at checkout (or to an
invoice when it is created), as payments against the order, never as negative lines.

Lock order (the same everywhere, so two checkouts cannot deadlock): offerings (primary-key
order), then the order, then gift certificates, then the family row (account credit)."""

from __future__ import annotations

from django.db.models import Sum

from kernel.errors import ApplicationError
from portal.accounts.models import Family
from portal.billing.models import LedgerEntry
from portal.billing.services import ledger_balance, ledger_post
from portal.enrollment.models import Order
from portal.store import services as store

from .models import OrderTender


def tendered(order: Order) -> int:
    """What live tenders (reserved or used) pay of the order."""
    return (
        OrderTender.objects.filter(order=order, status__in=OrderTender.LIVE).aggregate(
            n=Sum("amount")
        )["n"]
        or 0
    )


def amount_due(order: Order) -> int:
    """What a card (or a balance payment) still has to pay: total minus live tenders."""
    return order.total - tendered(order)


def credit_available(family: Family) -> int:
    """Account credit (a negative ledger balance) not yet promised to an unpaid order.

    Credit tendered to an unpaid invoice is already netted in the balance (an invoice's charges
    are in the ledger from the start); credit tendered to any other unpaid order is promised
    until that order is paid or lapses."""
    promised = (
        OrderTender.objects.filter(
            order__family=family,
            kind=OrderTender.Kind.ACCOUNT_CREDIT,
            status=OrderTender.Status.RESERVED,
        )
        .exclude(order__kind__in=Order.INVOICE_KINDS)
        .aggregate(n=Sum("amount"))["n"]
        or 0
    )
    return max(-ledger_balance(family) - promised, 0)


def tender_gift_certificate(
    *, order: Order, code: str, due: int | None = None
) -> OrderTender | None:
    """Draw on a certificate for up to what is still due (reserved until the order is paid;
    ``due`` when the caller knows it, else it is read). The caller holds the transaction; the
    certificate is locked here."""
    certificate = store.gift_certificate_lookup(family=order.family, code=code, lock=True)
    if certificate.currency != order.currency:
        raise store.gift_certificate_invalid()
    if certificate.balance <= 0:
        raise ApplicationError(
            "gift_certificate_empty",
            "This gift certificate has no balance left.",
            status=409,
            fields={"gift_certificate_code": ["No balance left."]},
        )
    amount = min(certificate.balance, amount_due(order) if due is None else due)
    if amount <= 0:
        return None
    store.gift_certificate_draw(certificate=certificate, amount=amount)
    return OrderTender.objects.create(
        order=order,
        kind=OrderTender.Kind.GIFT_CERTIFICATE,
        amount=amount,
        gift_certificate=certificate,
        description=f"Gift certificate …{certificate.code[-4:]}",
    )


def tender_account_credit(*, order: Order, due: int | None = None) -> OrderTender | None:
    """Pay what account credit covers, under the family's row lock (two checkouts cannot spend
    the same credit); ``due`` when the caller knows what is still due, else it is read. For an
    invoice, call this before its charges reach the ledger."""
    Family.objects.select_for_update(of=("self",)).filter(pk=order.family_id).first()
    amount = min(credit_available(order.family), amount_due(order) if due is None else due)
    if amount <= 0:
        return None
    return OrderTender.objects.create(
        order=order,
        kind=OrderTender.Kind.ACCOUNT_CREDIT,
        amount=amount,
        description="Account credit",
    )


def tenders_consume(*, order: Order) -> None:
    """The order is confirmed: its reserved tenders are used. A gift certificate paid part of
    the charges, which the ledger shows as a credit; account credit needs no entry (the charges
    simply absorb the credit already on the account)."""
    for tender in OrderTender.objects.filter(order=order, status=OrderTender.Status.RESERVED):
        tender.status = OrderTender.Status.USED
        tender.save(update_fields=["status"])
        if tender.kind == OrderTender.Kind.GIFT_CERTIFICATE:
            ledger_post(
                family_id=order.family_id,
                kind=LedgerEntry.Kind.CREDIT,
                description=f"Paid with {tender.description.lower()}",
                amount=-tender.amount,
                currency=order.currency,
                source_key=f"tender:{tender.pk}",
                order=order,
            )


def tenders_release(*, order: Order) -> None:
    """The order lapsed unpaid: its reserved tenders are released and gift certificates get
    their amounts back (under each certificate's lock)."""
    for tender in OrderTender.objects.filter(order=order, status=OrderTender.Status.RESERVED):
        if tender.gift_certificate_id is not None:
            store.gift_certificate_restore(
                certificate_id=tender.gift_certificate_id, amount=tender.amount
            )
        tender.status = OrderTender.Status.RELEASED
        tender.save(update_fields=["status"])
