"""Drops and transfers made by staff at the front desk. Each is recorded as a request of the
family's kind, created already decided by the staff member (so the drops report, the family's
page and the family's email read it like any other), and applied by the same code that applies
an approved family request: the transfer's proration and price difference, the drop's end
date. A drop may credit the unused part of the tuition, prorated by meetings like a transfer."""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.billing.models import LedgerEntry
from portal.billing.services import ledger_post
from portal.config.selectors import portal_settings_get
from portal.enrollment import camp_days
from portal.enrollment.models import Enrollment
from portal.enrollment.services import lock_offerings, settle
from portal.privacy.audit import audit_record

from . import services
from .models import Request


def _enrollment(enrollment_id) -> Enrollment:
    enrollment = (
        Enrollment.objects.select_related("offering", "student", "family")
        .filter(pk=enrollment_id)
        .first()
    )
    if enrollment is None:
        raise ApplicationError(
            "enrollment_not_found", "We could not find that enrollment.", status=404
        )
    return enrollment


def _not_active(enrollment: Enrollment) -> ApplicationError:
    return ApplicationError(
        "enrollment_not_active",
        _("Only an active enrollment can be changed; this one is %(status)s.")
        % {"status": enrollment.get_status_display().lower()},
        status=409,
    )


def drop_credit_amount(enrollment: Enrollment, effective_date: date) -> int:
    """The unused tuition after the last day attended, prorated by meetings as a transfer's
    credit is (minor units)."""
    offering = enrollment.offering
    meetings = camp_days.meetings_of(offering, enrollment.camp_days)
    left = len([day for day in meetings if day > effective_date])
    paid = camp_days.tuition_for(offering, enrollment.camp_days)
    return paid * left // max(len(meetings), 1)


def enrollment_desk_drop(
    *,
    enrollment_id,
    reason: str,
    by,
    effective_date: date | None = None,
    credit_unused: bool = False,
    note: str = "",
) -> Request:
    """End an active enrollment from ``effective_date`` (the last day attended; today when not
    given; never in the past) with the family's reason. Dropped today, the seat frees now and
    goes to the waitlist; later, the day after. ``credit_unused`` credits the prorated unused
    tuition to the family's account, once."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or "\x00" in reason:
        raise ApplicationError(
            "drop_reason_required",
            "Give the reason for the drop.",
            fields={"reason": ["Give the reason for the drop."]},
        )
    today = timezone.localdate()
    effective_date = effective_date or today
    if effective_date < today:
        raise ApplicationError(
            "invalid_input",
            "A drop cannot take effect in the past.",
            fields={"effective_date": ["Today or later."]},
        )
    enrollment = _enrollment(enrollment_id)
    portal = portal_settings_get()
    now = timezone.now()
    with services._refused_on_race(portal, Request.Type.DROP), transaction.atomic():
        offering = lock_offerings([enrollment.offering_id])[enrollment.offering_id]
        enrollment = Enrollment.objects.select_for_update(of=("self",)).get(pk=enrollment.pk)
        if enrollment.status != Enrollment.Status.ACTIVE:
            raise _not_active(enrollment)
        if Request.objects.filter(
            type=Request.Type.DROP, enrollment=enrollment, status=Request.Status.PENDING
        ).exists():
            raise services._drop_already_requested()
        req = Request.objects.create(
            type=Request.Type.DROP,
            family_id=enrollment.family_id,
            student_id=enrollment.student_id,
            enrollment=enrollment,
            effective_date=effective_date,
            reason=reason[:2000],
            status=Request.Status.APPROVED,
            staff_note=(note or "")[:2000],
            decided_by=by if getattr(by, "pk", None) else None,
            decided_at=now,
        )
        enrollment.end_date = effective_date
        if effective_date == today:
            enrollment.status = Enrollment.Status.DROPPED
        enrollment.save(update_fields=["status", "end_date", "updated_at"])
        settle(offering, portal, now)
        credit = drop_credit_amount(enrollment, effective_date) if credit_unused else 0
        if credit:
            ledger_post(
                family_id=enrollment.family_id,
                kind=LedgerEntry.Kind.CREDIT,
                description=f"Drop of {enrollment.student.first_name}: {offering.name} "
                f"(prorated credit)",
                amount=-credit,
                currency=connection.tenant.currency,
                source_key=f"drop:{req.pk}",
            )
        audit_record(
            action="enrollment_staff_drop",
            obj=enrollment,
            user=by,
            fields={
                "request": req.pk,
                "effective_date": effective_date.isoformat(),
                "reason": reason[:200],
                "credit": credit,
            },
        )
        req.enrollment = enrollment
        services._notify(req)
    return req


def enrollment_desk_transfer(*, enrollment_id, offering_id, by, note: str = "") -> Request:
    """Move an active enrollment to another class now, with the price difference prorated as
    a family's transfer is (owed as an invoice, or credited). The same rules as a family's
    transfer apply (level, the class's window, one transfer per enrollment when the business
    says so), except that staff transfer even when families may not ask online. A full target
    is refused (``offering_full``) and nothing changes."""
    enrollment = _enrollment(enrollment_id)
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise _not_active(enrollment)
    preview = services.transfer_preview(
        family=enrollment.family,
        enrollment_id=enrollment.pk,
        offering_id=offering_id,
        by_staff=True,
    )
    portal = portal_settings_get()
    with services._refused_on_race(portal, Request.Type.TRANSFER), transaction.atomic():
        req = Request.objects.create(
            type=Request.Type.TRANSFER,
            family_id=enrollment.family_id,
            student_id=enrollment.student_id,
            enrollment=enrollment,
            target_offering=preview["target"],
            price_difference=preview["difference"],
            reason="Transferred by staff at the front desk.",
        )
        req = services.request_decide(request_id=req.pk, approve=True, note=note, by=by)
        audit_record(
            action="enrollment_staff_transfer",
            obj=enrollment,
            user=by,
            fields={
                "request": req.pk,
                "to_offering": preview["target"].pk,
                "difference": preview["difference"],
            },
        )
    return req
