"""Front-desk registration: staff enroll a student (a parent on the phone or at the counter)
with the same eligibility rules and the same pricing as the family's checkout, and take the
money there and then (cash or cheque, the family's saved card) or leave it owed.

A rule the business set (age, gender, level, the registration window, priority and new-family
rules, a past-due balance, policies not yet accepted, a schedule clash, a full class) may be set
aside by staff only with a written reason: the enrollment records which rules were set aside,
by whom, why and when, and the audit log has the same. Some things no override changes: the
student already enrolled (or in the family's cart), an inactive student, a class that is not
published or has ended.

Contract: the seat is taken under the offering's row lock (``lock_offerings``), in one
transaction with the order, its ledger charges and an offline payment; a card is charged after
that transaction commits (no network call while holding row locks), through the family's own
``order_pay``. A card Stripe refuses leaves the enrollment in place and the amount owed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal import links
from portal.accounts.models import Family, Student
from portal.billing import staff as billing_staff
from portal.billing.models import Payment
from portal.billing.services import ledger_record_order
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.enrollment import camp_days, eligibility
from portal.enrollment.models import Enrollment, Order, RegistrationFeeCharge
from portal.enrollment.notifications import notify_family
from portal.enrollment.pricing import price_items
from portal.enrollment.services.seats import lock_offerings, recount, settle
from portal.privacy.audit import audit_record

from . import tenders
from .services import _first_attended, order_confirm_locked, order_create

PAYMENT_CHOICES = ("owed", "cash", "cheque", "card")

# Rules a staff override (with a reason) may set aside. Every other refusal stands.
OVERRIDABLE = frozenset(
    {
        "too_young",
        "too_old",
        "gender_restricted",
        "level_required",
        "level_mismatch",
        "registration_not_open",
        "registration_closed",
        "priority_registration_only",
        "priority_keyword_required",
        "new_families_closed",
        "new_families_not_yet",
        "inactive_family",
        "past_due_balance",
        "policy_acceptance_required",
        "schedule_clash",
        "offering_full",
    }
)


@dataclass
class DeskEnrollment:
    enrollment: Enrollment
    order: Order
    amount: int  # what the enrollment costs, minor units
    paid_with: str  # owed, cash, cheque, card, credit (account credit covered it), free
    owed: int  # what is still owed on the order after this, minor units
    overridden: list[str] = field(default_factory=list)
    card_error: str = ""


def _invalid(name: str, message: str) -> ApplicationError:
    return ApplicationError("invalid_input", message, fields={name: [message]})


def _override_needed(exc: ApplicationError) -> ApplicationError:
    return ApplicationError(
        exc.code,
        _("%(refusal)s Staff may enroll anyway with an override and a reason.")
        % {"refusal": exc.message},
        status=exc.status,
        fields={**exc.fields, "override_reason": ["Give a reason to override this rule."]},
    )


def _rule_failures(family, student, offering, portal, now) -> list[ApplicationError]:
    """Every rule but capacity, each checked on its own so an override names all it sets
    aside. The rules no override changes are raised at once."""
    failures = []
    checks = (
        lambda: eligibility.check_registration_window(offering, portal, now),
        lambda: eligibility.check_family(family, portal, now),
        lambda: eligibility.check_policies(family, [student]),
        lambda: eligibility.check_student(student, offering),
        lambda: eligibility.check_not_taken(student, offering),
        lambda: eligibility.check_schedule(student, offering),
    )
    for check in checks:
        try:
            check()
        except ApplicationError as exc:
            if exc.code not in OVERRIDABLE:
                raise
            failures.append(exc)
    return failures


def desk_enroll(
    *,
    family_id: int,
    student_id: int,
    offering_id: int,
    by,
    payment: str = "owed",
    reference: str = "",
    saved_method_id: int | None = None,
    override_reason: str = "",
    note: str = "",
) -> DeskEnrollment:
    """Enroll a student of a family in an offering at the front desk (see the module)."""
    if payment not in PAYMENT_CHOICES:
        raise _invalid("payment", "Choose how it is paid: owed, cash, cheque or card.")
    override_reason = override_reason.strip() if isinstance(override_reason, str) else ""
    if "\x00" in override_reason or len(override_reason) > 1000:
        raise _invalid("override_reason", "The override reason is at most 1000 characters.")
    note = (note or "").strip()[:2000]
    family = Family.objects.filter(pk=family_id).first()
    if family is None:
        raise billing_staff.family_not_found()
    student = Student.objects.select_related("level").filter(pk=student_id, family=family).first()
    if student is None:
        raise ApplicationError(
            "student_not_found", "That student is not in this family.", status=404
        )
    offering = Offering.objects.prefetch_related("levels").filter(pk=offering_id).first()
    if offering is None:
        raise ApplicationError("offering_not_found", "We could not find that class.", status=404)
    if payment == "card":
        _check_card(family, saved_method_id)
    portal = portal_settings_get()
    now = timezone.now()
    failures = _rule_failures(family, student, offering, portal, now)
    if failures and not override_reason:
        raise _override_needed(failures[0])
    with transaction.atomic():
        offering = lock_offerings([offering.pk])[offering.pk]
        settle(offering, portal, now)
        # Re-checked under the lock: a checkout may have taken the student meanwhile.
        eligibility.check_not_taken(student, offering)
        overridden = [exc.code for exc in failures]
        # The desk enrolls for the whole camp: a camp booked by the day needs a seat every day.
        if offering.openings <= 0 or (
            offering.days_selectable and not _every_day_free(offering, portal)
        ):
            full = ApplicationError(
                "offering_full", _("%(class)s is full.") % {"class": offering.name}, status=409
            )
            if not override_reason:
                raise _override_needed(full)
            overridden.append(full.code)
        lines = price_items(family=family, items=[(student, offering)], portal=portal)
        order = order_create(
            family=family,
            kind=Order.Kind.REGISTRATION,
            lines=lines,
            idempotency_key=f"desk:{student.pk}:{offering.pk}:{now.timestamp()}",
            created_at=now,
            expires_at=None,  # owed until paid, like an invoice; never lapses
        )
        enrollment = Enrollment.objects.create(
            family=family,
            student=student,
            offering=offering,
            order=order,
            status=Enrollment.Status.ACTIVE,
            start_date=_first_attended(offering, portal, timezone.localdate(now)),
            staff_note=note,
            enrolled_by=by if getattr(by, "pk", None) else None,
            override_rules=overridden if override_reason else [],
            override_reason=override_reason if overridden else "",
            override_at=now if overridden else None,
        )
        recount(offering, portal)
        for line in order.lines.filter(kind="registration_fee"):
            # Owed or paid, the fee is the family's for the year: no second fee meanwhile.
            lookup: dict[str, Any] = {
                "family_id": family.pk,
                "student_id": line.student_id,
                "registration_year": line.registration_year,
            }
            RegistrationFeeCharge.objects.get_or_create(**lookup, defaults={"order": order})
        # As an invoice: account credit pays first, the charges reach the ledger at once.
        tenders.tender_account_credit(order=order)
        ledger_record_order(order=order)
        due = tenders.amount_due(order)
        paid_with = "owed"
        if order.total == 0:
            paid_with = "free"
        elif due == 0:
            paid_with = "credit"
        elif payment in ("cash", "cheque"):
            billing_staff.offline_payment_record(
                family_id=family.pk,
                amount=due,
                method=payment,
                reference=reference,
                note=note,
                description=f"{offering.name} — {student.first_name}",
                by=by,
            )
            due = 0
            paid_with = payment
        if due == 0:
            order_confirm_locked(order, portal=portal, now=now)
        audit_record(
            action="enrollment_staff_enroll",
            obj=enrollment,
            user=by,
            fields={
                "offering": offering.pk,
                "student": student.pk,
                "amount": order.total,
                "paid_with": paid_with if payment != "card" else "card",
                "override_rules": enrollment.override_rules,
                "override_reason": enrollment.override_reason[:200],
            },
        )
        notify_family(
            family.pk,
            "enrollment_confirmed",
            {
                "enrollments": [
                    f"{student.first_name}: {offering.name} from {enrollment.start_date:%b %-d}"
                ],
                "pending": False,
                "url": links.url("enrollments"),
            },
        )
    result = DeskEnrollment(
        enrollment=enrollment,
        order=order,
        amount=order.total,
        paid_with=paid_with,
        owed=due,
        overridden=list(enrollment.override_rules),
    )
    if payment == "card" and due > 0:
        _charge_card(result, family, saved_method_id)
    return result


def _every_day_free(offering: Offering, portal) -> bool:
    try:
        camp_days.require_free(offering, portal, [])
    except ApplicationError:
        return False
    return True


def _check_card(family: Family, saved_method_id) -> None:
    from portal.billing.models import SavedPaymentMethod

    if not isinstance(saved_method_id, int) or not (
        SavedPaymentMethod.objects.filter(
            pk=saved_method_id, family=family, removed_at__isnull=True
        ).exists()
        and hasattr(family, "stripe_customer")
    ):
        raise ApplicationError(
            "payment_method_not_found", "We could not find that card.", status=404
        )
    from portal.billing import gateway

    gateway.ensure_configured()  # payments_not_configured before anything changes


def _charge_card(result: DeskEnrollment, family: Family, saved_method_id: int | None) -> None:
    """After commit: the saved card pays what is due through the family's ``order_pay``. A
    refusal leaves the enrollment and the amount owed (the family can pay online)."""
    from .payments import order_pay

    try:
        paid = order_pay(family=family, order_id=result.order.pk, saved_method_id=saved_method_id)
    except ApplicationError as exc:
        result.card_error = exc.message
        return
    result.order.refresh_from_db()
    if paid.status == Payment.Status.SUCCEEDED or result.order.status == Order.Status.CONFIRMED:
        result.paid_with = "card"
        result.owed = tenders.amount_due(result.order)
    else:
        result.card_error = paid.failure_message or "The card was not charged."
