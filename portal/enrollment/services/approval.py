"""Staff decide enrollments waiting for approval (the "staff approve" registration mode):
approving makes the enrollment active, taking a seat if pending requests did not already hold
one; denying frees the seat and gives back what the family paid for it, as a refund to the
card or as account credit. The family is told either way.

Contract: each decision runs under the offering's lock (seats) and the enrollment's row lock;
the refund, a call to Stripe, is made after that transaction commits (no network call while
holding row locks), through ``portal.billing.services.payment_refund``, which records the
refund before calling Stripe."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.config.selectors import portal_settings_get
from portal.privacy.audit import audit_record

from .. import camp_days
from ..models import Enrollment, OrderLine
from ..notifications import notify_family
from .seats import settle
from .staff import _locked_enrollment

SETTLE_AS = ("refund", "credit")


def _not_pending(enrollment: Enrollment) -> ApplicationError:
    return ApplicationError(
        "enrollment_not_pending",
        _("Only an enrollment pending approval can be decided; this one is %(status)s.")
        % {"status": enrollment.get_status_display().lower()},
        status=409,
    )


def enrollment_paid_amount(enrollment: Enrollment) -> int:
    """What the family paid for this seat: the order's lines for this student and offering
    (tuition, less the discounts booked on them), never below zero; 0 without a paid order."""
    order = enrollment.order
    if order is None or order.status != "confirmed":
        return 0
    total = (
        OrderLine.objects.filter(
            order=order, student_id=enrollment.student_id, offering_id=enrollment.offering_id
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return max(total, 0)


def _notify(enrollment: Enrollment, status: str, note: str, money: str) -> None:
    notify_family(
        enrollment.family_id,
        "enrollment_decided",
        {
            "student": enrollment.student.first_name,
            "offering": enrollment.offering.name,
            "status": status,
            "note": note,
            "money": money,
        },
    )


def enrollment_approve(*, enrollment_id: int, note: str = "") -> Enrollment:
    """Approve a pending enrollment. ``offering_full`` (409) when it needs a seat and none is
    left; ``enrollment_not_pending`` (409) when it was already decided."""
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        enrollment, offering = _locked_enrollment(enrollment_id)
        if enrollment.status != Enrollment.Status.PENDING:
            raise _not_pending(enrollment)
        settle(offering, portal, now)
        # A pending enrollment already holds its seat when pending requests count against
        # openings; otherwise approving takes one now.
        if not portal.pending_requests_count_against_openings and offering.days_selectable:
            camp_days.require_free(offering, portal, enrollment.camp_days)
        elif not portal.pending_requests_count_against_openings and offering.openings <= 0:
            raise ApplicationError(
                "offering_full",
                _("%(class)s is full: free a seat or raise its capacity first.")
                % {"class": offering.name},
                status=409,
            )
        enrollment.status = Enrollment.Status.ACTIVE
        if note:
            enrollment.staff_note = note[:2000]
        enrollment.save(update_fields=["status", "staff_note", "updated_at"])
        settle(offering, portal, now)
        audit_record(action="enrollment_approved", obj=enrollment, fields={"note": note[:200]})
        _notify(enrollment, "approved", note, "")
    return enrollment


def enrollment_deny(*, enrollment_id: int, settle_as: str = "credit", note: str = "") -> dict:
    """Deny a pending enrollment: the seat is freed (and offered to the waitlist) and what was
    paid for it goes back, to the card (``refund``) or to the family's account (``credit``).
    A refund Stripe refuses falls back to account credit, so the money is never lost. Returns
    the enrollment and how much went back, and how."""
    from portal.billing.models import LedgerEntry, Payment, Refund
    from portal.billing.services import ledger_post, payment_refund

    if settle_as not in SETTLE_AS:
        raise ApplicationError(
            "invalid_input",
            "Give the money back as a refund or as account credit.",
            fields={"settle_as": ["Use refund or credit."]},
        )
    if settle_as == "refund":
        from portal.billing import gateway

        gateway.ensure_configured()  # payments_not_configured: refuse before changing anything
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        enrollment, offering = _locked_enrollment(enrollment_id)
        if enrollment.status != Enrollment.Status.PENDING:
            raise _not_pending(enrollment)
        amount = enrollment_paid_amount(enrollment)
        payment = None
        if amount and settle_as == "refund":
            payment = (
                Payment.objects.filter(order_id=enrollment.order_id, status="succeeded")
                .order_by("-amount")
                .first()
            )
        enrollment.status = Enrollment.Status.DENIED
        if note:
            enrollment.staff_note = note[:2000]
        enrollment.save(update_fields=["status", "staff_note", "updated_at"])
        settle(offering, portal, now)
        audit_record(
            action="enrollment_denied",
            obj=enrollment,
            fields={"amount": amount, "settle_as": settle_as, "note": note[:200]},
        )
    how = "none"
    if amount:
        how = "credit"
        if payment is not None:
            reason = f"enrollment {enrollment.pk} denied"
            try:
                payment_refund(
                    payment_id=payment.pk,
                    amount=min(amount, payment.amount - payment.amount_refunded),
                    reason=reason,
                )
                how = "refund"
            except ApplicationError:
                # Stripe unreachable: the refund stays pending and refunds_resume sends it
                # with the same idempotency key, so no credit (the money would go back twice).
                # Refused (already refunded elsewhere, declined): credit instead.
                still_pending = Refund.objects.filter(
                    payment_id=payment.pk, reason=reason, status=Refund.Status.PENDING
                ).exists()
                how = "refund" if still_pending else "credit"
        if how == "credit":
            ledger_post(
                family_id=enrollment.family_id,
                kind=LedgerEntry.Kind.CREDIT,
                description=f"Credit: {offering.name} not approved"[:255],
                amount=-amount,
                currency=enrollment.order.currency,
                source_key=f"enrollment:{enrollment.pk}:denied",
            )
    with transaction.atomic():
        money = ""
        if how != "none":
            shown = f"{amount // 100:,}.{amount % 100:02d} {enrollment.order.currency}"
            money = (
                f"{shown} is refunded to your card."
                if how == "refund"
                else f"{shown} is credited to your account."
            )
        _notify(enrollment, "denied", note, money)
    return {"enrollment": enrollment, "amount": amount, "returned_as": how}
