"""What staff do to seats from the admin: drop an enrollment, cancel a pending one, take a
student off a waitlist. The admin offers these as actions instead of delete (a deleted row
would leave ``Offering.seats_taken`` counting a seat nobody holds): each runs under the
offering's lock and settles it, so the seat goes back (or to the next waiting family) at once."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from portal.config.selectors import portal_settings_get
from saas_platform.errors import ApplicationError

from ..errors import not_found
from ..models import Enrollment, Hold, WaitlistEntry
from .seats import hold_release, lock_offerings, settle


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
                f"Only an active enrollment can be dropped; this one is "
                f"{enrollment.get_status_display().lower()}.",
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
                f"This seat is reserved by order {enrollment.order_id}, awaiting payment; it is "
                "released when the order lapses.",
                status=409,
            )
        if enrollment.status != Enrollment.Status.PENDING:
            raise ApplicationError(
                "enrollment_not_pending",
                f"Only an enrollment pending approval can be cancelled; this one is "
                f"{enrollment.get_status_display().lower()}. Drop an active one instead.",
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
                f"This entry is no longer on the waitlist ({entry.get_status_display().lower()}).",
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
