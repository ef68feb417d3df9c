"""Reads of requests that other pages need: the family's schedule with its absences and
makeups applied, the one rule the schedule page, the home page and the calendar feed share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from portal.accounts.models import Family
from portal.catalog.models import Offering
from portal.catalog.selectors import OfferingFilters, offering_search
from portal.enrollment.eligibility import offerings_for_student
from portal.enrollment.models import Enrollment

from .models import MakeupToken, Request


@dataclass(frozen=True)
class Meeting:
    day: date
    offering: object
    student: object
    kind: str  # "class" or "makeup"
    absent: bool = False
    enrollment: object | None = None
    request: object | None = None
    attendance: str = ""  # the mark staff took (portal.attendance): present, late, absent...

    @property
    def sort_key(self):
        return (self.day, self.offering.start_time, self.student.first_name, self.offering.pk)


def family_meetings(*, family, start: date, end: date) -> list[Meeting]:
    """Every meeting of the family's students from ``start`` to ``end`` (inclusive): each
    meeting of an active enrollment within its dates, marked ``absent`` when an absence is
    reported (pending or approved), plus approved makeups, each with the attendance mark staff
    took ("" until then). Sorted by day and time."""
    from portal.attendance.selectors import family_attendance

    marks = family_attendance(family=family, start=start, end=end)
    absences = {
        (r.enrollment_id, r.meeting_date)
        for r in Request.objects.filter(
            family=family,
            type=Request.Type.ABSENCE,
            status__in=[Request.Status.PENDING, Request.Status.APPROVED],
            meeting_date__gte=start,
            meeting_date__lte=end,
        )
    }
    meetings: list[Meeting] = []
    enrollments = (
        Enrollment.objects.filter(family=family, status=Enrollment.Status.ACTIVE)
        .select_related("student", "offering__location", "offering__program")
        .prefetch_related("offering__instructors")
        .order_by("pk")
    )
    for enrollment in enrollments:
        offering = enrollment.offering
        first = max(enrollment.start_date, start)
        last = min(enrollment.end_date or offering.end_date, end)
        for day in offering.meetings():
            if first <= day <= last:
                meetings.append(
                    Meeting(
                        day=day,
                        offering=offering,
                        student=enrollment.student,
                        kind="class",
                        absent=(enrollment.pk, day) in absences,
                        enrollment=enrollment,
                        attendance=marks.get((offering.pk, enrollment.student_id, day), ""),
                    )
                )
    makeups = (
        Request.objects.filter(
            family=family,
            type=Request.Type.MAKEUP,
            status=Request.Status.APPROVED,
            meeting_date__gte=start,
            meeting_date__lte=end,
        )
        .select_related("student", "target_offering__location", "target_offering__program")
        .prefetch_related("target_offering__instructors")
        .order_by("pk")
    )
    for req in makeups:
        meetings.append(
            Meeting(
                day=req.meeting_date,
                offering=req.target_offering,
                student=req.student,
                kind="makeup",
                request=req,
                attendance=marks.get(
                    (req.target_offering_id, req.student_id, req.meeting_date), ""
                ),
            )
        )
    return sorted(meetings, key=lambda m: m.sort_key)


def request_history(*, family: Family) -> QuerySet[Request]:
    """The family's requests, newest first as the model orders them, with what a list shows."""
    return Request.objects.filter(family=family).select_related(
        "student", "target_offering", "enrollment__offering"
    )


def makeup_tokens_available(*, family: Family) -> QuerySet[MakeupToken]:
    """The family's makeup tokens that can still be used (available, not expired today in the
    business's zone)."""
    return MakeupToken.objects.filter(
        family=family, status=MakeupToken.Status.AVAILABLE, expires_on__gte=timezone.localdate()
    ).select_related("student", "program")


def makeup_token_get(*, family: Family, token_id: int) -> MakeupToken | None:
    """One of the family's makeup tokens (any status), or None."""
    return (
        MakeupToken.objects.select_related("student", "program")
        .filter(pk=token_id, family=family)
        .first()
    )


def makeup_targets(*, token: MakeupToken, visible_kinds: list[str]) -> list[Offering]:
    """The offerings a token can be used in: its kind and program, shown to families, starting
    by the token's expiry, and open to its student (at most 100)."""
    candidates = (
        offering_search(
            filters=OfferingFilters(kinds=[token.kind], program_ids=[token.program_id]),
            visible_kinds=visible_kinds,
        )
        .filter(start_date__lte=token.expires_on)
        .prefetch_related("levels")[:200]
    )
    return offerings_for_student(token.student, candidates)[:100]
