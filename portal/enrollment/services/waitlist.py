"""Waitlists for classes, camps and events alike: join, leave, accept or decline an offer.
Seats are offered to waiting families by ``seats.settle`` whenever one frees up."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError, violated_constraint
from portal.accounts.models import Family
from portal.activity.services import activity_record
from portal.config.selectors import portal_settings_get

from .. import camp_days, eligibility, selectors
from ..errors import not_found
from ..models import Hold, WaitlistEntry
from .seats import (
    expire_lapsed,
    hold_release,
    lock_offerings,
    recount,
    schedule_hold_expiry,
    settle,
    waitlist_offer_seats,
)

# --- waitlists -------------------------------------------------------------------------------


def waitlist_join(
    *, family: Family, student_id: int, offering_id: int, keyword: str = ""
) -> WaitlistEntry:
    """Join a full offering's waitlist (classes, camps and events alike)."""
    portal = portal_settings_get()
    student = selectors.student_for_family(family, student_id)
    offering = selectors.offering_visible(offering_id, portal)
    camp_days.refuse_without_days(offering)
    now = timezone.now()
    eligibility.check_registration_window(offering, portal, now)
    eligibility.check_family(family, portal, now, keyword)
    eligibility.check_student(student, offering)
    try:
        return _waitlist_insert(family, student, offering, portal, now)
    except IntegrityError as exc:
        # Joins are serialised by the offering's lock; the partial unique index
        # (enrollment_one_live_waitlist_entry) is the backstop for any path that is not.
        if violated_constraint(exc) != WAITLIST_CONSTRAINT:
            raise
        raise _already_waitlisted(student) from exc


WAITLIST_CONSTRAINT = "enrollment_one_live_waitlist_entry"


def _already_waitlisted(student) -> ApplicationError:
    return ApplicationError(
        "already_waitlisted",
        _("%(name)s is already on this waitlist.") % {"name": student.first_name},
        status=409,
    )


def _waitlist_insert(family, student, offering, portal, now) -> WaitlistEntry:
    with transaction.atomic():
        offering = lock_offerings([offering.pk])[offering.pk]
        settle(offering, portal, now)
        eligibility.check_not_taken(student, offering)
        if WaitlistEntry.objects.filter(
            student=student, offering=offering, status__in=WaitlistEntry.LIVE
        ).exists():
            raise _already_waitlisted(student)
        if offering.openings > 0 and not offering.waitlist_count:
            raise ApplicationError(
                "offering_has_openings",
                _("%(class)s has a free seat: add it to your cart instead.")
                % {"class": offering.name},
                status=409,
            )
        last = WaitlistEntry.objects.filter(offering=offering).order_by("-priority").first()
        entry = WaitlistEntry.objects.create(
            offering=offering,
            family=family,
            student=student,
            priority=(last.priority + 10) if last else 10,
            created_at=now,
        )
        recount(offering, portal)
        activity_record(
            kind="waitlist_join",
            family_id=family.pk,
            summary=f"{student.first_name}: joined the waitlist of {offering.name}",
            obj=entry,
        )
    return entry


def waitlist_position(entry: WaitlistEntry) -> int | None:
    if entry.status not in WaitlistEntry.LIVE:
        return None
    ahead = (
        WaitlistEntry.objects.filter(offering_id=entry.offering_id, status__in=WaitlistEntry.LIVE)
        .filter(
            Q(priority__lt=entry.priority)
            | Q(priority=entry.priority, created_at__lt=entry.created_at)
            | Q(priority=entry.priority, created_at=entry.created_at, pk__lt=entry.pk)
        )
        .count()
    )
    return ahead + 1


def waitlist_advance_for(*, offering_id: int) -> int:
    """Offer any free seats of an offering (after a drop, a capacity raise, ...)."""
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        locked = lock_offerings([offering_id])
        if offering_id not in locked:
            return 0
        offering = locked[offering_id]
        expire_lapsed(offering, now)
        recount(offering, portal)
        offered = waitlist_offer_seats(offering, portal, now) if offering.openings > 0 else 0
        recount(offering, portal)
    return offered


def _family_entry(family: Family, entry_id: int) -> WaitlistEntry:
    entry = WaitlistEntry.objects.filter(pk=entry_id, family=family).select_related("hold").first()
    if entry is None:
        raise not_found("waitlist_entry")
    return entry


def waitlist_accept(*, family: Family, entry_id: int) -> Hold:
    """Take the offered seat: it moves into the cart with the normal hold timer."""
    portal = portal_settings_get()
    entry = _family_entry(family, entry_id)
    now = timezone.now()
    with transaction.atomic():
        offering = lock_offerings([entry.offering_id])[entry.offering_id]
        expire_lapsed(offering, now)
        entry.refresh_from_db()
        hold = entry.hold
        if entry.status != WaitlistEntry.Status.OFFERED or hold is None:
            code = "offer_expired" if entry.status == WaitlistEntry.Status.LAPSED else "no_offer"
            message = (
                "This offer has expired."
                if code == "offer_expired"
                else "There is no seat offered to you on this waitlist yet."
            )
            raise ApplicationError(code, message, status=409)
        hold.refresh_from_db()
        hold.status = Hold.Status.ACTIVE
        hold.expires_at = now + timedelta(minutes=portal.hold_timer_minutes)
        hold.save(update_fields=["status", "expires_at"])
        entry.status = WaitlistEntry.Status.ACCEPTED
        entry.save(update_fields=["status"])
        activity_record(
            kind="waitlist_accept",
            family_id=family.pk,
            summary=f"{hold.student.first_name}: accepted a seat in {offering.name}",
            obj=entry,
        )
        settle(offering, portal, now)
        schedule_hold_expiry(hold)
    return hold


def waitlist_decline(*, family: Family, entry_id: int) -> None:
    """Decline an offer (the seat goes to the next family) or leave the list."""
    portal = portal_settings_get()
    entry = _family_entry(family, entry_id)
    now = timezone.now()
    with transaction.atomic():
        offering = lock_offerings([entry.offering_id])[entry.offering_id]
        entry.refresh_from_db()
        if entry.status == WaitlistEntry.Status.OFFERED and entry.hold is not None:
            hold = Hold.objects.select_for_update(of=("self",)).get(pk=entry.hold_id)
            if hold.status == Hold.Status.OFFER:
                hold_release(hold, status=Hold.Status.RELEASED, now=now)
            entry.status = WaitlistEntry.Status.DECLINED
        elif entry.status == WaitlistEntry.Status.WAITING:
            entry.status = WaitlistEntry.Status.LEFT
        else:
            raise ApplicationError(
                "not_on_waitlist", "You are no longer on this waitlist.", status=409
            )
        entry.save(update_fields=["status"])
        settle(offering, portal, now)
