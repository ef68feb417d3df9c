"""Reads of requests that other pages need: the family's schedule with its absences and
makeups applied, the one rule the schedule page, the home page and the calendar feed share;
and the staff's lists of requests to decide (the console and the staff API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from kernel.errors import ApplicationError
from portal.accounts.models import Family
from portal.catalog.models import Offering
from portal.catalog.selectors import OfferingFilters, offering_search
from portal.enrollment import camp_days
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
        for day in camp_days.meetings_of(offering, enrollment.camp_days):
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


def request_pending_list(*, family: Family, limit: int = 5) -> list[Request]:
    """The family's requests waiting for the business's decision, newest first (at most
    ``limit``), with their students."""
    return list(
        Request.objects.filter(family=family, status=Request.Status.PENDING)
        .select_related("student")
        .order_by("-created_at")[:limit]
    )


def transfer_targets(*, enrollment: Enrollment, visible_kinds: list[str]) -> list[Offering]:
    """Classes an enrollment's student may move into: shown to families, not the class it is in,
    not full (a transfer into a full class is refused), and open to the student (age, gender,
    level); at most 100."""
    candidates = (
        offering_search(filters=OfferingFilters(has_openings=True), visible_kinds=visible_kinds)
        .exclude(pk=enrollment.offering_id)
        .prefetch_related("levels")[:200]
    )
    return offerings_for_student(enrollment.student, list(candidates))[:100]


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


# --- staff -----------------------------------------------------------------------------------

STAFF_STATUSES = ("pending", "approved", "denied", "cancelled", "all")


def _bad_filter(field: str, message: str) -> ApplicationError:
    return ApplicationError("invalid_filter", message, fields={field: [message]})


def _filter_day(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:20])
    except ValueError as exc:
        raise _bad_filter(field, "Give a date as YYYY-MM-DD.") from exc


def _filter_id(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not text.isdigit() or len(text) > 12 or int(text) < 1:
        raise _bad_filter(field, "Pick a class from the list.")
    return int(text)


def staff_request_list(
    *,
    status: str = "pending",
    type: str = "",
    offering=None,
    since="",
    until="",
) -> QuerySet[Request]:
    """Families' requests for staff to read and decide, filtered by status (``all`` for every
    one; pending by default), type, class (the enrollment's class or the class a makeup or
    transfer goes to: ``offering`` id) and the business's days the family asked on
    (``since``..``until``, YYYY-MM-DD, inclusive). Pending ones oldest first (a queue), the
    others newest first. A bad filter is ``invalid_filter`` (400)."""
    status = status or "pending"
    if status not in STAFF_STATUSES:
        raise _bad_filter("status", f"Use one of: {', '.join(STAFF_STATUSES)}.")
    if type and type not in Request.Type.values:
        raise _bad_filter("type", f"Use one of: {', '.join(Request.Type.values)}.")
    offering_id = _filter_id(offering, "offering")
    first, last = _filter_day(since, "since"), _filter_day(until, "until")
    if first and last and first > last:
        raise _bad_filter("until", "The end is before the start.")
    requests = Request.objects.select_related(
        "family", "student", "enrollment__offering", "target_offering", "decided_by"
    )
    if status != "all":
        requests = requests.filter(status=status)
    if type:
        requests = requests.filter(type=type)
    if offering_id is not None:
        requests = requests.filter(
            Q(enrollment__offering_id=offering_id) | Q(target_offering_id=offering_id)
        )
    zone = timezone.get_current_timezone()
    if first:
        requests = requests.filter(created_at__gte=datetime.combine(first, time.min, tzinfo=zone))
    if last:
        requests = requests.filter(
            created_at__lt=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        )
    if status == "pending":
        return requests.order_by("created_at", "pk")
    return requests.order_by("-created_at", "-pk")


def staff_request_get(*, request_id) -> Request:
    """One request with everything its page shows; ``request_not_found`` (404) otherwise."""
    req = (
        Request.objects.select_related(
            "family",
            "student",
            "enrollment__offering__location",
            "target_offering__location",
            "makeup_token",
            "issued_token",
            "decided_by",
        )
        .filter(pk=request_id)
        .first()
    )
    if req is None:
        raise ApplicationError("request_not_found", "We could not find that request.", status=404)
    return req


def staff_request_offerings() -> list[Offering]:
    """The classes families' requests are about (their enrollment's or a makeup's or
    transfer's target), by name: the choices of the class filter."""
    ids = set(
        Request.objects.filter(enrollment__isnull=False).values_list(
            "enrollment__offering_id", flat=True
        )
    ) | set(
        Request.objects.filter(target_offering__isnull=False).values_list(
            "target_offering_id", flat=True
        )
    )
    return list(Offering.objects.filter(pk__in=ids).order_by("name", "pk")[:500])


def staff_requests_pending_count() -> int:
    return Request.objects.filter(status=Request.Status.PENDING).count()
