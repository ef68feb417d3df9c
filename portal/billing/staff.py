"""Money actions staff take on a family's account: post a charge or a credit, record an offline
payment (cash, cheque), refund a card payment whole or in part, resend a receipt.

Each is one service: it checks its input, writes in one transaction (the posting, its ledger
entry and an audit entry together, or nothing), and takes amounts in integer minor units (the
deliveries parse what staff type with ``portal.billing.money.amount_parse``). A refund calls
Stripe, so it records the refund and commits before the call (``services.payment_refund``).
Emails are queued through the outbox with the transaction, so they leave only once it commits."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kernel.errors import ApplicationError
from portal.accounts.models import Family
from portal.enrollment.notifications import notify_family
from portal.privacy.audit import audit_record

from . import services
from .models import LedgerEntry, Payment, StaffPosting
from .money import MAX_MINOR, amount_format

_LEDGER_KIND = {
    StaffPosting.Kind.CHARGE: LedgerEntry.Kind.CHARGE,
    StaffPosting.Kind.CREDIT: LedgerEntry.Kind.CREDIT,
    StaffPosting.Kind.PAYMENT: LedgerEntry.Kind.PAYMENT,
}
_AUDIT_ACTION = {
    StaffPosting.Kind.CHARGE: "staff_charge",
    StaffPosting.Kind.CREDIT: "staff_credit",
    StaffPosting.Kind.PAYMENT: "offline_payment",
}


def family_not_found() -> ApplicationError:
    return ApplicationError("family_not_found", "We could not find that family.", status=404)


def _field(field: str, message: str, code: str = "invalid_input") -> ApplicationError:
    return ApplicationError(code, message, fields={field: [message]})


def _text(value, field: str, *, max_length: int, required: bool = False, label: str = "") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if "\x00" in text:
        raise _field(field, f"{label or field} contains a character that is not allowed.")
    if required and not text:
        raise _field(field, f"{label or field} is required.")
    if len(text) > max_length:
        raise _field(field, f"{label or field} is at most {max_length} characters.")
    return text


def _posting_create(
    *,
    kind: str,
    family_id: int,
    amount: int,
    description: str,
    method: str = "",
    reference: str = "",
    note: str = "",
    by=None,
    idempotency_key: str = "",
) -> StaffPosting:
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_MINOR:
        raise _field("amount", "The amount must be more than zero.", "invalid_amount")
    description = _text(description, "description", max_length=255, label="Description")
    reference = _text(reference, "reference", max_length=100, label="Reference")
    note = _text(note, "note", max_length=2000, label="Note")
    key = _text(idempotency_key, "idempotency_key", max_length=64, label="Idempotency key")
    if kind == StaffPosting.Kind.PAYMENT:
        if method not in StaffPosting.Method.values:
            raise _field("method", f"Use one of: {', '.join(StaffPosting.Method.values)}.")
    elif kind == StaffPosting.Kind.CHARGE and not description:
        raise _field("description", "Say what the charge is for.")
    source = f"staff:{kind}:{key}" if key else f"staff:{kind}:{uuid.uuid4().hex}"
    existing = StaffPosting.objects.filter(idempotency_key=source).first()
    if existing is not None:
        return _same_or_conflict(existing, family_id=family_id, amount=amount)
    currency = connection.tenant.currency
    if not description and kind == StaffPosting.Kind.CREDIT:
        description = "Account credit"
    elif not description:
        description = f"{StaffPosting.Method(method).label.split(' (')[0]} payment"
    try:
        with transaction.atomic():
            # The family row lock orders concurrent postings on one account (and a posting
            # against a family being deleted fails here, not with a dangling entry).
            family = Family.objects.select_for_update().filter(pk=family_id).first()
            if family is None:
                raise family_not_found()
            signed = amount if kind == StaffPosting.Kind.CHARGE else -amount
            entry = LedgerEntry.objects.create(
                family=family,
                kind=_LEDGER_KIND[kind],
                description=(f"{description} ({reference})" if reference else description)[:255],
                amount=signed,
                currency=currency,
                source_key=source,
            )
            posting = StaffPosting.objects.create(
                family=family,
                kind=kind,
                method=method if kind == StaffPosting.Kind.PAYMENT else "",
                amount=amount,
                currency=currency,
                description=description,
                reference=reference,
                note=note,
                ledger_entry=entry,
                posted_by=by if getattr(by, "is_authenticated", False) else None,
                idempotency_key=source,
            )
            audit_record(
                action=_AUDIT_ACTION[kind],
                obj=posting,
                user=by,
                fields={
                    "amount": amount,
                    "currency": currency,
                    "method": posting.method,
                    "reference": reference,
                    "ledger_entry": entry.pk,
                },
            )
    except IntegrityError:
        # The same idempotency key posted concurrently: the other call won.
        existing = StaffPosting.objects.filter(idempotency_key=source).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, family_id=family_id, amount=amount)
    return posting


def _same_or_conflict(existing: StaffPosting, *, family_id: int, amount: int) -> StaffPosting:
    if existing.family_id != family_id or existing.amount != amount:
        raise ApplicationError(
            "idempotency_key_reused",
            "That idempotency key was used for another posting.",
            status=409,
            fields={"idempotency_key": ["Use a new key for a new posting."]},
        )
    return existing


def ledger_charge_post(
    *, family_id: int, amount: int, description: str, note: str = "", by=None, idempotency_key=""
) -> StaffPosting:
    """Add a charge the family owes (a fee, a lost item...)."""
    return _posting_create(
        kind=StaffPosting.Kind.CHARGE,
        family_id=family_id,
        amount=amount,
        description=description,
        note=note,
        by=by,
        idempotency_key=idempotency_key,
    )


def ledger_credit_post(
    *,
    family_id: int,
    amount: int,
    description: str = "",
    note: str = "",
    by=None,
    idempotency_key="",
) -> StaffPosting:
    """Give the family account credit (goodwill, a class cancelled by the business...). Credit
    lowers the balance and is spent by the next order's checkout."""
    return _posting_create(
        kind=StaffPosting.Kind.CREDIT,
        family_id=family_id,
        amount=amount,
        description=description,
        note=note,
        by=by,
        idempotency_key=idempotency_key,
    )


def offline_payment_record(
    *,
    family_id: int,
    amount: int,
    method: str,
    reference: str = "",
    note: str = "",
    description: str = "",
    by=None,
    idempotency_key: str = "",
) -> StaffPosting:
    """Money the front desk took in person (cash, a cheque...). It settles the family's balance
    like a card payment; an amount above what is owed leaves account credit."""
    return _posting_create(
        kind=StaffPosting.Kind.PAYMENT,
        family_id=family_id,
        amount=amount,
        method=method,
        reference=reference,
        note=note,
        description=description,
        by=by,
        idempotency_key=idempotency_key,
    )


def staff_payment_refund(
    *, family_id: int, payment_id: int, amount: int | None, reason: str = "", by=None
) -> Payment:
    """Refund a card payment of this family, whole (``amount`` None) or in part. Never above
    what was paid and not already refunded (or being refunded); the refund is recorded and
    committed before Stripe is called, and completed after (``services.payment_refund``)."""
    reason = _text(reason, "reason", max_length=255, label="Reason")
    if amount is not None and (
        not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0
    ):
        raise _field("amount", "The amount must be more than zero.", "invalid_amount")
    if not Payment.objects.filter(pk=payment_id, family_id=family_id).exists():
        raise ApplicationError("payment_not_found", "We could not find that payment.", status=404)
    before = Payment.objects.get(pk=payment_id).amount_refunded
    try:
        payment = services.payment_refund(payment_id=payment_id, amount=amount, reason=reason)
    except ApplicationError as exc:
        if exc.status < 500:
            raise  # refused before anything was recorded: nothing to audit
        # Recorded, then Stripe failed or could not be reached: say who asked.
        audit_record(
            action="refund_failed",
            object_type="portal_billing.payment",
            object_id=payment_id,
            family_id=family_id,
            user=by,
            fields={"amount": amount, "reason": reason, "code": exc.code},
        )
        raise
    audit_record(
        action="refund",
        obj=payment,
        user=by,
        fields={"amount": payment.amount_refunded - before, "reason": reason},
    )
    return payment


def receipt_resend(*, family_id: int, entry_id: int, by=None) -> LedgerEntry:
    """Email the family a receipt for one payment on their ledger (card or offline) again."""
    entry = (
        LedgerEntry.objects.filter(pk=entry_id, family_id=family_id)
        .select_related("payment", "order")
        .first()
    )
    if entry is None:
        raise ApplicationError(
            "ledger_entry_not_found", "We could not find that ledger entry.", status=404
        )
    if entry.kind != LedgerEntry.Kind.PAYMENT or entry.amount >= 0:
        raise ApplicationError("not_a_payment", "Only a payment has a receipt.", status=409)
    posting = getattr(entry, "staff_posting", None)
    order = entry.order if entry.payment_id else None
    with transaction.atomic():
        if order is not None and order.status == order.Status.CONFIRMED:
            # A card payment of an order: the order's own receipt, as the family first got it.
            from portal.orders.services import _receipt_context

            notify_family(family_id, "payment_receipt", _receipt_context(order))
        else:
            method = posting.get_method_display().split(" (")[0] if posting else "Card"
            notify_family(
                family_id,
                "ledger_payment_receipt",
                {
                    "amount": f"{amount_format(-entry.amount, currency=entry.currency)} "
                    f"{entry.currency}",
                    "date": f"{timezone.localtime(entry.created_at, _zone()):%B %-d, %Y}",
                    "method": method,
                    "description": entry.description,
                    "reference": f"R-{entry.pk}",
                },
            )
        audit_record(action="receipt_resent", obj=entry, user=by, fields={})
    return entry


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(getattr(connection.tenant, "timezone", "") or "UTC")


def payment_refundable(payment: Payment) -> int:
    """What may still be refunded on a payment (paid, less refunded and refunds under way)."""
    if payment.status != Payment.Status.SUCCEEDED:
        return 0
    return max(services._refundable(payment), 0)
