"""Reads for the staff console and the staff API: today's classes, the dashboard's counts and
this month's figures, pending enrollments. Every date is the business's (the request runs in
the tenant's time zone: tenants.routing)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from kernel.staff_permissions import perm, staff_has_perm
from portal.activity.selectors import activity_unprocessed_count
from portal.catalog.models import Offering, StaffProfile
from portal.enrollment.models import Enrollment, WaitlistEntry


def offerings_visible_to(user: Any) -> QuerySet[Offering]:
    """Offerings whose roster the user may see: all with ``view_rosters``, else (a coach) only
    those the user teaches (``StaffProfile.user``)."""
    offerings = Offering.objects.all()
    if staff_has_perm(user, perm("view_rosters")):
        return offerings
    return offerings.filter(instructors__user=user).distinct()


def offerings_meeting_on(*, day: date, user: Any) -> list[Offering]:
    """The offerings that meet on ``day`` and that the user may see, by start time, each with
    ``active_count`` (students enrolled)."""
    candidates = (
        offerings_visible_to(user)
        .filter(status=Offering.Status.PUBLISHED, start_date__lte=day, end_date__gte=day)
        .select_related("program", "location")
        .annotate(active_count=Count("enrollments", filter=Q(enrollments__status="active")))
        .order_by("start_time", "name", "pk")
    )
    return [offering for offering in candidates if day.weekday() in offering.meeting_days()]


def enrollments_pending() -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(status=Enrollment.Status.PENDING)
        .select_related("student", "offering", "family", "order")
        .order_by("created_at", "pk")
    )


def dashboard_counts() -> dict[str, int]:
    """What waits for staff: each count opens its list."""
    from portal.billing.models import Payment
    from portal.requests.models import Request

    since = timezone.now() - timedelta(days=30)
    return {
        "pending_enrollments": enrollments_pending().count(),
        "requests_to_decide": Request.objects.filter(status="pending").count(),
        "waitlist_offers_out": WaitlistEntry.objects.filter(
            status=WaitlistEntry.Status.OFFERED
        ).count(),
        "failed_payments": Payment.objects.filter(status="failed", created_at__gte=since).count(),
        "unsigned_policies": len(families_with_unsigned_policies()),
        "unprocessed_activity": activity_unprocessed_count(),
    }


def families_with_unsigned_policies() -> list[dict]:
    """Families with a live enrollment who have not accepted every active policy in its current
    version (for the family, or for each active student under a per-student policy): each with
    the titles missing. A few queries whatever the number of families."""
    from portal.accounts.models import Family, Policy, PolicyAcceptance, Student

    policies = list(Policy.objects.filter(is_active=True).order_by("title", "pk"))
    if not policies:
        return []
    family_ids = set(
        Enrollment.objects.filter(status__in=Enrollment.LIVE).values_list("family_id", flat=True)
    )
    accepted = set(
        PolicyAcceptance.objects.filter(family_id__in=family_ids).values_list(
            "family_id", "policy_id", "version", "student_id"
        )
    )
    students: dict[int, list[int]] = {}
    for student_id, family_id in Student.objects.filter(
        family_id__in=family_ids, is_active=True
    ).values_list("pk", "family_id"):
        students.setdefault(family_id, []).append(student_id)
    missing: dict[int, list[str]] = {}
    for family_id in family_ids:
        for policy in policies:
            who = [None] if policy.scope == Policy.Scope.FAMILY else students.get(family_id, [])
            if any((family_id, policy.pk, policy.version, sid) not in accepted for sid in who):
                missing.setdefault(family_id, []).append(policy.title)
    families = Family.objects.filter(pk__in=missing).order_by("name", "pk")
    return [{"family": family, "policies": missing[family.pk]} for family in families]


def fill_rate_by_program(*, today: date) -> list[dict]:
    """Classes running or to come (published, not ended) by program: seats taken by active
    enrollments over capacity, as a whole percent (None without capacity)."""
    rows = (
        Offering.objects.filter(status=Offering.Status.PUBLISHED, end_date__gte=today)
        .values("program__name")
        .annotate(
            capacity=Sum("capacity"),
            classes=Count("pk", distinct=True),
        )
        .order_by("program__name")
    )
    enrolled = dict(
        Enrollment.objects.filter(
            status=Enrollment.Status.ACTIVE,
            offering__status=Offering.Status.PUBLISHED,
            offering__end_date__gte=today,
        )
        .values("offering__program__name")
        .annotate(n=Count("pk"))
        .values_list("offering__program__name", "n")
    )
    out = []
    for row in rows:
        taken = enrolled.get(row["program__name"], 0)
        capacity = row["capacity"] or 0
        out.append(
            {
                "program": row["program__name"] or "—",
                "classes": row["classes"],
                "enrolled": taken,
                "capacity": capacity,
                "percent": round(100 * taken / capacity) if capacity else None,
            }
        )
    return out


def month_figures(*, today: date) -> dict[str, int]:
    """This month so far, in the business's days: enrollments started, drops, revenue (card
    payments less refunds, minor units) and what families owe now (positive balances)."""
    from portal.billing.models import LedgerEntry, Payment

    first = today.replace(day=1)
    start = timezone.make_aware(datetime.combine(first, time.min), timezone.get_current_timezone())
    paid = Payment.objects.filter(status="succeeded", created_at__gte=start)
    totals = paid.aggregate(amount=Sum("amount"), refunded=Sum("amount_refunded"))
    balances = (
        LedgerEntry.objects.values("family_id")
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
    )
    return {
        "enrollments": Enrollment.objects.filter(
            status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.PENDING],
            created_at__gte=start,
        ).count(),
        "drops": Enrollment.objects.filter(
            status=Enrollment.Status.DROPPED, end_date__gte=first, end_date__lte=today
        ).count(),
        "revenue": (totals["amount"] or 0) - (totals["refunded"] or 0),
        "owed": sum(row["balance"] for row in balances),
    }


def staff_members() -> list:
    """The business's staff, each with ``role`` (a Role or None), by email."""
    from kernel.users.models import User

    from .roles import role_of

    members = list(User.objects.filter(is_staff=True).prefetch_related("groups").order_by("email"))
    for member in members:
        member.role = role_of(member)  # type: ignore[attr-defined]
    return members


def staff_profile_list() -> QuerySet[StaffProfile]:
    """Every staff member of the staff page, shown or not, with their private-lesson times
    (the console's staff-page settings and ``/api/v1/staff/profiles``)."""
    return StaffProfile.objects.prefetch_related("availability__location").order_by(
        *StaffProfile._meta.ordering, "pk"
    )


def staff_profile_get(*, staff_id: int) -> StaffProfile | None:
    return staff_profile_list().filter(pk=staff_id).first()


def location_choices() -> list[dict]:
    """Active locations a private-lesson time may name: [{"id", "name"}]."""
    from portal.catalog.models import Location

    return list(Location.objects.filter(is_active=True).values("id", "name"))
