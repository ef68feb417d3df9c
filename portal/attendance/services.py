"""Taking attendance. One entry point marks one student at one meeting; another marks everyone
not yet marked. Both check who may mark (a coach only their own classes), that the date is one
of the class's meetings and not a future one, and that the student belongs at that meeting.

Excused absences and makeup tokens: marking an enrolled student ``excused`` gives a makeup
token by the business's rule (portal.requests.tokens, the rule an approved absence request
follows), unless the family reported the absence (a pending or approved absence request owns
that meeting's token). The token hangs on the mark, so marking excused again issues nothing, and
changing the mark to anything else revokes the token while it is unused (a token already
redeemed for a makeup stays). The enrollment's row (or the makeup request's) is locked while a
mark changes, so two devices marking the same child take turns.

Why an app of its own (not portal.enrollment or portal.requests): attendance is read and
written by the console, the staff API, the family's schedule and the reports, and depends on
enrollments, requests and the catalog; none of them depends on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from kernel.errors import ApplicationError
from portal.config.selectors import portal_settings_get
from portal.enrollment.models import Enrollment
from portal.privacy.audit import audit_record
from portal.requests.models import MakeupToken, Request
from portal.requests.tokens import makeup_token_for_absence

from . import selectors
from .models import Attendance

STATUSES = tuple(Attendance.Status.values)


@dataclass(frozen=True)
class Marked:
    attendance: Attendance
    changed: bool
    token_issued: MakeupToken | None = None
    token_revoked: bool = False


def _offering(by, offering_id):
    offering = selectors.offering_for(by, offering_id)
    if offering is None:
        # Another coach's class answers like a class that does not exist: nothing of it shows.
        raise ApplicationError(
            "offering_not_found", "No such class, camp or event for you.", status=404
        )
    return offering


def meeting_check(*, offering, meeting_date: date) -> None:
    """Refuse a date the offering does not meet on, and a meeting still to come."""
    if meeting_date not in offering.meetings():
        raise ApplicationError(
            "not_a_meeting",
            f"{offering.name} does not meet on {meeting_date:%b %-d, %Y}.",
            fields={"meeting_date": ["Not one of this class's meetings."]},
        )
    if meeting_date > timezone.localdate():
        raise ApplicationError(
            "attendance_too_early",
            "Attendance is taken from the day of the meeting.",
            status=409,
        )


def _status(status: str) -> str:
    if status not in STATUSES:
        raise ApplicationError(
            "invalid_input",
            "Choose present, late, absent or excused.",
            fields={"status": ["Choose present, late, absent or excused."]},
        )
    return status


def _locked_place(
    offering, meeting_date: date, student_id
) -> tuple[Enrollment | None, Request | None]:
    """The student's enrollment (or approved makeup) for the meeting, locked."""
    enrollment = (
        selectors.meeting_enrollments(offering, meeting_date)
        .select_for_update(of=("self",))
        .select_related("offering", "student")
        .filter(student_id=student_id)
        .order_by("pk")
        .first()
    )
    if enrollment is not None:
        return enrollment, None
    makeup = (
        selectors.meeting_makeups(offering, meeting_date)
        .select_for_update(of=("self",))
        .filter(student_id=student_id)
        .order_by("pk")
        .first()
    )
    if makeup is not None:
        return None, makeup
    raise ApplicationError(
        "student_not_on_roster",
        "This student is not on the roster of that meeting.",
        status=404,
        fields={"student_id": ["Not on this meeting's roster."]},
    )


def _absence_reported(enrollment: Enrollment, meeting_date: date) -> bool:
    return Request.objects.filter(
        type=Request.Type.ABSENCE,
        enrollment=enrollment,
        meeting_date=meeting_date,
        status__in=[Request.Status.PENDING, Request.Status.APPROVED],
    ).exists()


def _apply(
    *, offering, meeting_date: date, student_id, status: str, by, was: str | None, portal
) -> Marked:
    """Within the caller's transaction: lock, check ``was``, write the mark, settle the token."""
    enrollment, makeup = _locked_place(offering, meeting_date, student_id)
    mark = (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("issued_token")
        .filter(offering=offering, meeting_date=meeting_date, student_id=student_id)
        .first()
    )
    current = mark.status if mark else ""
    if was is not None and was != current:
        raise ApplicationError(
            "attendance_changed",
            "Someone else changed this student's attendance meanwhile; look again and retry.",
            status=409,
            fields={"status": [current or "unmarked"]},
        )
    if mark is not None and current == status:
        return Marked(attendance=mark, changed=False)
    now = timezone.now()
    if mark is None:
        mark = Attendance(
            offering=offering,
            meeting_date=meeting_date,
            student_id=student_id,
            enrollment=enrollment,
            makeup_request=makeup,
        )
    mark.status = status
    mark.marked_by = by if getattr(by, "is_authenticated", False) else None
    mark.marked_at = now
    issued, revoked = None, False
    token = mark.issued_token
    if status != Attendance.Status.EXCUSED and token is not None:
        if token.status == MakeupToken.Status.AVAILABLE:
            mark.issued_token = None
            mark.save()
            token.delete()  # recorded by the token's history triggers
            revoked = True
        # A token already redeemed for a makeup stays with the family.
    elif (
        status == Attendance.Status.EXCUSED
        and token is None
        and enrollment is not None
        and not _absence_reported(enrollment, meeting_date)
    ):
        issued = makeup_token_for_absence(enrollment=enrollment, portal=portal)
        mark.issued_token = issued
    mark.save()
    audit_record(
        action="attendance_mark",
        obj=mark,
        family_id=mark.student.family_id,
        fields={
            "meeting_date": meeting_date.isoformat(),
            "from": current,
            "to": status,
            **({"makeup_token_issued": issued.pk} if issued else {}),
            **({"makeup_token_revoked": True} if revoked else {}),
        },
    )
    return Marked(attendance=mark, changed=True, token_issued=issued, token_revoked=revoked)


def attendance_mark(
    *,
    offering_id,
    meeting_date: date,
    student_id,
    status: str,
    by,
    was: str | None = None,
) -> Marked:
    """Mark one student at one meeting. ``was``: the mark the person saw ("" for none); when
    given and no longer true, the change is refused (``attendance_changed``, 409) and nothing
    changes, so a stale tablet never overwrites a newer mark."""
    status = _status(status)
    if was is not None and was not in ("", *STATUSES):
        raise ApplicationError(
            "invalid_input", "Unknown previous mark.", fields={"was": ["Unknown mark."]}
        )
    offering = _offering(by, offering_id)
    meeting_check(offering=offering, meeting_date=meeting_date)
    portal = portal_settings_get()
    try:
        with transaction.atomic():
            return _apply(
                offering=offering,
                meeting_date=meeting_date,
                student_id=student_id,
                status=status,
                by=by,
                was=was,
                portal=portal,
            )
    except IntegrityError as exc:
        # Two first marks of one child at once: the unique constraint lets one in.
        raise ApplicationError(
            "attendance_changed",
            "Someone else changed this student's attendance meanwhile; look again and retry.",
            status=409,
        ) from exc


def attendance_mark_all_present(*, offering_id, meeting_date: date, by) -> int:
    """Everyone not marked yet at the meeting: present, or excused when the family reported
    the absence. Marks already taken stay. Returns how many were marked."""
    offering = _offering(by, offering_id)
    meeting_check(offering=offering, meeting_date=meeting_date)
    portal = portal_settings_get()
    rows = selectors.meeting_roster(offering=offering, day=meeting_date, medical=False)
    count = 0
    with transaction.atomic():
        # Every enrollment's row in primary-key order first, as a single mark would take it:
        # two devices marking everyone at once cannot deadlock.
        list(
            selectors.meeting_enrollments(offering, meeting_date)
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for row in rows:
            if row.status:
                continue
            marked = _apply(
                offering=offering,
                meeting_date=meeting_date,
                student_id=row.student.pk,
                status=(
                    Attendance.Status.EXCUSED if row.expected_absent else Attendance.Status.PRESENT
                ),
                by=by,
                was="",
                portal=portal,
            )
            count += int(marked.changed)
    return count
