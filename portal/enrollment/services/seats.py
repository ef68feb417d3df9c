"""Seats. Every function that takes or frees a seat runs in one transaction holding the row
locks of the offerings involved (taken in primary-key order with a short lock timeout), expires
whatever has lapsed on those offerings, and recounts ``Offering.seats_taken`` before it commits.
A stale cache or a lost Celery task can therefore never oversell or keep a seat."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from kernel.errors import ApplicationError
from kernel.queries import CompiledQuery, prepared_cursor
from kernel.tasks import enqueue_on_commit
from portal import links
from portal.accounts.models import Family
from portal.activity.services import activity_record
from portal.catalog.availability import offerings_changed
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.privacy.audit import audit_bulk

from .. import camp_days, eligibility
from ..errors import busy
from ..models import Enrollment, Hold, Order, WaitlistEntry
from ..notifications import notify_family

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = "3s"


# --- locking and counting ------------------------------------------------------------------


# The lock of every hold and checkout of one class, compiled once per connection
# (kernel.queries.CompiledQuery).
_LOCK_ONE = CompiledQuery(
    lambda offering_id: Offering.objects.select_for_update(of=("self",)).filter(pk=offering_id),
    offering_id=int,
)


def lock_offerings(ids) -> dict[int, Offering]:
    """Lock offerings in primary-key order (no deadlocks between two carts). Caller holds an
    open transaction; the locks last until it ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_offerings needs a transaction")
    ids = sorted(set(ids))
    # Every seat change comes through here: search's cached availability of these offerings is
    # dropped now and rewritten from the committed counters after commit.
    offerings_changed(ids)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        if len(ids) == 1:  # one class in the cart: nearly always
            locked = _LOCK_ONE.all(offering_id=ids[0])
        else:
            locked = list(
                Offering.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
            )
    except OperationalError as exc:
        if "lock timeout" in str(exc).lower() or "canceling statement" in str(exc).lower():
            raise busy() from exc
        raise
    return {offering.pk: offering for offering in locked}


_LAPSED_SQL = """
    SELECT 'ended', e.id, e.family_id, e.start_date::timestamp FROM portal_enrollment_enrollment e
     WHERE e.offering_id = %(offering)s AND e.status = 'active' AND e.end_date < %(today)s
    UNION ALL
    SELECT 'hold', h.id, h.family_id, h.created_at::timestamp FROM portal_enrollment_hold h
     WHERE h.offering_id = %(offering)s AND h.status IN ('active', 'offer')
       AND h.expires_at <= %(now)s
    UNION ALL
    SELECT 'unpaid', e.id, e.family_id, e.start_date::timestamp FROM portal_enrollment_enrollment e
      JOIN portal_enrollment_order o ON o.id = e.order_id
     WHERE e.offering_id = %(offering)s AND e.status = 'reserved'
       AND o.status = 'awaiting_payment' AND o.expires_at <= %(now)s
    ORDER BY 1, 4, 2
"""


def expire_lapsed(offering: Offering, now: datetime) -> bool:
    """Under the offering's lock: end holds, offers and unpaid orders whose time is up, and
    enrollments whose drop date has passed. Returns whether anything was freed. What has
    lapsed is found with one statement (usually nothing has: one query under the lock instead
    of three)."""
    with prepared_cursor() as cursor:
        cursor.execute(
            _LAPSED_SQL,
            {"offering": offering.pk, "today": timezone.localdate(now), "now": now},
        )
        found: dict[str, list[tuple[int, int]]] = {"ended": [], "hold": [], "unpaid": []}
        for kind, pk, family_id, _order in cursor.fetchall():
            found[kind].append((pk, family_id))
    freed = False
    ended = found["ended"]
    if ended:
        freed = bool(
            Enrollment.objects.filter(pk__in=[pk for pk, _ in ended]).update(
                status=Enrollment.Status.DROPPED, updated_at=now
            )
        )
        audit_bulk(
            action="update", model=Enrollment, rows=ended, fields={"status": ["active", "dropped"]}
        )
    if found["hold"]:
        for hold in Hold.objects.filter(pk__in=[pk for pk, _ in found["hold"]]):
            was_offer = hold.status == Hold.Status.OFFER
            hold.status = Hold.Status.EXPIRED
            hold.ended_at = now
            hold.save(update_fields=["status", "ended_at"])
            if was_offer:
                WaitlistEntry.objects.filter(hold=hold, status=WaitlistEntry.Status.OFFERED).update(
                    status=WaitlistEntry.Status.LAPSED
                )
            freed = True
    # Seats reserved by an order not paid in time go back. The order itself is lapsed by
    # ``portal.orders`` (which releases what it tendered); the seat does not wait for that.
    unpaid_rows = found["unpaid"]
    if unpaid_rows:
        Enrollment.objects.filter(pk__in=[pk for pk, _ in unpaid_rows]).update(
            status=Enrollment.Status.CANCELLED, updated_at=now
        )
        audit_bulk(
            action="update",
            model=Enrollment,
            rows=unpaid_rows,
            fields={"status": ["reserved", "cancelled"]},
        )
        freed = True
    return freed


_RECOUNT_SQL = """
    UPDATE portal_catalog_offering AS o SET
        seats_taken =
            (SELECT count(*) FROM portal_enrollment_hold h
              WHERE h.offering_id = o.id AND h.status IN ('active', 'offer'))
          + (SELECT count(*) FROM portal_enrollment_enrollment e
              WHERE e.offering_id = o.id AND e.status = ANY(%s)),
        waitlist_count =
            (SELECT count(*) FROM portal_enrollment_waitlistentry w
              WHERE w.offering_id = o.id AND w.status IN ('waiting', 'offered'))
    WHERE o.id = %s
    RETURNING seats_taken, waitlist_count
"""


def recount(offering: Offering, portal) -> Offering:
    """Recompute the seat and waitlist counters from the rows (under the offering's lock), in
    one statement."""
    seat_statuses = [Enrollment.Status.RESERVED, Enrollment.Status.ACTIVE]
    if portal.pending_requests_count_against_openings:
        seat_statuses.append(Enrollment.Status.PENDING)
    with connection.cursor() as cursor:
        cursor.execute(_RECOUNT_SQL, [[str(s) for s in seat_statuses], offering.pk])
        offering.seats_taken, offering.waitlist_count = cursor.fetchone()
    if offering.days_selectable:
        # A camp booked by the day counts each day: its counter is its least-taken day's.
        counts = camp_days.day_counts(offering, portal)
        taken = camp_days.least_taken(offering, counts, timezone.localdate())
        if taken != offering.seats_taken:
            Offering.objects.filter(pk=offering.pk).update(seats_taken=taken)
            offering.seats_taken = taken
    return offering


def settle(offering: Offering, portal, now: datetime) -> Offering:
    """Expire what lapsed, hand freed seats to the waitlist, recount. Under the lock."""
    expire_lapsed(offering, now)
    recount(offering, portal)
    if offering.openings > 0 and offering.waitlist_count:
        waitlist_offer_seats(offering, portal, now)
        recount(offering, portal)
    return offering


def schedule_hold_expiry(hold: Hold) -> None:
    """A task at the moment the hold lapses (the per-minute sweep and the check on read cover
    a lost one)."""
    from ..tasks import hold_expire_task

    enqueue_on_commit(hold_expire_task, hold.pk, eta=hold.expires_at)


def settle_offerings(offering_ids) -> None:
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        for offering in lock_offerings(offering_ids).values():
            settle(offering, portal, now)


def waitlist_offer_seats(offering: Offering, portal, now: datetime) -> int:
    """Under the offering's lock: offer free seats to the first eligible waiting families.
    A camp booked by the day has no waitlist (families choose the days with seats)."""
    offered = 0
    if offering.days_selectable:
        return 0
    waiting = (
        WaitlistEntry.objects.filter(offering=offering, status=WaitlistEntry.Status.WAITING)
        .select_related("family", "student__level")
        .order_by("priority", "created_at", "pk")
    )
    free = offering.openings
    for entry in waiting:
        if free <= 0:
            break
        try:
            eligibility.check_student(entry.student, offering)
            eligibility.check_not_taken(entry.student, offering)
            if entry.family.status == Family.Status.SUSPENDED:
                raise eligibility.refuse("family_suspended", "The family is suspended.")
        except ApplicationError as exc:
            entry.status = WaitlistEntry.Status.SKIPPED
            entry.note = exc.message[:255]
            entry.save(update_fields=["status", "note"])
            continue
        waitlist_offer_make(entry, offering, portal, now)
        free -= 1
        offered += 1
    return offered


def waitlist_offer_make(entry: WaitlistEntry, offering: Offering, portal, now: datetime) -> Hold:
    """Offer ``entry`` a seat: a hold for the offer window, the entry marked offered, the
    family emailed. Under the offering's lock; the automatic offers and a staff member's offer
    by hand are the same offer."""
    hold = Hold.objects.create(
        family=entry.family,
        student=entry.student,
        offering=offering,
        status=Hold.Status.OFFER,
        created_at=now,
        expires_at=now + timedelta(hours=portal.waitlist_offer_hours),
    )
    entry.status = WaitlistEntry.Status.OFFERED
    entry.offered_at = now
    entry.hold = hold
    entry.save(update_fields=["status", "offered_at", "hold"])
    schedule_hold_expiry(hold)
    notify_family(
        entry.family_id,
        "waitlist_offer",
        {
            "offering": offering.name,
            "student": entry.student.first_name,
            "expires": timezone.localtime(hold.expires_at).strftime("%b %-d at %-I:%M %p"),
            "url": links.url("waitlist"),
        },
    )
    return hold


def offering_seats_changed(*, offering_id: int) -> None:
    """Staff changed capacity (or deleted a hold): recount and offer any freed seats."""
    settle_offerings([offering_id])


def hold_release(hold: Hold, *, status: str, now: datetime) -> None:
    """End a seat-taking hold (and decline its waitlist offer). Under the offering's lock."""
    hold.status = status
    hold.ended_at = now
    hold.save(update_fields=["status", "ended_at"])
    if hasattr(hold, "waitlist_entry") and hold.waitlist_entry is not None:
        entry = hold.waitlist_entry
        if entry.status == WaitlistEntry.Status.OFFERED:
            entry.status = WaitlistEntry.Status.DECLINED
            entry.save(update_fields=["status"])


def expire_due() -> int:
    """Settle every offering with something lapsed (the per-minute sweep). Idempotent."""
    now = timezone.now()
    ids = (
        set(
            Enrollment.objects.filter(
                status=Enrollment.Status.ACTIVE, end_date__lt=timezone.localdate(now)
            ).values_list("offering_id", flat=True)
        )
        | set(
            Hold.objects.filter(status__in=Hold.SEAT_TAKING, expires_at__lte=now).values_list(
                "offering_id", flat=True
            )
        )
        | set(
            Enrollment.objects.filter(
                status=Enrollment.Status.RESERVED,
                order__status=Order.Status.AWAITING_PAYMENT,
                order__expires_at__lte=now,
            ).values_list("offering_id", flat=True)
        )
    )
    for offering_id in sorted(ids):
        settle_offerings([offering_id])
    return len(ids)


def enrollment_confirmed(enrollment: Enrollment) -> str:
    """An enrollment just confirmed (active, or pending when the business approves first):
    its entry in the family's activity feed, and its line for the family's email."""
    pending = enrollment.status == Enrollment.Status.PENDING
    activity_record(
        kind="enrollment",
        family_id=enrollment.family_id,
        summary=f"{enrollment.student.first_name}: {enrollment.offering.name}"
        + (" (pending approval)" if pending else " (enrolled)"),
        obj=enrollment,
    )
    return (
        f"{enrollment.student.first_name}: {enrollment.offering.name} from "
        f"{enrollment.start_date:%b %-d}" + (" (pending approval)" if pending else "")
    )


def enrollments_confirm(
    *, order: Order, portal, now: datetime, reserved: list[Enrollment] | None = None
) -> tuple[list[str], bool]:
    """The order is paid (or free): its reserved seats become enrollments, or pending requests
    when the business approves first. The caller holds the locks of the order's offerings.
    ``reserved``: the order's reserved enrollments when the caller has just made them (with
    their offerings and students), else they are read.
    Returns a line per enrollment for the family's email, and whether any is pending."""
    family = order.family
    summary, pending_any = [], False
    if reserved is None:
        reserved = list(
            order.enrollments.select_related("offering", "student").filter(
                status=Enrollment.Status.RESERVED
            )
        )
    for enrollment in reserved:
        pending = eligibility.needs_approval(family, enrollment.offering, portal, now)
        enrollment.status = Enrollment.Status.PENDING if pending else Enrollment.Status.ACTIVE
        enrollment.save(update_fields=["status", "updated_at"])
        pending_any = pending_any or pending
        summary.append(enrollment_confirmed(enrollment))
    if pending_any and not portal.pending_requests_count_against_openings:
        # Reserved seats that became pending requests no longer hold a seat.
        for offering in Offering.objects.filter(enrollments__order=order).distinct():
            recount(offering, portal)
    return summary, pending_any
