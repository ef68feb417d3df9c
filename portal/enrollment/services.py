"""Seats. Every function that takes or frees a seat runs in one transaction holding the row
locks of the offerings involved (taken in primary-key order with a short lock timeout), expires
whatever has lapsed on those offerings, and recounts ``Offering.seats_taken`` before it commits.
A stale cache or a lost Celery task can therefore never oversell or keep a seat."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from portal.accounts.models import Family, Student
from portal.catalog.availability import offerings_changed
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.privacy.audit import audit_bulk
from saas_platform.errors import ApplicationError
from saas_platform.tasks import enqueue_on_commit

from . import eligibility
from .errors import busy, not_found
from .models import Enrollment, Hold, Order, OrderLine, RegistrationFeeCharge, WaitlistEntry
from .notifications import notify_family
from .pricing import price_items, totals
from .signals import order_confirmed, order_created, order_expired

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = "3s"
EXPIRY_WARNING = timedelta(minutes=3)


# --- locking and counting ------------------------------------------------------------------


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
        locked = list(
            Offering.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
        )
    except OperationalError as exc:
        if "lock timeout" in str(exc).lower() or "canceling statement" in str(exc).lower():
            raise busy() from exc
        raise
    return {offering.pk: offering for offering in locked}


def _expire_lapsed(offering: Offering, now: datetime) -> bool:
    """Under the offering's lock: end holds, offers and unpaid orders whose time is up, and
    enrollments whose drop date has passed. Returns whether anything was freed."""
    ended = list(
        Enrollment.objects.filter(
            offering=offering,
            status=Enrollment.Status.ACTIVE,
            end_date__lt=timezone.localdate(now),
        ).values_list("pk", "family_id")
    )
    freed = False
    if ended:
        freed = bool(
            Enrollment.objects.filter(pk__in=[pk for pk, _ in ended]).update(
                status=Enrollment.Status.DROPPED, updated_at=now
            )
        )
        audit_bulk(
            action="update", model=Enrollment, rows=ended, fields={"status": ["active", "dropped"]}
        )
    lapsed = list(
        Hold.objects.filter(offering=offering, status__in=Hold.SEAT_TAKING, expires_at__lte=now)
    )
    for hold in lapsed:
        was_offer = hold.status == Hold.Status.OFFER
        hold.status = Hold.Status.EXPIRED
        hold.ended_at = now
        hold.save(update_fields=["status", "ended_at"])
        if was_offer:
            WaitlistEntry.objects.filter(hold=hold, status=WaitlistEntry.Status.OFFERED).update(
                status=WaitlistEntry.Status.LAPSED
            )
        freed = True
    unpaid = Enrollment.objects.filter(
        offering=offering,
        status=Enrollment.Status.RESERVED,
        order__status=Order.Status.AWAITING_PAYMENT,
        order__expires_at__lte=now,
    )
    unpaid_rows = list(unpaid.values_list("pk", "family_id", "order_id"))
    order_ids = {order_id for _, _, order_id in unpaid_rows}
    if order_ids:
        Enrollment.objects.filter(pk__in=[pk for pk, _, _ in unpaid_rows]).update(
            status=Enrollment.Status.CANCELLED, updated_at=now
        )
        audit_bulk(
            action="update",
            model=Enrollment,
            rows=[(pk, family_id) for pk, family_id, _ in unpaid_rows],
            fields={"status": ["reserved", "cancelled"]},
        )
        freed = True
        # An order is expired once none of its seats is still reserved.
        for order in Order.objects.filter(pk__in=order_ids, status=Order.Status.AWAITING_PAYMENT):
            if not order.enrollments.filter(status=Enrollment.Status.RESERVED).exists():
                order.status = Order.Status.EXPIRED
                order.save(update_fields=["status"])
                order_expired.send(sender=Order, order=order)
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
    return offering


def settle(offering: Offering, portal, now: datetime) -> Offering:
    """Expire what lapsed, hand freed seats to the waitlist, recount. Under the lock."""
    _expire_lapsed(offering, now)
    recount(offering, portal)
    if offering.openings > 0 and offering.waitlist_count:
        _waitlist_offer_seats(offering, portal, now)
        recount(offering, portal)
    return offering


def _schedule_expiry(hold: Hold) -> None:
    """A task at the moment the hold lapses (the per-minute sweep and the check on read cover
    a lost one)."""
    from .tasks import hold_expire_task

    enqueue_on_commit(hold_expire_task, hold.pk, eta=hold.expires_at)


# --- cart ------------------------------------------------------------------------------------


def _family_student(family: Family, student_id) -> Student:
    student = Student.objects.select_related("level").filter(pk=student_id, family=family).first()
    if student is None:
        raise not_found("student")
    return student


def _visible_offering(offering_id, portal) -> Offering:
    offering = (
        Offering.objects.prefetch_related("levels")
        .filter(pk=offering_id, kind__in=portal.shown_kinds())
        .exclude(status=Offering.Status.DRAFT)
        .first()
    )
    if offering is None:
        raise not_found("offering")
    return offering


def cart_add(*, family: Family, student_id: int, offering_id: int, keyword: str = "") -> Hold:
    """Hold a seat for one of the family's students: checked against every rule, then taken
    under the offering's lock if one is free. Expires after the business's hold timer."""
    portal = portal_settings_get()
    student = _family_student(family, student_id)
    offering = _visible_offering(offering_id, portal)
    now = timezone.now()
    eligibility.check_all(
        family=family, student=student, offering=offering, portal=portal, now=now, keyword=keyword
    )
    with transaction.atomic():
        offering = lock_offerings([offering.pk])[offering.pk]
        settle(offering, portal, now)
        eligibility.check_not_taken(student, offering)
        if offering.openings <= 0:
            raise ApplicationError(
                "offering_full",
                f"{offering.name} is full. You can join the waitlist.",
                status=409,
            )
        hold = Hold.objects.create(
            family=family,
            student=student,
            offering=offering,
            created_at=now,
            expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
            keyword=keyword[:100],
        )
        # settle() just recounted under this lock, so one more seat is exact.
        offering.seats_taken += 1
        Offering.objects.filter(pk=offering.pk).update(seats_taken=offering.seats_taken)
        _schedule_expiry(hold)
    return hold


def _release(hold: Hold, *, status: str, portal, now: datetime) -> None:
    """Under the hold's offering lock."""
    hold.status = status
    hold.ended_at = now
    hold.save(update_fields=["status", "ended_at"])
    if hasattr(hold, "waitlist_entry") and hold.waitlist_entry is not None:
        entry = hold.waitlist_entry
        if entry.status == WaitlistEntry.Status.OFFERED:
            entry.status = WaitlistEntry.Status.DECLINED
            entry.save(update_fields=["status"])


def cart_remove(*, family: Family, hold_id: int) -> None:
    portal = portal_settings_get()
    hold = Hold.objects.filter(pk=hold_id, family=family, status=Hold.Status.ACTIVE).first()
    if hold is None:
        raise not_found("cart_item")
    now = timezone.now()
    with transaction.atomic():
        offering = lock_offerings([hold.offering_id])[hold.offering_id]
        hold = Hold.objects.select_for_update(of=("self",)).get(pk=hold.pk)
        if hold.status == Hold.Status.ACTIVE:
            _release(hold, status=Hold.Status.RELEASED, portal=portal, now=now)
        settle(offering, portal, now)


def cart_clear(*, family: Family) -> int:
    """Abandon the cart: release every held seat."""
    portal = portal_settings_get()
    holds = list(Hold.objects.filter(family=family, status=Hold.Status.ACTIVE))
    if not holds:
        return 0
    now = timezone.now()
    with transaction.atomic():
        offerings = lock_offerings([h.offering_id for h in holds])
        for hold in Hold.objects.select_for_update(of=("self",)).filter(
            pk__in=[h.pk for h in holds]
        ):
            if hold.status == Hold.Status.ACTIVE:
                _release(hold, status=Hold.Status.RELEASED, portal=portal, now=now)
        for offering in offerings.values():
            settle(offering, portal, now)
    return len(holds)


def cart_refresh(*, family: Family) -> None:
    """The check on read: settle the offerings of the family's lapsed holds and orders, so a
    missed expiry task never shows (or keeps) a seat that is gone."""
    now = timezone.now()
    lapsed = set(
        Hold.objects.filter(
            family=family, status__in=Hold.SEAT_TAKING, expires_at__lte=now
        ).values_list("offering_id", flat=True)
    ) | set(
        Enrollment.objects.filter(
            family=family, status=Enrollment.Status.RESERVED, order__expires_at__lte=now
        ).values_list("offering_id", flat=True)
    )
    if lapsed:
        settle_offerings(lapsed)


def settle_offerings(offering_ids) -> None:
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        for offering in lock_offerings(offering_ids).values():
            settle(offering, portal, now)


def hold_expire_if_due(*, hold_id: int) -> str:
    hold = Hold.objects.filter(pk=hold_id).first()
    if hold is None:
        return "missing"
    if hold.status not in Hold.SEAT_TAKING:
        return hold.status
    if hold.expires_at > timezone.now():
        return "not_due"  # extended (an accepted offer); its new expiry has its own task
    settle_offerings([hold.offering_id])
    return "expired"


def expire_due() -> int:
    """Settle every offering with something lapsed (the per-minute sweep), and lapse unpaid
    orders that hold no seat (store items). Idempotent."""
    now = timezone.now()
    seatless = (
        Order.objects.filter(status=Order.Status.AWAITING_PAYMENT, expires_at__lte=now)
        .exclude(enrollments__status=Enrollment.Status.RESERVED)
        .values_list("pk", flat=True)
    )
    for order_id in list(seatless):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            still_unpaid = order.status == Order.Status.AWAITING_PAYMENT and order.expires_at <= now
            holds_seats = order.enrollments.filter(status=Enrollment.Status.RESERVED).exists()
            if still_unpaid and not holds_seats:
                order.status = Order.Status.EXPIRED
                order.save(update_fields=["status"])
                order_expired.send(sender=Order, order=order)
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


def warn_expiring_holds() -> int:
    """Email families whose cart holds lapse within a few minutes (once per hold)."""
    now = timezone.now()
    due = Hold.objects.filter(
        status=Hold.Status.ACTIVE,
        expires_at__gt=now,
        expires_at__lte=now + EXPIRY_WARNING,
        expiry_warning_sent_at__isnull=True,
    ).select_related("offering", "student")
    tenant = connection.tenant
    count = 0
    for hold in due:
        updated = Hold.objects.filter(pk=hold.pk, expiry_warning_sent_at__isnull=True).update(
            expiry_warning_sent_at=now
        )
        if updated:
            with transaction.atomic():
                notify_family(
                    hold.family_id,
                    "hold_expiring",
                    {
                        "offering": hold.offering.name,
                        "student": hold.student.first_name,
                        "minutes": max(hold.seconds_left(now) // 60, 1),
                        "url": tenant.url("/cart"),
                    },
                )
            count += 1
    return count


# --- checkout and orders -------------------------------------------------------------------


def _first_attended(offering: Offering, portal, today) -> datetime.date:
    meetings = offering.meetings()
    upcoming = [day for day in meetings if day >= today]
    if portal.force_start_on_meeting_date and upcoming:
        return upcoming[0]
    return max(offering.start_date, today)


def _idempotency_key(holds: list[Hold], given: str | None) -> str:
    if given:
        return given.strip()[:100]
    digest = hashlib.sha256(",".join(str(h.pk) for h in sorted(holds, key=lambda h: h.pk)).encode())
    return f"cart:{digest.hexdigest()[:40]}"


def checkout(
    *, family: Family, idempotency_key: str | None = None, params: dict | None = None
) -> Order:
    """Turn the cart's holds into one order priced on the server. A zero total confirms at once;
    otherwise the seats stay reserved until the order is paid or lapses. Submitting the same
    cart twice (or the same key) returns the same order."""
    portal = portal_settings_get()
    if idempotency_key:
        existing = Order.objects.filter(
            family=family, idempotency_key=idempotency_key.strip()[:100]
        ).first()
        if existing is not None:
            return existing
    holds = list(
        Hold.objects.filter(family=family, status__in=[Hold.Status.ACTIVE]).select_related(
            "student__level", "offering"
        )
    )
    lapsed = [h for h in holds if h.expires_at <= timezone.now()]
    if lapsed:
        cart_refresh(family=family)  # commit the release, then say which seats were lost
        names = ", ".join(f"{h.offering.name} ({h.student.first_name})" for h in lapsed)
        raise ApplicationError(
            "hold_expired",
            f"The hold on {names} has expired. Add it to your cart again if seats remain.",
            status=409,
        )
    if not holds:
        recent = Order.objects.filter(
            family=family, created_at__gte=timezone.now() - timedelta(minutes=2)
        ).first()
        if recent is not None:
            return recent  # a double-submitted checkout of a cart that just became this order
        raise ApplicationError("cart_empty", "Your cart is empty.", status=400)
    key = _idempotency_key(holds, idempotency_key)
    now = timezone.now()
    try:
        with transaction.atomic():
            offerings = lock_offerings([h.offering_id for h in holds])
            existing = Order.objects.filter(family=family, idempotency_key=key).first()
            if existing is not None:
                return existing
            for offering in offerings.values():
                _expire_lapsed(offering, now)
            live = {
                h.pk: h
                for h in Hold.objects.select_for_update(of=("self",))
                .filter(pk__in=[h.pk for h in holds])
                .select_related("student__level", "offering")
            }
            lapsed = [h for h in holds if live[h.pk].status != Hold.Status.ACTIVE]
            if lapsed:
                names = ", ".join(f"{h.offering.name} ({h.student.first_name})" for h in lapsed)
                raise ApplicationError(
                    "hold_expired",
                    f"The hold on {names} has expired. Add it to your cart again if seats remain.",
                    status=409,
                )
            items = []
            for hold in holds:
                hold = live[hold.pk]
                offering = offerings[hold.offering_id]
                eligibility.check_registration_window(offering, portal, now)
                eligibility.check_family(family, portal, now, hold.keyword)
                eligibility.check_student(hold.student, offering)
                items.append((hold.student, offering, hold))
            lines = price_items(family=family, items=[(s, o) for s, o, _ in items], portal=portal)
            subtotal, discount, total = totals(lines)
            order = Order.objects.create(
                family=family,
                currency=connection.tenant.currency,
                subtotal=subtotal,
                discount_total=discount,
                total=total,
                idempotency_key=key,
                created_at=now,
                expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
            )
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    kind=line.kind,
                    description=line.description,
                    amount=line.amount,
                    student_id=line.student_id,
                    offering_id=line.offering_id,
                    registration_year=line.registration_year,
                )
                for line in lines
            )
            today = timezone.localdate(now)
            for student, offering, hold in items:
                hold.status = Hold.Status.CONVERTED
                hold.ended_at = now
                hold.save(update_fields=["status", "ended_at"])
                Enrollment.objects.create(
                    family=family,
                    student=student,
                    offering=offering,
                    order=order,
                    status=Enrollment.Status.RESERVED,
                    start_date=_first_attended(offering, portal, today),
                )
            for offering in offerings.values():
                recount(offering, portal)
            order_created.send(sender=Order, order=order, params=params or {})
            order.refresh_from_db()
            if order.total == 0:
                _confirm(order, portal, now)
    except IntegrityError:
        existing = Order.objects.filter(family=family, idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return order


def order_confirm(*, order_id: int) -> Order:
    """Paid (or free): reserved seats become enrollments, or pending requests in request mode.
    Called by checkout for free orders and by the payments app once the money is in."""
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order_id)
        if order.status == Order.Status.CONFIRMED:
            return order
        if order.status != Order.Status.AWAITING_PAYMENT:
            raise ApplicationError(
                "order_not_payable", "This order can no longer be confirmed.", status=409
            )
        offering_ids = list(order.enrollments.values_list("offering_id", flat=True))
        lock_offerings(offering_ids)
        _confirm(order, portal, now)
    return order


def _confirm(order: Order, portal, now: datetime) -> None:
    family = order.family
    summary, pending_any = [], False
    for enrollment in order.enrollments.select_related("offering", "student").filter(
        status=Enrollment.Status.RESERVED
    ):
        pending = eligibility.needs_approval(family, enrollment.offering, portal)
        enrollment.status = Enrollment.Status.PENDING if pending else Enrollment.Status.ACTIVE
        enrollment.save(update_fields=["status", "updated_at"])
        pending_any = pending_any or pending
        summary.append(
            f"{enrollment.student.first_name}: {enrollment.offering.name} from "
            f"{enrollment.start_date:%b %-d}" + (" (pending approval)" if pending else "")
        )
    for line in order.lines.filter(kind=OrderLine.Kind.REGISTRATION_FEE):
        RegistrationFeeCharge.objects.get_or_create(
            family=family,
            student_id=line.student_id,
            registration_year=line.registration_year,
            defaults={"order": order},
        )
    order.status = Order.Status.CONFIRMED
    order.confirmed_at = now
    order.save(update_fields=["status", "confirmed_at"])
    order_confirmed.send(sender=Order, order=order)
    if pending_any and not portal.pending_requests_count_against_openings:
        # Reserved seats that became pending requests no longer hold a seat.
        for offering in Offering.objects.filter(enrollments__order=order).distinct():
            recount(offering, portal)
    if summary:  # orders for store items (gift certificates, punch passes) have their own emails
        notify_family(
            family.pk,
            "enrollment_confirmed",
            {
                "enrollments": summary,
                "pending": pending_any,
                "url": connection.tenant.url("/enrollments"),
            },
        )


# --- waitlists -------------------------------------------------------------------------------


def waitlist_join(
    *, family: Family, student_id: int, offering_id: int, keyword: str = ""
) -> WaitlistEntry:
    """Join a full offering's waitlist (classes, camps and events alike)."""
    portal = portal_settings_get()
    student = _family_student(family, student_id)
    offering = _visible_offering(offering_id, portal)
    now = timezone.now()
    eligibility.check_registration_window(offering, portal, now)
    eligibility.check_family(family, portal, now, keyword)
    eligibility.check_student(student, offering)
    with transaction.atomic():
        offering = lock_offerings([offering.pk])[offering.pk]
        settle(offering, portal, now)
        eligibility.check_not_taken(student, offering)
        if WaitlistEntry.objects.filter(
            student=student, offering=offering, status__in=WaitlistEntry.LIVE
        ).exists():
            raise ApplicationError(
                "already_waitlisted",
                f"{student.first_name} is already on this waitlist.",
                status=409,
            )
        if offering.openings > 0 and not offering.waitlist_count:
            raise ApplicationError(
                "offering_has_openings",
                f"{offering.name} has a free seat: add it to your cart instead.",
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


def _waitlist_offer_seats(offering: Offering, portal, now: datetime) -> int:
    """Under the offering's lock: offer free seats to the first eligible waiting families."""
    offered = 0
    tenant = connection.tenant
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
        _schedule_expiry(hold)
        notify_family(
            entry.family_id,
            "waitlist_offer",
            {
                "offering": offering.name,
                "student": entry.student.first_name,
                "expires": timezone.localtime(hold.expires_at).strftime("%b %-d at %-I:%M %p"),
                "url": tenant.url("/waitlist"),
            },
        )
        free -= 1
        offered += 1
    return offered


def waitlist_advance_for(*, offering_id: int) -> int:
    """Offer any free seats of an offering (after a drop, a capacity raise, ...)."""
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        locked = lock_offerings([offering_id])
        if offering_id not in locked:
            return 0
        offering = locked[offering_id]
        _expire_lapsed(offering, now)
        recount(offering, portal)
        offered = _waitlist_offer_seats(offering, portal, now) if offering.openings > 0 else 0
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
        _expire_lapsed(offering, now)
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
        settle(offering, portal, now)
        _schedule_expiry(hold)
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
                _release(hold, status=Hold.Status.RELEASED, portal=portal, now=now)
            entry.status = WaitlistEntry.Status.DECLINED
        elif entry.status == WaitlistEntry.Status.WAITING:
            entry.status = WaitlistEntry.Status.LEFT
        else:
            raise ApplicationError(
                "not_on_waitlist", "You are no longer on this waitlist.", status=409
            )
        entry.save(update_fields=["status"])
        settle(offering, portal, now)


def offering_seats_changed(*, offering_id: int) -> None:
    """Staff changed capacity (or deleted a hold): recount and offer any freed seats."""
    settle_offerings([offering_id])


def staff_hold_delete(*, hold_id: int) -> None:
    portal = portal_settings_get()
    hold = Hold.objects.filter(pk=hold_id).first()
    if hold is None:
        raise not_found("hold")
    now = timezone.now()
    with transaction.atomic():
        offering = lock_offerings([hold.offering_id])[hold.offering_id]
        hold = Hold.objects.select_for_update(of=("self",)).get(pk=hold.pk)
        if hold.status in Hold.SEAT_TAKING:
            _release(hold, status=Hold.Status.RELEASED, portal=portal, now=now)
        settle(offering, portal, now)


def waitlist_counts(offering_ids) -> dict[int, int]:
    return dict(
        WaitlistEntry.objects.filter(offering_id__in=offering_ids, status__in=WaitlistEntry.LIVE)
        .values_list("offering_id")
        .annotate(n=Count("pk"))
    )
