"""What staff do to seats from the admin: drop an enrollment, cancel a pending one, take a
student off a waitlist. The admin offers these as actions instead of delete (a deleted row
would leave ``Offering.seats_taken`` counting a seat nobody holds): each runs under the
offering's lock and settles it, so the seat goes back (or to the next waiting family) at once."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.config.selectors import portal_settings_get

from ..errors import not_found
from ..models import Enrollment, Hold, WaitlistEntry
from .seats import hold_release, lock_offerings, recount, settle


def _locked_enrollment(enrollment_id: int) -> tuple[Enrollment, object]:
    """The enrollment, re-read under its offering's lock (and its own). In a transaction."""
    enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
    if enrollment is None:
        raise not_found("enrollment")
    offering = lock_offerings([enrollment.offering_id])[enrollment.offering_id]
    enrollment = Enrollment.objects.select_for_update(of=("self",)).get(pk=enrollment_id)
    return enrollment, offering


def enrollment_staff_drop(*, enrollment_id: int) -> Enrollment:
    """End an active enrollment today: the seat frees now (a family's drop request instead
    keeps the seat until its effective date)."""
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        enrollment, offering = _locked_enrollment(enrollment_id)
        if enrollment.status != Enrollment.Status.ACTIVE:
            raise ApplicationError(
                "enrollment_not_active",
                _("Only an active enrollment can be dropped; this one is %(status)s.")
                % {"status": enrollment.get_status_display().lower()},
                status=409,
            )
        enrollment.status = Enrollment.Status.DROPPED
        enrollment.end_date = timezone.localdate(now)
        enrollment.save(update_fields=["status", "end_date", "updated_at"])
        settle(offering, portal, now)
    return enrollment


def enrollment_staff_cancel(*, enrollment_id: int) -> Enrollment:
    """Cancel an enrollment waiting for the business's approval. A seat reserved by an unpaid
    order is not cancelled here: the order owns it (and its money) and releases it when it
    lapses."""
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        enrollment, offering = _locked_enrollment(enrollment_id)
        if enrollment.status == Enrollment.Status.RESERVED:
            raise ApplicationError(
                "enrollment_reserved_by_order",
                _(
                    "This seat is reserved by order %(order)s, awaiting payment; it is released "
                    "when the order lapses."
                )
                % {"order": enrollment.order_id},
                status=409,
            )
        if enrollment.status != Enrollment.Status.PENDING:
            raise ApplicationError(
                "enrollment_not_pending",
                _(
                    "Only an enrollment pending approval can be cancelled; this one is "
                    "%(status)s. Drop an active one instead."
                )
                % {"status": enrollment.get_status_display().lower()},
                status=409,
            )
        enrollment.status = Enrollment.Status.CANCELLED
        enrollment.save(update_fields=["status", "updated_at"])
        settle(offering, portal, now)
    return enrollment


def waitlist_staff_remove(*, entry_id: int) -> WaitlistEntry:
    """Take a student off a waitlist: a waiting entry leaves the list; an offered seat is
    withdrawn and passes to the next waiting family."""
    portal = portal_settings_get()
    now = timezone.now()
    entry = WaitlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise not_found("waitlist_entry")
    with transaction.atomic():
        offering = lock_offerings([entry.offering_id])[entry.offering_id]
        entry = WaitlistEntry.objects.select_for_update(of=("self",)).get(pk=entry_id)
        if entry.status not in WaitlistEntry.LIVE:
            raise ApplicationError(
                "not_on_waitlist",
                _("This entry is no longer on the waitlist (%(status)s).")
                % {"status": entry.get_status_display().lower()},
                status=409,
            )
        if entry.status == WaitlistEntry.Status.OFFERED and entry.hold_id is not None:
            hold = Hold.objects.select_for_update(of=("self",)).get(pk=entry.hold_id)
            if hold.status == Hold.Status.OFFER:
                hold_release(hold, status=Hold.Status.RELEASED, now=now)
        entry.status = WaitlistEntry.Status.LEFT
        entry.note = "Removed by staff."
        entry.save(update_fields=["status", "note"])
        settle(offering, portal, now)
    return entry


def waitlist_staff_offer(*, entry_id: int, by, override_reason: str = "") -> WaitlistEntry:
    """Offer a waiting student a seat by hand, out of turn: the same offer (hold, window,
    email) as the automatic ones. The student must still be eligible. With no free seat the
    offer needs a reason (a seat above the capacity), recorded on the entry and audited."""
    from portal.privacy.audit import audit_record

    from .. import eligibility
    from .seats import waitlist_offer_make

    override_reason = override_reason.strip() if isinstance(override_reason, str) else ""
    portal = portal_settings_get()
    now = timezone.now()
    entry = WaitlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise not_found("waitlist_entry")
    with transaction.atomic():
        offering = lock_offerings([entry.offering_id])[entry.offering_id]
        settle(offering, portal, now)
        entry = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("student__level", "family")
            .get(pk=entry_id)
        )
        if entry.status != WaitlistEntry.Status.WAITING:
            raise ApplicationError(
                "waitlist_not_waiting",
                _("Only a waiting student can be offered a seat; this entry is %(status)s.")
                % {"status": entry.get_status_display().lower()},
                status=409,
            )
        eligibility.check_student(entry.student, offering)
        eligibility.check_not_taken(entry.student, offering)
        over = offering.openings <= 0
        if over and not override_reason:
            raise ApplicationError(
                "offering_full",
                _("%(class)s is full: give a reason to offer a seat above its capacity.")
                % {"class": offering.name},
                status=409,
                fields={"override_reason": ["Give a reason to offer a seat above capacity."]},
            )
        waitlist_offer_make(entry, offering, portal, now)
        if over:
            entry.note = f"Offered above capacity: {override_reason}"[:255]
            entry.save(update_fields=["note"])
        recount(offering, portal)
        audit_record(
            action="waitlist_staff_offer",
            obj=entry,
            user=by,
            fields={
                "offering": offering.pk,
                "override_reason": override_reason[:200] if over else "",
            },
        )
    return entry


def waitlist_staff_move(*, entry_id: int, position: int, by=None) -> WaitlistEntry:
    """Put a live waitlist entry at ``position`` (1 = next in line) among the offering's live
    entries, renumbering their priorities in steps of 10. Under the offering's lock."""
    from portal.privacy.audit import audit_record

    if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= 10000:
        raise ApplicationError(
            "invalid_input",
            "The position is a whole number from 1.",
            fields={"position": ["A whole number from 1."]},
        )
    entry = WaitlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise not_found("waitlist_entry")
    with transaction.atomic():
        lock_offerings([entry.offering_id])
        live = list(
            WaitlistEntry.objects.select_for_update(of=("self",))
            .filter(offering_id=entry.offering_id, status__in=WaitlistEntry.LIVE)
            .order_by("priority", "created_at", "pk")
        )
        moving = next((e for e in live if e.pk == entry_id), None)
        if moving is None:
            entry.refresh_from_db()
            raise ApplicationError(
                "not_on_waitlist",
                _("This entry is no longer on the waitlist (%(status)s).")
                % {"status": entry.get_status_display().lower()},
                status=409,
            )
        before = live.index(moving) + 1
        live.remove(moving)
        live.insert(min(position, len(live) + 1) - 1, moving)
        for index, row in enumerate(live, start=1):
            if row.priority != index * 10:
                row.priority = index * 10
                row.save(update_fields=["priority"])
        audit_record(
            action="waitlist_staff_move",
            obj=moving,
            user=by,
            fields={"from": before, "to": live.index(moving) + 1},
        )
    return moving
