"""Reads of rosters and attendance: who is expected at a meeting (enrolled students within
their dates, makeup students coming in, absences reported), the marks taken, and the flags a
coach needs. Dates are the business's (requests run in the tenant's zone).

Flags, defined here once:

* **new**: the student's first enrollment with the business (any class, any status but
  reserved/denied/cancelled) started at most ``NEW_STUDENT_DAYS`` days before the meeting;
* **trial** (a first class): this meeting is the student's first meeting of this class (the
  first date the offering meets on or after the enrollment's start). Enrollments have no
  separate trial kind, so the first class is when a coach meets the child on trial;
* **makeup**: the student is not enrolled in the class but comes in this once with an approved
  makeup request;
* **expected absent**: the family reported an absence for this meeting (pending or approved).

Medical notes and emergency contacts are given only to staff with the medical permission,
and each student's read is written to the audit log (``read_medical``, via roster)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from portal.accounts.models import EmergencyContact, Guardian
from portal.accounts.photos import student_initials, student_photo_url
from portal.catalog.models import Offering, age_on
from portal.enrollment import camp_days
from portal.enrollment.models import Enrollment
from portal.requests.models import Request

from .models import Attendance

NEW_STUDENT_DAYS = 30
# Enrollments that put a student on a meeting's roster when their dates cover it: still
# active, or dropped/transferred after that day (end_date is their last day).
ROSTER_STATUSES = (
    Enrollment.Status.ACTIVE,
    Enrollment.Status.DROPPED,
    Enrollment.Status.TRANSFERRED,
)
HISTORY_STATUSES = (*ROSTER_STATUSES, Enrollment.Status.PENDING)


def offerings_for_attendance(user) -> QuerySet[Offering]:
    """The offerings whose rosters the user may open and mark: every one with
    ``view_rosters`` (owner, manager, front desk), else only those the user teaches
    (a coach: ``StaffProfile.user`` among the offering's instructors)."""
    from portal.staff.selectors import offerings_visible_to

    return offerings_visible_to(user)


def offering_for(user, offering_id) -> Offering | None:
    return (
        offerings_for_attendance(user)
        .select_related("program", "location")
        .filter(pk=offering_id)
        .first()
    )


@dataclass
class RosterRow:
    student: object
    family: object
    age: int
    enrollment: object | None = None
    makeup_request: object | None = None
    guardian_name: str = ""
    guardian_phone: str = ""
    new: bool = False
    trial: bool = False
    expected_absent: bool = False
    status: str = ""  # the mark taken, "" when none yet
    marked_by: str = ""
    marked_at: object | None = None
    makeup_token: object | None = None  # the token an excused mark issued
    medical_notes: str | None = None  # None: not for this user
    emergency_contacts: list | None = None
    tags: list[str] = field(default_factory=list)
    photo_url: str = ""  # a signed, short-lived link; "" when the student has no photo

    @property
    def makeup(self) -> bool:
        return self.makeup_request is not None

    @property
    def initials(self) -> str:
        return student_initials(self.student)  # type: ignore[arg-type]


def _on_day(queryset: QuerySet[Enrollment], day: date) -> QuerySet[Enrollment]:
    """Enrollments live on ``day``; a camper booked by the day only on the days chosen."""
    return (
        queryset.filter(status__in=ROSTER_STATUSES, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .filter(camp_days.covers(day))
    )


def meeting_enrollments(offering: Offering, day: date) -> QuerySet[Enrollment]:
    """The enrollments whose student belongs at the offering's meeting on ``day``."""
    return _on_day(Enrollment.objects.filter(offering=offering), day)


def meeting_makeups(offering: Offering, day: date) -> QuerySet[Request]:
    return Request.objects.filter(
        type=Request.Type.MAKEUP,
        status=Request.Status.APPROVED,
        target_offering=offering,
        meeting_date=day,
    )


def _first_meeting_on_or_after(offering: Offering, day: date) -> date | None:
    for meeting in offering.meetings():
        if meeting >= day:
            return meeting
    return None


def meeting_roster(*, offering: Offering, day: date, medical: bool) -> list[RosterRow]:
    """Everyone expected at the meeting, enrolled students then makeup students, each by first
    and last name, with the flags above and the mark taken. With ``medical`` each row has its
    notes and the family's emergency contacts, and each student's read is audited."""
    from portal.privacy.audit import audit_record

    enrollments = list(
        meeting_enrollments(offering, day).select_related("student", "family").order_by("pk")
    )
    makeups = list(meeting_makeups(offering, day).select_related("student", "family"))
    students = [e.student for e in enrollments] + [r.student for r in makeups]
    student_ids = [s.pk for s in students]
    family_ids = {s.family_id for s in students}
    first_start = dict(
        Enrollment.objects.filter(student_id__in=student_ids, status__in=HISTORY_STATUSES)
        .values_list("student_id")
        .annotate(first=Min("start_date"))
        .values_list("student_id", "first")
    )
    absent = set(
        Request.objects.filter(
            type=Request.Type.ABSENCE,
            status__in=[Request.Status.PENDING, Request.Status.APPROVED],
            enrollment__in=enrollments,
            meeting_date=day,
        ).values_list("enrollment_id", flat=True)
    )
    marks = {
        a.student_id: a
        for a in Attendance.objects.filter(offering=offering, meeting_date=day).select_related(
            "marked_by", "issued_token"
        )
    }
    guardians: dict[int, Guardian] = {}
    for guardian in Guardian.objects.filter(family_id__in=family_ids).order_by("-is_primary", "pk"):
        guardians.setdefault(guardian.family_id, guardian)
    contacts: dict[int, list[EmergencyContact]] = {}
    if medical:
        for contact in EmergencyContact.objects.filter(family_id__in=family_ids):
            contacts.setdefault(contact.family_id, []).append(contact)
    new_since = day - timedelta(days=NEW_STUDENT_DAYS)

    def row(student, family, **kwargs) -> RosterRow:
        guardian = guardians.get(family.pk)
        mark = marks.get(student.pk)
        first = first_start.get(student.pk)
        out = RosterRow(
            student=student,
            family=family,
            age=age_on(student.date_of_birth, day),
            guardian_name=str(guardian) if guardian else "",
            guardian_phone=guardian.phone if guardian else "",
            new=first is not None and new_since <= first <= day,
            status=mark.status if mark else "",
            marked_by=(mark.marked_by.email if mark and mark.marked_by else ""),
            marked_at=mark.marked_at if mark else None,
            makeup_token=mark.issued_token if mark else None,
            photo_url=student_photo_url(student),
            **kwargs,
        )
        if medical:
            out.medical_notes = student.medical_notes
            out.emergency_contacts = contacts.get(family.pk, [])
        return out

    rows = [
        row(
            e.student,
            e.family,
            enrollment=e,
            trial=_first_meeting_on_or_after(offering, e.start_date) == day,
            expected_absent=e.pk in absent,
        )
        for e in enrollments
    ]
    rows.sort(key=lambda r: (r.student.first_name, r.student.last_name, r.student.pk))
    visitors = [row(r.student, r.family, makeup_request=r) for r in makeups]
    visitors.sort(key=lambda r: (r.student.first_name, r.student.last_name, r.student.pk))
    rows += visitors
    if medical:
        for r in rows:
            audit_record(
                action="read_medical",
                obj=r.student,
                fields={"read": ["medical_notes", "emergency_contacts"], "via": "roster"},
            )
    return rows


@dataclass(frozen=True)
class MeetingSummary:
    day: date
    expected: int  # students on the roster (makeups included)
    marked: int

    @property
    def state(self) -> str:
        """``taken`` (everyone marked), ``partial`` or ``not_taken``."""
        if self.expected and self.marked >= self.expected:
            return "taken"
        return "partial" if self.marked else "not_taken"


def meeting_summaries(*, offering: Offering, days: list[date]) -> dict[date, MeetingSummary]:
    """For each of the offering's meetings in ``days``: how many are expected, how many marked
    (a few queries whatever the number of days)."""
    if not days:
        return {}
    low, high = min(days), max(days)
    enrollments = list(
        Enrollment.objects.filter(
            offering=offering, status__in=ROSTER_STATUSES, start_date__lte=high
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=low))
        .values_list("start_date", "end_date")
    )
    makeups = dict(
        Request.objects.filter(
            type=Request.Type.MAKEUP,
            status=Request.Status.APPROVED,
            target_offering=offering,
            meeting_date__gte=low,
            meeting_date__lte=high,
        )
        .values_list("meeting_date")
        .annotate(n=Count("pk"))
        .values_list("meeting_date", "n")
    )
    marked = dict(
        Attendance.objects.filter(offering=offering, meeting_date__gte=low, meeting_date__lte=high)
        .values_list("meeting_date")
        .annotate(n=Count("pk"))
        .values_list("meeting_date", "n")
    )
    out = {}
    for day in days:
        expected = sum(
            1 for start, end in enrollments if start <= day and (end is None or end >= day)
        )
        out[day] = MeetingSummary(
            day=day, expected=expected + makeups.get(day, 0), marked=marked.get(day, 0)
        )
    return out


def offering_meetings(*, offering: Offering, today: date | None = None) -> list[MeetingSummary]:
    """The offering's meetings from four weeks ago to two weeks ahead, with their summaries."""
    today = today or timezone.localdate()
    days = [
        d
        for d in offering.meetings()
        if today - timedelta(days=28) <= d <= today + timedelta(days=14)
    ]
    summaries = meeting_summaries(offering=offering, days=days)
    return [summaries[d] for d in days]


def family_attendance(*, family, start: date, end: date) -> dict[tuple[int, int, date], str]:
    """The marks of the family's students from ``start`` to ``end``:
    (offering id, student id, date) -> status."""
    return {
        (offering_id, student_id, day): status
        for offering_id, student_id, day, status in Attendance.objects.filter(
            student__family=family, meeting_date__gte=start, meeting_date__lte=end
        ).values_list("offering_id", "student_id", "meeting_date", "status")
    }


@dataclass
class PastMeeting:
    day: date
    attendance: str  # present, late, absent, excused; "" when staff have not marked it


@dataclass
class TermAttendance:
    enrollment: Enrollment
    meetings: list[PastMeeting]

    @property
    def counts(self) -> dict[str, int]:
        out = {status: 0 for status in (*Attendance.Status.values, "")}
        for meeting in self.meetings:
            out[meeting.attendance] += 1
        return out


def family_term_attendance(*, family, today: date) -> dict[int, TermAttendance]:
    """The current term's meetings so far of each of the family's enrollments, with the mark
    staff took: for every enrollment whose class is still running (its offering not ended
    before ``today``, the business's date), the class's meetings from the enrollment's start to
    its last day or yesterday, and today's once marked. Enrollment id -> TermAttendance; two
    queries whatever the number of enrollments."""
    enrollments = list(
        Enrollment.objects.filter(
            family=family, status__in=ROSTER_STATUSES, offering__end_date__gte=today
        )
        .select_related("offering", "student")
        .order_by("student__first_name", "offering__start_date", "pk")
    )
    if not enrollments:
        return {}
    starts = min(e.start_date for e in enrollments)
    marks = family_attendance(family=family, start=starts, end=today)
    out: dict[int, TermAttendance] = {}
    for enrollment in enrollments:
        offering = enrollment.offering
        last = min(enrollment.end_date or offering.end_date, today)
        meetings = []
        for day in camp_days.meetings_of(offering, enrollment.camp_days):
            if day < enrollment.start_date or day > last:
                continue
            mark = marks.get((offering.pk, enrollment.student_id, day), "")
            if day == today and not mark:
                continue  # today's class may not have happened yet
            meetings.append(PastMeeting(day=day, attendance=mark))
        out[enrollment.pk] = TermAttendance(enrollment=enrollment, meetings=meetings)
    return out


def meeting_roster_table(*, offering: Offering, day: date, rows: list[RosterRow], medical: bool):
    """The meeting's roster as a table (``portal.reports.selectors.Report``: the console's and
    the API's CSV, cells a spreadsheet would run as formulas written as text). Medical columns
    only when the rows carry them (they were read, and audited, by :func:`meeting_roster`)."""
    from django.utils.translation import gettext as _

    from portal.reports.selectors import Column, Report

    columns = [
        Column("student", _("Student")),
        Column("age", _("Age"), "int"),
        Column("flags", _("Flags")),
        Column("attendance", _("Attendance")),
        Column("family", _("Family")),
        Column("guardian", _("Guardian")),
        Column("phone", _("Phone")),
    ]
    if medical:
        columns += [
            Column("medical", _("Allergies and medical notes")),
            Column("emergency", _("Emergency contacts")),
        ]
    labels = dict(Attendance.Status.choices)
    table = []
    for r in rows:
        flags = [
            name
            for name, on in (
                (_("new"), r.new),
                (_("first class"), r.trial),
                (_("makeup"), r.makeup),
                (_("reported absent"), r.expected_absent),
            )
            if on
        ]
        out = {
            "student": f"{r.student.first_name} {r.student.last_name}",
            "age": r.age,
            "flags": ", ".join(str(f) for f in flags),
            "attendance": str(labels.get(r.status, "")),
            "family": r.family.name,
            "guardian": r.guardian_name,
            "phone": r.guardian_phone,
        }
        if medical:
            out["medical"] = r.medical_notes or ""
            out["emergency"] = "; ".join(
                f"{c.name} ({c.relationship}) {c.phone}"
                if c.relationship
                else f"{c.name} {c.phone}"
                for c in r.emergency_contacts or []
            )
        table.append(out)
    return Report(
        name=f"roster-{offering.pk}-{day.isoformat()}",
        title=f"{offering.name} {day.isoformat()}",
        columns=columns,
        rows=table,
    )


def day_summaries(*, offerings, day: date) -> dict[int, MeetingSummary]:
    """Attendance taken or not at each offering's meeting on ``day`` (the dashboard)."""
    return {
        offering.pk: meeting_summaries(offering=offering, days=[day])[day] for offering in offerings
    }
