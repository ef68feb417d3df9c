"""Absences, makeups, transfers and drops: one entry point per type, each enforcing the
business's rules, plus cancel and the staff decision. The family is emailed on every change."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError, violated_constraint
from kernel.users.models import User
from portal import formats
from portal.accounts.models import Family
from portal.activity.services import activity_process_about, activity_record
from portal.billing.models import LedgerEntry
from portal.billing.services import ledger_post
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.enrollment import camp_days, eligibility
from portal.enrollment.models import Enrollment, Order, OrderLine
from portal.enrollment.notifications import notify_family
from portal.enrollment.pricing import Line
from portal.enrollment.services import lock_offerings, settle, settle_offerings
from portal.orders.services import invoice_create

from .models import MakeupToken, Request
from .tokens import makeup_token_for_absence

STATUS_WORDS = {"pending": "received", "approved": "approved", "denied": "denied",
                "cancelled": "cancelled"}  # fmt: skip


def _refuse(code: str, message: str, status: int = 400) -> ApplicationError:
    return ApplicationError(code, message, status=status)


def _enrollment(family: Family, enrollment_id) -> Enrollment:
    enrollment = (
        Enrollment.objects.select_related("offering__program", "student__level")
        .filter(pk=enrollment_id, family=family)
        .first()
    )
    if enrollment is None:
        raise ApplicationError(
            "enrollment_not_found", "We could not find that enrollment.", status=404
        )
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise _refuse("enrollment_not_active", "This enrollment is not active.", status=409)
    return enrollment


def _meeting_start(offering: Offering, day: date) -> datetime:
    """The meeting's start on the business's clock (the active zone), as a UTC instant: adding
    or taking hours then counts real hours, also across a daylight-saving change (the same
    arithmetic on a zoned datetime would move the wall clock instead)."""
    return timezone.make_aware(datetime.combine(day, offering.start_time)).astimezone(UTC)


def _notify(req: Request) -> None:
    about = {
        Request.Type.ABSENCE: lambda r: f"{r.enrollment.offering.name} on {r.meeting_date:%b %-d}",
        Request.Type.MAKEUP: lambda r: f"{r.target_offering.name} on {r.meeting_date:%b %-d}",
        Request.Type.TRANSFER: lambda r: (
            f"{r.enrollment.offering.name} to {r.target_offering.name}"
        ),
        Request.Type.DROP: lambda r: f"{r.enrollment.offering.name} from {r.effective_date:%b %-d}",
    }[req.type](req)
    notify_family(
        req.family_id,
        "request_update",
        {
            "type": req.get_type_display().lower(),
            "student": req.student.first_name,
            "about": about,
            "status": STATUS_WORDS[req.status],
            "note": req.staff_note,
        },
    )


def _activity(req: Request) -> None:
    """The family's request (or its cancellation) lands in the staff's activity inbox."""
    verb = "cancelled" if req.status == Request.Status.CANCELLED else "asked for"
    activity_record(
        kind="request",
        family_id=req.family_id,
        summary=f"{req.student.first_name}: {verb} {req.get_type_display().lower()}",
        obj=req,
    )


# --- races -----------------------------------------------------------------------------------


def _absence_already_reported() -> ApplicationError:
    return _refuse("absence_already_reported", "This absence is already reported.", 409)


def _drop_already_requested() -> ApplicationError:
    return _refuse(
        "drop_already_requested", "A drop is already requested for this enrollment.", 409
    )


def _transfer_already_requested(portal) -> ApplicationError:
    if portal.one_transfer_per_enrollment:  # the refusal transfer_preview gives in that case
        return _refuse("transfer_limit", "This enrollment has already been transferred once.", 409)
    return _refuse(
        "transfer_already_requested",
        "A transfer is already requested for this enrollment.",
        409,
    )


# The database constraints behind each "already requested" check (portal.requests.models),
# and the refusal their violation turns into.
CONSTRAINT_ERRORS = {
    "requests_one_live_absence_per_meeting": lambda portal, req_type: _absence_already_reported(),
    "requests_one_pending_drop_or_transfer": lambda portal, req_type: (
        _drop_already_requested()
        if req_type == Request.Type.DROP
        else _transfer_already_requested(portal)
    ),
}


@contextmanager
def _refused_on_race(portal, req_type: str = Request.Type.ABSENCE):
    """Around the transaction that inserts a request: the loser of a race answers the same
    stable refusal as the service's own check. Must wrap the whole ``atomic`` block, so the
    failed transaction (or savepoint) is rolled back before the refusal is raised."""
    try:
        yield
    except IntegrityError as exc:
        refusal = CONSTRAINT_ERRORS.get(violated_constraint(exc) or "")
        if refusal is None:
            raise
        raise refusal(portal, req_type) from exc


# --- absence ---------------------------------------------------------------------------------


def absence_request(
    *, family: Family, enrollment_id, meeting_date: date, reason: str = ""
) -> Request:
    portal = portal_settings_get()
    if not portal.absences_enabled:
        raise _refuse(
            "absences_disabled", "This business does not take absence reports online.", 403
        )
    enrollment = _enrollment(family, enrollment_id)
    offering = enrollment.offering
    if (
        meeting_date not in camp_days.meetings_of(offering, enrollment.camp_days)
        or meeting_date < enrollment.start_date
    ):
        raise _refuse(
            "not_a_meeting",
            _("%(class)s does not meet on %(date)s.")
            % {"class": offering.name, "date": formats.day(meeting_date)},
        )
    deadline = _meeting_start(offering, meeting_date) - timedelta(hours=portal.absence_notice_hours)
    if timezone.now() > deadline:
        raise _refuse(
            "absence_too_late",
            _("Absences must be reported at least %(hours)s hours before class.")
            % {"hours": portal.absence_notice_hours},
        )
    if Request.objects.filter(
        type=Request.Type.ABSENCE,
        enrollment=enrollment,
        meeting_date=meeting_date,
        status__in=[Request.Status.PENDING, Request.Status.APPROVED],
    ).exists():
        raise _absence_already_reported()
    # A concurrent report of the same absence passed the check too: the partial unique index
    # makes one of the INSERTs wait for the other and fail, rolling back its makeup token.
    with _refused_on_race(portal), transaction.atomic():
        req = Request.objects.create(
            type=Request.Type.ABSENCE,
            family=family,
            student=enrollment.student,
            enrollment=enrollment,
            meeting_date=meeting_date,
            reason=(reason or "")[:2000],
        )
        if portal.absences_auto_approve:
            _approve(req, portal, note="", by=None)
            _activity(req)  # the family's report, approved by the business's rule
        else:
            _notify(req)
            _activity(req)
    return req


# --- makeup ----------------------------------------------------------------------------------


def makeup_request(*, family: Family, token_id, offering_id, meeting_date: date) -> Request:
    portal = portal_settings_get()
    if not portal.makeups_enabled:
        raise _refuse("makeups_disabled", "This business does not book makeups online.", 403)
    token = (
        MakeupToken.objects.select_related("student__level")
        .filter(pk=token_id, family=family)
        .first()
    )
    if token is None:
        raise ApplicationError(
            "makeup_token_not_found", "We could not find that makeup token.", status=404
        )
    today = timezone.localdate()
    if token.status != MakeupToken.Status.AVAILABLE:
        raise _refuse("makeup_token_used", "This makeup token has already been used.", 409)
    if token.expires_on < today or meeting_date > token.expires_on:
        raise _refuse(
            "makeup_token_expired",
            _("This makeup token is valid until %(date)s.")
            % {"date": formats.day(token.expires_on)},
            409,
        )
    offering = (
        Offering.objects.prefetch_related("levels")
        .filter(pk=offering_id, status=Offering.Status.PUBLISHED)
        .first()
    )
    if offering is None:
        raise ApplicationError("offering_not_found", "We could not find that class.", status=404)
    if offering.kind != token.kind or offering.program_id != token.program_id:
        raise _refuse(
            "makeup_not_eligible",
            (
                _("This token is for %(program)s camps; pick one of those.")
                if token.kind == "camp"
                else _("This token is for %(program)s events; pick one of those.")
                if token.kind == "event"
                else _("This token is for %(program)s classes; pick one of those.")
            )
            % {"program": token.program.name},
            409,
        )
    eligibility.check_student(token.student, offering)
    if meeting_date not in offering.meetings() or meeting_date < today:
        raise _refuse(
            "not_a_meeting",
            _("%(class)s does not meet on %(date)s.")
            % {"class": offering.name, "date": formats.day(meeting_date)},
        )
    if Enrollment.objects.filter(
        student=token.student, offering=offering, status__in=Enrollment.LIVE
    ).exists():
        raise _refuse(
            "already_enrolled",
            _("%(name)s is already in %(class)s.")
            % {"name": token.student.first_name, "class": offering.name},
            409,
        )
    with transaction.atomic():
        lock_offerings([offering.pk])  # makeup seats per meeting are counted under the lock
        booked = Request.objects.filter(
            type=Request.Type.MAKEUP,
            target_offering=offering,
            meeting_date=meeting_date,
            status__in=[Request.Status.PENDING, Request.Status.APPROVED],
        ).count()
        if booked >= portal.makeup_seats_per_class:
            raise _refuse(
                "makeup_class_full",
                _("%(class)s has no makeup seats left on %(date)s.")
                % {"class": offering.name, "date": formats.day_of_year(meeting_date)},
                409,
            )
        token = MakeupToken.objects.select_for_update(of=("self",)).get(pk=token.pk)
        if token.status != MakeupToken.Status.AVAILABLE:
            raise _refuse("makeup_token_used", "This makeup token has already been used.", 409)
        token.status = MakeupToken.Status.REDEEMED
        token.save(update_fields=["status"])
        req = Request.objects.create(
            type=Request.Type.MAKEUP,
            family=family,
            student=token.student,
            makeup_token=token,
            target_offering=offering,
            meeting_date=meeting_date,
            status=Request.Status.APPROVED,
            decided_at=timezone.now(),
        )
        _notify(req)
        _activity(req)
    return req


# --- transfer --------------------------------------------------------------------------------


def _remaining(offering: Offering, since: date, chosen=()) -> tuple[int, int]:
    meetings = camp_days.meetings_of(offering, chosen)
    return len([d for d in meetings if d >= since]), max(len(meetings), 1)


def transfer_preview(*, family: Family, enrollment_id, offering_id, by_staff: bool = False) -> dict:
    """The prorated price difference of moving to another offering (positive: the family owes
    it; negative: a credit), with the rules checked as the request would check them. Staff
    (``by_staff``) transfer at the desk even when families may not ask online."""
    portal = portal_settings_get()
    if not portal.transfers_enabled and not by_staff:
        raise _refuse(
            "transfers_disabled", "This business does not take transfer requests online.", 403
        )
    enrollment = _enrollment(family, enrollment_id)
    target = (
        Offering.objects.prefetch_related("levels")
        .filter(pk=offering_id, status=Offering.Status.PUBLISHED, kind__in=portal.shown_kinds())
        .first()
    )
    if target is None:
        raise ApplicationError("offering_not_found", "We could not find that class.", status=404)
    if target.pk == enrollment.offering_id:
        raise _refuse("same_offering", "Pick a different class to transfer to.")
    camp_days.refuse_without_days(target)
    if portal.one_transfer_per_enrollment and (
        enrollment.transferred_from_id is not None
        or Request.objects.filter(
            type=Request.Type.TRANSFER,
            enrollment=enrollment,
            status__in=[Request.Status.PENDING, Request.Status.APPROVED],
        ).exists()
    ):
        raise _refuse("transfer_limit", "This enrollment has already been transferred once.", 409)
    if portal.transfers_next_level_only:
        level = enrollment.student.level
        allowed = {
            lv.position
            for lv in target.levels.all()
            if lv.program_id == (level.program_id if level else None)
        }
        if level is None or (level.position + 1) not in allowed:
            raise _refuse(
                "transfer_next_level_only",
                "Transfers may only move a student into the next level.",
                409,
            )
    student = enrollment.student
    eligibility.check_registration_window(target, portal, timezone.now())
    # A transfer may move a student up: the target may be their level or the next one.
    eligibility.check_student(student, target, check_level=False)
    target_levels = list(target.levels.all())
    if target_levels and student.level is not None:
        fits = {(lv.program_id, lv.position) for lv in target_levels}
        mine = student.level
        if (mine.program_id, mine.position) not in fits and (
            mine.program_id,
            mine.position + 1,
        ) not in fits:
            raise _refuse(
                "level_mismatch",
                _("%(class)s is not at %(name)s's level or the next one.")
                % {"class": target.name, "name": student.first_name},
                409,
            )
    eligibility.check_not_taken(student, target)
    today = timezone.localdate()
    left_now, total_now = _remaining(enrollment.offering, today, enrollment.camp_days)
    left_new, total_new = _remaining(target, today)
    paid = camp_days.tuition_for(enrollment.offering, enrollment.camp_days)
    credit = paid * left_now // total_now
    charge = target.tuition * left_new // total_new
    return {
        "enrollment": enrollment,
        "target": target,
        "credit": credit,
        "charge": charge,
        "difference": charge - credit,
        "currency": connection.tenant.currency,
    }


def transfer_request(*, family: Family, enrollment_id, offering_id, reason: str = "") -> Request:
    portal = portal_settings_get()
    preview = transfer_preview(family=family, enrollment_id=enrollment_id, offering_id=offering_id)
    if preview["target"].openings <= 0:
        raise _refuse(
            "offering_full", _("%(class)s is full.") % {"class": preview["target"].name}, 409
        )
    if Request.objects.filter(
        type=Request.Type.TRANSFER, enrollment=preview["enrollment"], status=Request.Status.PENDING
    ).exists():
        raise _transfer_already_requested(portal)
    with _refused_on_race(portal, Request.Type.TRANSFER), transaction.atomic():
        req = Request.objects.create(
            type=Request.Type.TRANSFER,
            family=family,
            student=preview["enrollment"].student,
            enrollment=preview["enrollment"],
            target_offering=preview["target"],
            price_difference=preview["difference"],
            reason=(reason or "")[:2000],
        )
        _notify(req)
        _activity(req)
    return req


# --- drop ------------------------------------------------------------------------------------


def drop_request(
    *, family: Family, enrollment_id, effective_date: date, reason: str = ""
) -> Request:
    portal = portal_settings_get()
    if not portal.drops_enabled:
        raise _refuse("drops_disabled", "This business does not take drop requests online.", 403)
    enrollment = _enrollment(family, enrollment_id)
    earliest = timezone.localdate() + timedelta(days=portal.drop_notice_days)
    if effective_date < earliest:
        raise _refuse(
            "drop_too_soon",
            _("A drop can take effect on %(date)s at the earliest (%(days)s days' notice).")
            % {"date": formats.day(earliest), "days": portal.drop_notice_days},
        )
    reason = (reason or "").strip()
    if portal.drop_reason_required and not reason:
        raise _refuse("drop_reason_required", "Please tell us why you are dropping.")
    if Request.objects.filter(
        type=Request.Type.DROP, enrollment=enrollment, status=Request.Status.PENDING
    ).exists():
        raise _drop_already_requested()
    with _refused_on_race(portal, Request.Type.DROP), transaction.atomic():
        req = Request.objects.create(
            type=Request.Type.DROP,
            family=family,
            student=enrollment.student,
            enrollment=enrollment,
            effective_date=effective_date,
            reason=reason[:2000],
        )
        _notify(req)
        _activity(req)
    return req


# --- lifecycle -------------------------------------------------------------------------------


def request_cancel(*, family: Family, request_id) -> Request:
    with transaction.atomic():
        req = (
            Request.objects.select_for_update(of=("self",))
            .filter(pk=request_id, family=family)
            .first()
        )
        if req is None:
            raise ApplicationError(
                "request_not_found", "We could not find that request.", status=404
            )
        if req.status != Request.Status.PENDING:
            raise _refuse("request_not_pending", "Only a pending request can be cancelled.", 409)
        req.status = Request.Status.CANCELLED
        req.save(update_fields=["status"])
        _notify(req)
        _activity(req)
    return req


NOTE_MAX = 2000


def _decision_note(note, *, approve: bool) -> str:
    """The note the family reads with the decision: optional with an approval, the reason
    (required) with a denial. Refused with nothing changed when it cannot be stored."""
    if note is None:
        note = ""
    if not isinstance(note, str) or "\x00" in note:
        raise ApplicationError(
            "invalid_input", "The note is not text.", fields={"note": ["Type the note as text."]}
        )
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ApplicationError(
            "invalid_input",
            _("The note is longer than %(count)s characters.")
            % {"count": formats.number(NOTE_MAX)},
            fields={
                "note": [_("At most %(count)s characters.") % {"count": formats.number(NOTE_MAX)}]
            },
        )
    if not approve and not note:
        raise ApplicationError(
            "deny_reason_required",
            "Give the family the reason for the denial.",
            fields={"note": ["Give the family the reason for the denial."]},
        )
    return note


def _not_pending(req: Request) -> ApplicationError:
    """Deciding a request someone already decided (another tab, a colleague) or the family
    cancelled: say what happened to it, so the person sees the page they had was stale."""
    if req.status == Request.Status.CANCELLED:
        message = "The family cancelled this request; there is nothing to decide."
    else:
        when, who = "", ""
        if req.decided_at:
            when = f" on {timezone.localtime(req.decided_at):%b %-d, %Y at %H:%M}"
        if req.decided_by_id:
            email = (
                User.objects.filter(pk=req.decided_by_id).values_list("email", flat=True).first()
            )
            who = f" by {email}" if email else ""
        message = f"This request was already {req.status}{who}{when}; nothing was changed."
    return _refuse("request_not_pending", message, 409)


def request_decide(*, request_id, approve: bool, note: str = "", by=None) -> Request:
    """Staff approve or deny a pending request, with a note the family sees (a denial needs
    one: ``deny_reason_required``). The family is emailed (and pushed) after the commit; the
    family's inbox item about the request is marked processed and the decision lands in the
    inbox as a processed item by the decider. A request no longer pending (decided meanwhile,
    cancelled by the family) is refused with ``request_not_pending`` (409) and nothing
    changes, as is every refusal of the approval itself (a transfer's full class)."""
    if not isinstance(approve, bool):
        raise ApplicationError(
            "invalid_input",
            "Choose approve or deny.",
            fields={"decision": ["Choose approve or deny."]},
        )
    note = _decision_note(note, approve=approve)
    portal = portal_settings_get()
    with transaction.atomic():
        req = (
            Request.objects.select_for_update(of=("self",))
            .select_related("enrollment__offering", "target_offering", "student")
            .filter(pk=request_id)
            .first()
        )
        if req is None:
            raise ApplicationError(
                "request_not_found", "We could not find that request.", status=404
            )
        if req.status != Request.Status.PENDING:
            raise _not_pending(req)
        if approve:
            _approve(req, portal, note=note, by=by)
        else:
            req.status = Request.Status.DENIED
            req.staff_note = note
            req.decided_by = by if getattr(by, "pk", None) else None
            req.decided_at = timezone.now()
            req.save(update_fields=["status", "staff_note", "decided_by", "decided_at"])
            _notify(req)
        _activity_decided(req, by)
    return req


def _activity_decided(req: Request, by) -> None:
    """Staff decided the request: the family's item about it is handled, and the decision
    is kept in the inbox (processed, by whom) beside it."""
    activity_process_about(obj=req, by=by, via="request_decided")
    activity_record(
        kind="request",
        family_id=req.family_id,
        summary=f"{req.student.first_name}: {req.get_type_display().lower()} {req.status}",
        obj=req,
        processed_by=by,
        processed=True,
    )


def _approve(req: Request, portal, *, note: str, by) -> None:
    now = timezone.now()
    if req.type == Request.Type.ABSENCE:
        req.issued_token = makeup_token_for_absence(enrollment=req.enrollment, portal=portal)
    elif req.type == Request.Type.TRANSFER:
        _apply_transfer(req, portal, now)
    elif req.type == Request.Type.DROP:
        _apply_drop(req, now)
    req.status = Request.Status.APPROVED
    req.staff_note = (note or "")[:NOTE_MAX]
    req.decided_by = by if getattr(by, "pk", None) else None
    req.decided_at = now
    req.save()
    _notify(req)


def _apply_transfer(req: Request, portal, now) -> None:
    source, target = req.enrollment, req.target_offering
    offerings = lock_offerings([source.offering_id, target.pk])
    target = offerings[target.pk]
    settle(target, portal, now)
    if target.openings <= 0:
        raise _refuse(
            "offering_full",
            _("%(class)s is full; the transfer cannot be approved.") % {"class": target.name},
            409,
        )
    today = timezone.localdate(now)
    upcoming = [d for d in target.meetings() if d >= today]
    source.status = Enrollment.Status.TRANSFERRED
    source.end_date = today
    source.save(update_fields=["status", "end_date", "updated_at"])
    Enrollment.objects.create(
        family_id=req.family_id,
        student_id=req.student_id,
        offering=target,
        status=Enrollment.Status.ACTIVE,
        start_date=upcoming[0] if upcoming else target.start_date,
        transferred_from=source,
    )
    for offering in offerings.values():
        settle(offering, portal, now)
    _post_transfer_difference(req, source.offering, target)


def _post_transfer_difference(req: Request, source: Offering, target: Offering) -> None:
    """The price difference the family saw in the preview: owed (an invoice the family pays
    online or autopay collects from the saved card) or credited to the account."""
    difference = req.price_difference or 0
    description = f"Transfer of {req.student.first_name}: {source.name} to {target.name}"
    if difference > 0:
        invoice_create(
            family=req.family,
            kind=Order.Kind.ADJUSTMENT,
            lines=[
                Line(
                    OrderLine.Kind.TRANSFER,
                    f"{description} (prorated difference)",
                    difference,
                    req.student_id,
                    target.pk,
                )
            ],
            idempotency_key=f"transfer:{req.pk}",
        )
    elif difference < 0:
        ledger_post(
            family_id=req.family_id,
            kind=LedgerEntry.Kind.CREDIT,
            description=f"{description} (prorated credit)",
            amount=difference,
            currency=connection.tenant.currency,
            source_key=f"transfer:{req.pk}",
        )


def _apply_drop(req: Request, now) -> None:
    """The student attends until the effective date; the seat frees the day after
    (``enrollments_finish_due`` in the enrollment sweep)."""
    enrollment = Enrollment.objects.select_for_update(of=("self",)).get(pk=req.enrollment_id)
    enrollment.end_date = req.effective_date
    enrollment.save(update_fields=["end_date", "updated_at"])
    if req.effective_date < timezone.localdate(now):
        transaction.on_commit(lambda: settle_offerings([enrollment.offering_id]))


def makeup_tokens_expire() -> int:
    return MakeupToken.objects.filter(
        status=MakeupToken.Status.AVAILABLE, expires_on__lt=timezone.localdate()
    ).update(status=MakeupToken.Status.EXPIRED)
