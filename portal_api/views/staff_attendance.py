"""Staff API for rosters and attendance: today's classes with attendance taken or not, a
class's meetings, one meeting's roster, marking one student or everyone left present, and the
roster as CSV. A coach reaches only the classes they teach (another class:
``offering_not_found``, 404); medical notes and emergency contacts only for staff with the
medical permission, each read audited (portal.attendance.selectors)."""

from __future__ import annotations

from datetime import date

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from kernel.errors import ApplicationError
from kernel.storage import on_tenant_host
from portal.attendance import selectors, services
from portal.attendance.models import Attendance
from portal.privacy.selectors import can_view_medical
from portal.staff.selectors import offerings_meeting_on

from .base import PortalApi

STATES = ["taken", "partial", "not_taken"]
DAY = OpenApiParameter(
    "day", OpenApiTypes.DATE, OpenApiParameter.PATH, description="The meeting's date, YYYY-MM-DD."
)


def _offering(request, offering_id: int):
    offering = selectors.offering_for(request.user, offering_id)
    if offering is None:
        raise ApplicationError(
            "offering_not_found", "No such class, camp or event for you.", status=404
        )
    return offering


def _meeting(offering, day: date) -> None:
    if day not in offering.meetings():
        raise ApplicationError(
            "not_a_meeting",
            f"{offering.name} does not meet on {day:%b %-d, %Y}.",
            fields={"meeting_date": ["Not one of this class's meetings."]},
        )


class MeetingSummaryOutput(serializers.Serializer):
    date = serializers.DateField(source="day")
    expected = serializers.IntegerField(help_text="Students on the roster, makeups included.")
    marked = serializers.IntegerField()
    state = serializers.ChoiceField(choices=STATES)


class RosterClassOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    program = serializers.CharField(source="program.name")
    location = serializers.CharField(source="location.name", default="", allow_null=True)
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()


class TodayClassOutput(RosterClassOutput):
    enrolled = serializers.IntegerField(source="active_count")
    capacity = serializers.IntegerField()
    attendance = MeetingSummaryOutput(source="attendance_today")


class StaffClassesTodayApi(PortalApi):
    permission_classes = [staff_permission("take_attendance")]

    @extend_schema(
        operation_id="staff_classes_today",
        responses=TodayClassOutput(many=True),
        description="The classes meeting today in the business's time zone (a coach: only "
        "their own), each with attendance taken (`taken`), partly (`partial`) or not.",
    )
    def get(self, request):
        today = timezone.localdate()
        classes = offerings_meeting_on(day=today, user=request.user)
        summaries = selectors.day_summaries(offerings=classes, day=today)
        for offering in classes:
            offering.attendance_today = summaries[offering.pk]
        return Response(TodayClassOutput(classes, many=True).data)


class OfferingRosterOutput(serializers.Serializer):
    offering = RosterClassOutput()
    meetings = MeetingSummaryOutput(many=True)


class StaffOfferingRosterApi(PortalApi):
    permission_classes = [staff_permission("take_attendance")]

    @extend_schema(
        operation_id="staff_roster_meetings",
        responses=OfferingRosterOutput,
        description="A class and its meetings from four weeks ago to two weeks ahead, each "
        "with how many are expected and marked. `offering_not_found` (404) for a class the "
        "caller does not teach (a coach) or that does not exist.",
    )
    def get(self, request, offering_id: int):
        offering = _offering(request, offering_id)
        return Response(
            OfferingRosterOutput(
                {"offering": offering, "meetings": selectors.offering_meetings(offering=offering)}
            ).data
        )


class ContactOutput(serializers.Serializer):
    name = serializers.CharField()
    relationship = serializers.CharField()
    phone = serializers.CharField()


class RosterStudentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="student.pk")
    first_name = serializers.CharField(source="student.first_name")
    last_name = serializers.CharField(source="student.last_name")
    age = serializers.IntegerField()
    family_id = serializers.IntegerField(source="family.pk")
    family = serializers.CharField(source="family.name")
    guardian = serializers.CharField(source="guardian_name")
    guardian_phone = serializers.CharField()
    enrollment_id = serializers.IntegerField(source="enrollment.pk", allow_null=True, default=None)
    makeup = serializers.BooleanField(help_text="Comes in once with a makeup token.")
    new = serializers.BooleanField(
        help_text=f"First enrollment with the business within {selectors.NEW_STUDENT_DAYS} days."
    )
    first_class = serializers.BooleanField(
        source="trial", help_text="This meeting is the student's first of this class."
    )
    expected_absent = serializers.BooleanField(help_text="The family reported an absence.")
    attendance = serializers.CharField(
        source="status", help_text="present, late, absent, excused, or empty when not marked."
    )
    marked_by = serializers.CharField()
    marked_at = serializers.DateTimeField(allow_null=True)
    makeup_token_id = serializers.IntegerField(
        source="makeup_token.pk", allow_null=True, default=None
    )
    medical_notes = serializers.CharField(
        allow_null=True, help_text="Only with the medical permission (each read audited)."
    )
    emergency_contacts = ContactOutput(many=True, allow_null=True)
    photo_url = serializers.SerializerMethodField(
        help_text="A signed link to the student's photo, valid for 15 minutes; null when none."
    )
    initials = serializers.CharField(help_text="What to show when there is no photo.")

    def get_photo_url(self, row) -> str | None:
        return on_tenant_host(row.photo_url) or None


class MeetingRosterOutput(serializers.Serializer):
    offering = RosterClassOutput()
    date = serializers.DateField()
    summary = MeetingSummaryOutput()
    students = RosterStudentOutput(many=True)


class StaffMeetingRosterApi(PortalApi):
    permission_classes = [staff_permission("take_attendance")]

    @extend_schema(
        operation_id="staff_roster_meeting",
        parameters=[DAY],
        responses=MeetingRosterOutput,
        description="Everyone expected at one meeting (enrolled students within their dates, "
        "then makeup students), with flags and the attendance taken. `not_a_meeting` (400) "
        "for a day the class does not meet; `offering_not_found` (404).",
    )
    def get(self, request, offering_id: int, day: date):
        offering = _offering(request, offering_id)
        _meeting(offering, day)
        rows = selectors.meeting_roster(
            offering=offering, day=day, medical=can_view_medical(request.user)
        )
        summary = selectors.MeetingSummary(
            day=day, expected=len(rows), marked=sum(1 for r in rows if r.status)
        )
        return Response(
            MeetingRosterOutput(
                {"offering": offering, "date": day, "summary": summary, "students": rows}
            ).data
        )


class MarkOutput(serializers.Serializer):
    student_id = serializers.IntegerField(source="attendance.student_id")
    date = serializers.DateField(source="attendance.meeting_date")
    attendance = serializers.CharField(source="attendance.status")
    changed = serializers.BooleanField()
    makeup_token_id = serializers.IntegerField(source="attendance.issued_token_id", allow_null=True)
    makeup_token_issued = serializers.SerializerMethodField()
    makeup_token_revoked = serializers.BooleanField(source="token_revoked")

    def get_makeup_token_issued(self, marked) -> bool:
        return marked.token_issued is not None


class StaffAttendanceMarkApi(PortalApi):
    permission_classes = [staff_permission("take_attendance")]

    class Input(serializers.Serializer):
        student_id = serializers.IntegerField(min_value=1)
        status = serializers.ChoiceField(choices=Attendance.Status.choices)
        was = serializers.ChoiceField(
            choices=[("", "not marked"), *Attendance.Status.choices],
            required=False,
            allow_blank=True,
            help_text="The mark the caller last saw (empty: none). When it is no longer "
            "true the change is refused with `attendance_changed` (409).",
        )

    @extend_schema(
        operation_id="staff_attendance_mark",
        parameters=[DAY],
        request=Input,
        responses=MarkOutput,
        description="Mark one student at one meeting. `excused` issues a makeup token by the "
        "business's rule (once; none when the family reported the absence); another mark "
        "withdraws it while unused. Refusals change nothing: `not_a_meeting` (400), "
        "`attendance_too_early` (409, a meeting still to come), `attendance_changed` (409), "
        "`student_not_on_roster` (404), `offering_not_found` (404).",
    )
    def post(self, request, offering_id: int, day: date):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        marked = services.attendance_mark(
            offering_id=offering_id,
            meeting_date=day,
            student_id=data.validated_data["student_id"],
            status=data.validated_data["status"],
            was=data.validated_data.get("was"),
            by=request.user,
        )
        return Response(MarkOutput(marked).data)


class AllPresentOutput(serializers.Serializer):
    marked = serializers.IntegerField()


class StaffAttendanceAllPresentApi(PortalApi):
    permission_classes = [staff_permission("take_attendance")]

    @extend_schema(
        operation_id="staff_attendance_all_present",
        parameters=[DAY],
        request=None,
        responses=AllPresentOutput,
        description="Mark everyone not yet marked present (a reported absence: excused). "
        "Marks already taken stay; `marked` is how many changed.",
    )
    def post(self, request, offering_id: int, day: date):
        count = services.attendance_mark_all_present(
            offering_id=offering_id, meeting_date=day, by=request.user
        )
        return Response({"marked": count})


class StaffMeetingRosterCsvApi(PortalApi):
    permission_classes = [staff_permission("take_attendance")]

    @extend_schema(
        operation_id="staff_roster_meeting_csv",
        parameters=[DAY],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The meeting's roster as CSV (medical columns only with the permission).",
    )
    def get(self, request, offering_id: int, day: date):
        offering = _offering(request, offering_id)
        _meeting(offering, day)
        medical = can_view_medical(request.user)
        rows = selectors.meeting_roster(offering=offering, day=day, medical=medical)
        table = selectors.meeting_roster_table(
            offering=offering, day=day, rows=rows, medical=medical
        )
        response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{table.name}.csv"'
        return response
