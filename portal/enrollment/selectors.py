from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from portal.accounts.models import Student
from portal.catalog.models import Offering, StaffProfile

from .errors import not_found
from .models import Enrollment, Hold, Order, WaitlistEntry
from .pricing import price_items, totals


def cart_holds(family) -> QuerySet[Hold]:
    return (
        Hold.objects.filter(family=family, status=Hold.Status.ACTIVE)
        .select_related("student", "offering__location", "offering__program")
        .order_by("created_at", "pk")
    )


def cart_preview(family, holds: list[Hold], portal) -> dict:
    lines = price_items(
        family=family, items=[(h.student, h.offering) for h in holds], portal=portal
    )
    subtotal, discount, total = totals(lines)
    return {"lines": lines, "subtotal": subtotal, "discount_total": discount, "total": total}


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
    days = [d for d in enrollment.offering.meetings() if d >= start and (end is None or d <= end)]
    return days[:count]


def waitlist_list(family) -> QuerySet[WaitlistEntry]:
    return (
        WaitlistEntry.objects.filter(family=family, status__in=WaitlistEntry.LIVE)
        .select_related("offering", "student", "hold")
        .order_by("created_at", "pk")
    )


def student_for_family(family, student_id) -> Student:
    """One of the family's students, or ``student_not_found``."""
    student = Student.objects.select_related("level").filter(pk=student_id, family=family).first()
    if student is None:
        raise not_found("student")
    return student


def offering_visible(offering_id, portal) -> Offering:
    """An offering families may see (a shown kind, not a draft), or ``offering_not_found``."""
    offering = (
        Offering.objects.prefetch_related("levels")
        .filter(pk=offering_id, kind__in=portal.shown_kinds())
        .exclude(status=Offering.Status.DRAFT)
        .first()
    )
    if offering is None:
        raise not_found("offering")
    return offering
