from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from kernel.queries import CompiledQuery
from portal.accounts.models import Student
from portal.catalog.models import Offering, StaffProfile
from portal.catalog.selectors import offering_levels

from . import camp_days
from .errors import not_found
from .models import Enrollment, Hold, Order, WaitlistEntry
from .pricing import price_items, totals


def cart_holds(family) -> list[Hold]:
    """The family's held seats, oldest first, with student and class (the answer of every cart
    change: compiled once per connection, kernel.queries)."""
    return _CART_HOLDS.all(family_id=family.pk)


_CART_HOLDS = CompiledQuery(
    lambda family_id: (
        Hold.objects.filter(family_id=family_id, status=Hold.Status.ACTIVE)
        .select_related("student", "offering__location", "offering__program")
        .order_by("created_at", "pk")
    ),
    family_id=int,
)


def cart_preview(family, holds: list[Hold], portal) -> dict:
    lines = price_items(
        family=family, items=[(h.student, h.offering, h.camp_days) for h in holds], portal=portal
    )
    subtotal, discount, total = totals(lines)
    return {"lines": lines, "subtotal": subtotal, "discount_total": discount, "total": total}


def camp_choices(offering: Offering, portal) -> list[camp_days.Unit]:
    """The days (or weeks) of a camp booked by the day (or week) a family may still choose,
    with their price and seats left; empty for any other offering."""
    return camp_days.unit_list(offering, portal, timezone.localdate())


def camp_booking_get(offering_id: int) -> Offering | None:
    """Any offering of the business (drafts too), for staff editing how a camp is booked."""
    return Offering.objects.filter(pk=offering_id).first()


def order_list(family) -> QuerySet[Order]:
    return Order.objects.filter(family=family).prefetch_related("lines", "enrollments")


def enrollment_list(family) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(family=family)
        .exclude(status=Enrollment.Status.CANCELLED)
        .select_related("student", "offering__location", "offering__program")
        .prefetch_related(
            Prefetch("offering__instructors", queryset=StaffProfile.objects.filter(is_active=True))
        )
        .order_by("student__first_name", "offering__start_date", "pk")
    )


def next_meetings(enrollment: Enrollment, count: int = 3) -> list:
    today = timezone.localdate()
    start = max(today, enrollment.start_date)
    end = enrollment.end_date
    meetings = camp_days.meetings_of(enrollment.offering, enrollment.camp_days)
    days = [d for d in meetings if d >= start and (end is None or d <= end)]
    return days[:count]


def waitlist_list(family) -> QuerySet[WaitlistEntry]:
    return (
        WaitlistEntry.objects.filter(family=family, status__in=WaitlistEntry.LIVE)
        .select_related("offering", "student", "hold")
        .order_by("created_at", "pk")
    )


def _students(student_id, family_id) -> QuerySet[Student]:
    return Student.objects.select_related("level").filter(pk=student_id, family_id=family_id)


def _offerings(offering_id) -> QuerySet[Offering]:
    return Offering.objects.filter(pk=offering_id).exclude(status=Offering.Status.DRAFT)


# A hold's and a waitlist join's first reads, compiled once per connection (kernel.queries).
_STUDENT = CompiledQuery(_students, student_id=int, family_id=int)
_OFFERING = CompiledQuery(_offerings, offering_id=int)


def student_for_family(family, student_id) -> Student:
    """One of the family's students, or ``student_not_found``."""
    student = _STUDENT.one(student_id=student_id, family_id=family.pk)
    if student is None:
        raise not_found("student")
    return student


def offering_visible(offering_id, portal) -> Offering:
    """An offering families may see (a shown kind, not a draft), or ``offering_not_found``."""
    offering = _OFFERING.one(offering_id=offering_id)
    # The kinds a portal shows are its own: checked here, so one compiled statement serves all.
    if offering is None or offering.kind not in portal.shown_kinds():
        raise not_found("offering")
    offering_levels(offering)  # kept on it, as the prefetch this replaced
    return offering


LAPSED_LOOKBACK_HOURS = 24


def lapsed_item_list(family, now=None) -> list[dict]:
    """What the family held and lost in the last day: cart holds that ran out and the classes of
    orders that lapsed unpaid, without what it has again since (in the cart, enrolled, or on
    the waitlist). Each item says whether a seat is free now, so the page can offer to hold
    those again in one click."""
    from datetime import timedelta

    now = now or timezone.now()
    since = now - timedelta(hours=LAPSED_LOOKBACK_HOURS)
    pairs: dict[tuple[int, int], object] = {}
    for hold in Hold.objects.filter(
        family=family, status=Hold.Status.EXPIRED, ended_at__gte=since
    ).order_by("-ended_at"):
        pairs.setdefault((hold.student_id, hold.offering_id), hold.ended_at)
    lapsed_orders = Order.objects.filter(
        family=family, status=Order.Status.EXPIRED, created_at__gte=since
    )
    for enrollment in Enrollment.objects.filter(order__in=lapsed_orders):
        pairs.setdefault((enrollment.student_id, enrollment.offering_id), None)
    if not pairs:
        return []
    taken = set(
        Hold.objects.filter(family=family, status__in=Hold.SEAT_TAKING).values_list(
            "student_id", "offering_id"
        )
    )
    taken |= set(
        Enrollment.objects.filter(
            family=family,
            status__in=(
                Enrollment.Status.RESERVED,
                Enrollment.Status.PENDING,
                Enrollment.Status.ACTIVE,
            ),
        ).values_list("student_id", "offering_id")
    )
    taken |= set(
        WaitlistEntry.objects.filter(family=family, status__in=WaitlistEntry.LIVE).values_list(
            "student_id", "offering_id"
        )
    )
    wanted = [pair for pair in pairs if pair not in taken]
    students = Student.objects.in_bulk([s for s, _ in wanted])
    offerings = Offering.objects.in_bulk([o for _, o in wanted])
    items = []
    for student_id, offering_id in wanted:
        student, offering = students.get(student_id), offerings.get(offering_id)
        if student is None or offering is None:
            continue
        items.append(
            {
                "student": student,
                "offering": offering,
                "ended_at": pairs[(student_id, offering_id)],
                "has_seats": offering.openings > 0 and offering.status != Offering.Status.DRAFT,
            }
        )
    return sorted(items, key=lambda i: (i["offering"].name, i["student"].first_name))


def enrollment_active_get(*, family, enrollment_id: int) -> Enrollment | None:
    """One of the family's active enrollments with what a request form shows, or None."""
    return (
        Enrollment.objects.select_related("offering__program", "offering__location", "student")
        .filter(pk=enrollment_id, family=family, status=Enrollment.Status.ACTIVE)
        .first()
    )


def students_active(family) -> QuerySet[Student]:
    """The family's active students with their levels (pickers, eligibility)."""
    return family.students.filter(is_active=True).select_related("level")


# --- staff: the front desk ---------------------------------------------------------------


def waitlist_entry_view(entry: WaitlistEntry, position: int | None = None) -> WaitlistEntry:
    """The entry with ``position`` (None when no longer live) and ``offer_expires_at``."""
    from .services.waitlist import waitlist_position

    entry.position = position if position is not None else waitlist_position(entry)
    entry.offer_expires_at = (
        entry.hold.expires_at
        if entry.status == WaitlistEntry.Status.OFFERED and entry.hold_id
        else None
    )
    return entry


def waitlist_for_offering(*, offering_id: int) -> list[WaitlistEntry]:
    """A class's live waitlist in line order, each entry with its position (1 = next)."""
    if not Offering.objects.filter(pk=offering_id).exists():
        raise not_found("offering")
    entries = (
        WaitlistEntry.objects.filter(offering_id=offering_id, status__in=WaitlistEntry.LIVE)
        .select_related("student", "family", "hold")
        .order_by("priority", "created_at", "pk")
    )
    return [waitlist_entry_view(e, position) for position, e in enumerate(entries, start=1)]


def enrollment_family_id(*, enrollment_id: int) -> int | None:
    """The family an enrollment (any status) belongs to, or None when there is no such one."""
    return Enrollment.objects.filter(pk=enrollment_id).values_list("family_id", flat=True).first()


def waitlist_entry_offering_id(*, entry_id: int) -> int | None:
    """The offering a waitlist entry (any status) is for, or None when there is no such one."""
    return WaitlistEntry.objects.filter(pk=entry_id).values_list("offering_id", flat=True).first()


def offering_for_staff(*, offering_id: int) -> Offering | None:
    """Any offering (drafts too: staff see every class), or None."""
    return Offering.objects.filter(pk=offering_id).first()


def offerings_with_waitlists() -> QuerySet[Offering]:
    """Classes that have students waiting (or offers out), most waiting first."""
    return (
        Offering.objects.filter(waitlist_count__gt=0)
        .select_related("program")
        .order_by("-waitlist_count", "name", "pk")
    )


def offerings_for_desk(today=None) -> QuerySet[Offering]:
    """Classes the front desk may enroll into: published and not ended, by name."""
    today = today or timezone.localdate()
    return (
        Offering.objects.filter(status=Offering.Status.PUBLISHED, end_date__gte=today)
        .select_related("program")
        .order_by("name", "start_date", "pk")
    )
