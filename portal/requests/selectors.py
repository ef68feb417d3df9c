"""Reads of requests that other pages need: the family's schedule with its absences and
makeups applied, the one rule the schedule page, the home page and the calendar feed share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.enrollment.models import Enrollment

from .models import Request


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
