"""Rosters and attendance in the console: a class's roster and meetings, one meeting's roster
with attendance taken in a few taps (a form per student and status; a small script with the
page's CSP nonce sends them without reloading, and the page works without it), everyone marked
present at once, the roster printed (print CSS) or downloaded as CSV.

A coach opens only the classes they teach (another class is "not found", as in the API);
owner, manager and front desk open every class. Medical notes and emergency contacts show only
to staff with the medical permission, and each student's read is audited
(portal.attendance.selectors)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.attendance import selectors, services
from portal.attendance.models import Attendance
from portal.privacy.selectors import can_view_medical

from .access import console_page, methods

VIEW = ("take_attendance", "view_rosters")


def _offering(request, offering_id: int):
    offering = selectors.offering_for(request.user, offering_id)
    if offering is None:
        raise Http404("No such class for you.")
    return offering


def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _nearest_meeting(offering, today: date) -> date | None:
    """Today's meeting, else the last one held, else the first to come."""
    meetings = offering.meetings()
    past = [d for d in meetings if d <= today]
    if past:
        return past[-1]
    return meetings[0] if meetings else None


@methods("GET")
@console_page(*VIEW, any_of=True)
def offering_roster(request, offering_id: int):
    """A class: its meetings (four weeks back, two ahead) with attendance taken or not, and
    the roster of today's meeting (or the nearest one)."""
    offering = _offering(request, offering_id)
    today = timezone.localdate()
    day = _nearest_meeting(offering, today)
    medical = can_view_medical(request.user)
    rows = selectors.meeting_roster(offering=offering, day=day, medical=medical) if day else []
    return render(
        request,
        "portal_console/roster.html",
        {
            "nav": "dashboard",
            "offering": offering,
            "day": day,
            "today": today,
            "rows": rows,
            "medical": medical,
            "meetings": selectors.offering_meetings(offering=offering, today=today),
            "can_mark": False,
        },
    )


def _meeting_page(request, offering, day: date, status: int = 200, error=None):
    today = timezone.localdate()
    medical = can_view_medical(request.user)
    rows = selectors.meeting_roster(offering=offering, day=day, medical=medical)
    marked = sum(1 for r in rows if r.status)
    return render(
        request,
        "portal_console/meeting.html",
        {
            "nav": "dashboard",
            "offering": offering,
            "day": day,
            "today": today,
            "rows": rows,
            "medical": medical,
            "marked": marked,
            "statuses": Attendance.Status.choices,
            "is_meeting": day in offering.meetings(),
            "can_mark": request.user.has_perm("portal_staff.take_attendance")
            and day <= today
            and day in offering.meetings(),
            "error": error,
        },
        status=status,
    )


@methods("GET")
@console_page(*VIEW, any_of=True)
def meeting_roster(request, offering_id: int, day: date):
    offering = _offering(request, offering_id)
    if day not in offering.meetings():
        raise Http404("The class does not meet that day.")
    return _meeting_page(request, offering, day)


@methods("POST")
@console_page("take_attendance")
def meeting_mark(request, offering_id: int, day: date):
    """One student's mark. ``was`` is the mark the page showed: a newer mark from another
    device is never overwritten (409, the page shows the newer one)."""
    offering = _offering(request, offering_id)
    student_id = request.POST.get("student_id", "")
    try:
        if not student_id.isdigit():
            raise ApplicationError(
                "invalid_input",
                _("Choose a student."),
                fields={"student_id": [_("Choose a student.")]},
            )
        marked = services.attendance_mark(
            offering_id=offering.pk,
            meeting_date=day,
            student_id=int(student_id),
            status=request.POST.get("status", ""),
            was=request.POST.get("was") if "was" in request.POST else None,
            by=request.user,
        )
    except ApplicationError as exc:
        if _wants_json(request):
            return JsonResponse(
                {"code": exc.code, "message": str(exc.message), "fields": exc.fields or {}},
                status=exc.status,
            )
        return _meeting_page(request, offering, day, status=exc.status, error=exc)
    mark = marked.attendance
    note = ""
    if marked.token_issued is not None:
        note = _("A makeup token is issued to the family (valid until %(day)s).") % {
            "day": marked.token_issued.expires_on.isoformat()
        }
    elif marked.token_revoked:
        note = _("The makeup token this absence gave is withdrawn.")
    if _wants_json(request):
        return JsonResponse(
            {
                "student_id": mark.student_id,
                "status": mark.status,
                "label": str(mark.get_status_display()),
                "note": note,
                "makeup_token_id": mark.issued_token_id,
            }
        )
    messages.success(
        request,
        " ".join(
            x
            for x in (
                _("%(name)s: %(status)s.")
                % {"name": mark.student.first_name, "status": mark.get_status_display()},
                note,
            )
            if x
        ),
    )
    return redirect(f"/console/rosters/{offering.pk}/{day.isoformat()}/#student-{mark.student_id}")


@methods("POST")
@console_page("take_attendance")
def meeting_all_present(request, offering_id: int, day: date):
    offering = _offering(request, offering_id)
    try:
        count = services.attendance_mark_all_present(
            offering_id=offering.pk, meeting_date=day, by=request.user
        )
    except ApplicationError as exc:
        return _meeting_page(request, offering, day, status=exc.status, error=exc)
    messages.success(
        request,
        _("%(count)s students marked; reported absences are excused.") % {"count": count},
    )
    return redirect(f"/console/rosters/{offering.pk}/{day.isoformat()}/")


@methods("GET")
@console_page(*VIEW, any_of=True)
def meeting_csv(request, offering_id: int, day: date):
    offering = _offering(request, offering_id)
    if day not in offering.meetings():
        raise Http404("The class does not meet that day.")
    medical = can_view_medical(request.user)
    rows = selectors.meeting_roster(offering=offering, day=day, medical=medical)
    table = selectors.meeting_roster_table(offering=offering, day=day, rows=rows, medical=medical)
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table.name}.csv"'
    return response
