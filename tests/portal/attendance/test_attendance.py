"""Attendance services and selectors: marks per student and meeting, who may mark (a coach only
their own classes), refusals that change nothing, excused absences issuing one makeup token by
the business's rule and revoking it while unused, mark-all-present, the roster's flags and the
medical read audit, the family's schedule and the dashboard's summaries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from kernel.errors import ApplicationError
from kernel.users.models import User
from portal.attendance import selectors, services
from portal.attendance.models import Attendance
from portal.config.services import portal_settings_update
from portal.privacy.models import AuditEntry
from portal.requests.models import MakeupToken, Request
from portal.requests.selectors import family_meetings
from tests.factories import StudentFactory
from tests.portal.attendance_helpers import gym

pytestmark = pytest.mark.django_db


@pytest.fixture
def g(in_tenant_a):
    built = gym(in_tenant_a)
    connection.set_tenant(in_tenant_a)
    return built


def owner(tenant) -> User:
    return User.objects.get(email=tenant.owner_email)


def refused(code: str, fn, **kwargs) -> ApplicationError:
    before = list(Attendance.objects.values_list("pk", "status"))
    tokens = MakeupToken.objects.count()
    with pytest.raises(ApplicationError) as caught:
        fn(**kwargs)
    assert caught.value.code == code, caught.value.code
    assert list(Attendance.objects.values_list("pk", "status")) == before
    assert MakeupToken.objects.count() == tokens
    return caught.value


def test_a_coach_marks_their_class_and_a_mark_changes_in_place(g):
    ada, _ben = g.students
    marked = services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=g.today,
        student_id=ada.pk,
        status="present",
        by=g.coach.user,
    )
    assert marked.changed and marked.token_issued is None
    mark = Attendance.objects.get()
    assert (mark.status, mark.enrollment, mark.marked_by) == (
        "present",
        g.enrollments[0],
        g.coach.user,
    )
    again = services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=g.today,
        student_id=ada.pk,
        status="present",
        by=g.coach.user,
        was="present",
    )
    assert not again.changed
    services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=g.today,
        student_id=ada.pk,
        status="late",
        by=g.coach.user,
        was="present",
    )
    assert Attendance.objects.get().status == "late"
    assert Attendance.objects.count() == 1
    entry = AuditEntry.objects.filter(action="attendance_mark").order_by("-pk").first()
    assert entry.fields["from"] == "present" and entry.fields["to"] == "late"
    # The database keeps every version (pghistory).
    assert [e.status for e in mark.events.order_by("pgh_id")] == ["present", "late"]


def test_refusals_change_nothing(g, in_tenant_a):
    ada, ben = g.students
    base = dict(
        offering_id=g.offering.pk,
        meeting_date=g.today,
        student_id=ada.pk,
        status="present",
        by=g.coach.user,
    )
    services.attendance_mark(**base)
    # Another coach's class is not found for this coach.
    error = refused(
        "offering_not_found", services.attendance_mark, **{**base, "offering_id": g.other.pk}
    )
    assert error.status == 404
    refused("offering_not_found", services.attendance_mark, **{**base, "offering_id": 999999})
    # A day the class does not meet, a meeting still to come.
    refused(
        "not_a_meeting",
        services.attendance_mark,
        **{**base, "meeting_date": g.today + timedelta(days=1)},
    )
    refused(
        "attendance_too_early",
        services.attendance_mark,
        **{**base, "meeting_date": g.today + timedelta(days=7)},
    )
    # A student of another class, a bad status, a stale "was".
    cy = StudentFactory(first_name="Cy")
    refused("student_not_on_roster", services.attendance_mark, **{**base, "student_id": cy.pk})
    refused("invalid_input", services.attendance_mark, **{**base, "status": "asleep"})
    refused("invalid_input", services.attendance_mark, **{**base, "was": "asleep"})
    error = refused(
        "attendance_changed", services.attendance_mark, **{**base, "status": "absent", "was": ""}
    )
    assert error.status == 409
    # Ben started today: last week's meeting is not his.
    refused(
        "student_not_on_roster",
        services.attendance_mark,
        **{**base, "student_id": ben.pk, "meeting_date": g.last_week},
    )
    assert Attendance.objects.get().status == "present"
    # The owner marks any class; so does the front desk.
    services.attendance_mark(
        **{
            **base,
            "offering_id": g.other.pk,
            "by": owner(in_tenant_a),
            "student_id": g.other.enrollments.get().student_id,
        }
    )


def test_excused_issues_one_token_by_the_rule_and_present_revokes_it(g):
    ada, _ = g.students
    portal_settings_update(makeup_token_expiry_days=45)
    base = dict(
        offering_id=g.offering.pk, meeting_date=g.last_week, student_id=ada.pk, by=g.coach.user
    )
    first = services.attendance_mark(status="excused", **base)
    token = first.token_issued
    assert token is not None and token.status == "available"
    assert (token.student, token.program_id, token.kind) == (ada, g.offering.program_id, "class")
    assert token.expires_on == g.today + timedelta(days=45)
    # Excused twice: still one token.
    assert not services.attendance_mark(status="excused", **base).changed
    services.attendance_mark(status="absent", **base)
    services.attendance_mark(status="excused", **base)
    assert MakeupToken.objects.filter(student=ada).count() == 1  # the first was revoked
    assert not MakeupToken.objects.filter(pk=token.pk).exists()
    revoked = services.attendance_mark(status="present", **base)
    assert revoked.token_revoked
    assert MakeupToken.objects.filter(student=ada).count() == 0
    # A token already used for a makeup stays with the family.
    used = services.attendance_mark(status="excused", **base).token_issued
    MakeupToken.objects.filter(pk=used.pk).update(status="redeemed")
    services.attendance_mark(status="present", **base)
    assert MakeupToken.objects.get(pk=used.pk).status == "redeemed"


def test_no_token_when_the_business_gives_none_or_the_family_reported_it(g):
    ada, ben = g.students
    portal_settings_update(absence_issues_makeup_token=False)
    marked = services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=g.last_week,
        student_id=ada.pk,
        status="excused",
        by=g.coach.user,
    )
    assert marked.token_issued is None
    portal_settings_update(absence_issues_makeup_token=True)
    # A reported absence owns that meeting's token (its approval issues it).
    Request.objects.create(
        type="absence",
        status="pending",
        family=ben.family,
        student=ben,
        enrollment=g.enrollments[1],
        meeting_date=g.today,
    )
    marked = services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=g.today,
        student_id=ben.pk,
        status="excused",
        by=g.coach.user,
    )
    assert marked.token_issued is None
    assert MakeupToken.objects.count() == 0


def test_mark_all_present_marks_the_rest_and_excuses_reported_absences(g, in_tenant_a):
    ada, ben = g.students
    Request.objects.create(
        type="absence",
        status="approved",
        family=ben.family,
        student=ben,
        enrollment=g.enrollments[1],
        meeting_date=g.today,
    )
    # A makeup student comes in today.
    visitor = StudentFactory(first_name="Zoe", last_name="Visitor")
    Request.objects.create(
        type="makeup",
        status="approved",
        family=visitor.family,
        student=visitor,
        target_offering=g.offering,
        meeting_date=g.today,
    )
    services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=g.today,
        student_id=ada.pk,
        status="late",
        by=g.coach.user,
    )
    count = services.attendance_mark_all_present(
        offering_id=g.offering.pk, meeting_date=g.today, by=g.coach.user
    )
    assert count == 2
    marks = dict(Attendance.objects.values_list("student__first_name", "status"))
    assert marks == {"Ada": "late", "Ben": "excused", "Zoe": "present"}
    assert Attendance.objects.get(student=visitor).makeup_request is not None
    assert MakeupToken.objects.count() == 0  # Ben's absence request owns his token
    assert (
        services.attendance_mark_all_present(
            offering_id=g.offering.pk, meeting_date=g.today, by=g.coach.user
        )
        == 0
    )
    summary = selectors.meeting_summaries(offering=g.offering, days=[g.today, g.last_week])
    assert summary[g.today].state == "taken" and summary[g.today].expected == 3
    assert summary[g.last_week].state == "not_taken" and summary[g.last_week].expected == 1
    with pytest.raises(ApplicationError) as caught:
        services.attendance_mark_all_present(
            offering_id=g.other.pk, meeting_date=g.today, by=g.coach.user
        )
    assert caught.value.code == "offering_not_found"


def test_the_roster_flags_and_the_medical_read_audit(g, in_tenant_a):
    ada, _ben = g.students
    visitor = StudentFactory(first_name="Zoe", last_name="Visitor")
    Request.objects.create(
        type="makeup",
        status="approved",
        family=visitor.family,
        student=visitor,
        target_offering=g.offering,
        meeting_date=g.today,
    )
    Request.objects.create(
        type="absence",
        status="pending",
        family=ada.family,
        student=ada,
        enrollment=g.enrollments[0],
        meeting_date=g.today,
    )
    before = AuditEntry.objects.filter(action="read_medical").count()
    rows = selectors.meeting_roster(offering=g.offering, day=g.today, medical=True)
    assert [r.student.first_name for r in rows] == ["Ada", "Ben", "Zoe"]
    by_name = {r.student.first_name: r for r in rows}
    assert by_name["Ada"].expected_absent and not by_name["Ada"].trial
    assert by_name["Ada"].new  # first enrollment 21 days ago
    assert by_name["Ben"].trial and by_name["Ben"].new  # starts today
    assert by_name["Zoe"].makeup and not by_name["Zoe"].trial
    assert by_name["Ada"].medical_notes == "Peanut allergy"
    assert [c.name for c in by_name["Ada"].emergency_contacts] == ["Grandma Byron"]
    assert by_name["Ada"].guardian_phone == "555 201 7788"
    assert AuditEntry.objects.filter(action="read_medical").count() == before + 3
    plain = selectors.meeting_roster(offering=g.offering, day=g.today, medical=False)
    assert plain[0].medical_notes is None and plain[0].emergency_contacts is None
    assert AuditEntry.objects.filter(action="read_medical").count() == before + 3
    # An old enrollment elsewhere: not new any more.
    from portal.enrollment.models import Enrollment

    Enrollment.objects.filter(pk=g.enrollments[0].pk).update(
        start_date=g.today - timedelta(days=60)
    )
    assert not selectors.meeting_roster(offering=g.offering, day=g.today, medical=False)[0].new


def test_the_family_schedule_shows_attended_and_absent(g):
    ada, _ = g.students
    services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=g.last_week,
        student_id=ada.pk,
        status="absent",
        by=g.coach.user,
    )
    services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=g.today,
        student_id=ada.pk,
        status="present",
        by=g.coach.user,
    )
    meetings = family_meetings(family=ada.family, start=g.last_week, end=g.today)
    assert [(m.day, m.attendance) for m in meetings] == [
        (g.last_week, "absent"),
        (g.today, "present"),
    ]


def test_the_attendance_report_by_class_and_student(g):
    from portal.reports.selectors import report_run

    ada, ben = g.students
    for day, student, status in (
        (g.last_week, ada, "absent"),
        (g.today, ada, "present"),
        (g.today, ben, "late"),
    ):
        services.attendance_mark(
            offering_id=g.offering.pk,
            meeting_date=day,
            student_id=student.pk,
            status=status,
            by=g.coach.user,
        )
    report = report_run(name="attendance", params={"from": g.last_week.isoformat()})
    row = next(r for r in report.rows if r["offering"] == "Tumble Tots")
    assert (row["meetings"], row["taken"], row["expected"]) == (2, 2, 3)
    assert (row["present"], row["late"], row["absent"], row["unmarked"]) == (1, 1, 1, 0)
    assert row["rate"] == 66.7
    other = next(r for r in report.rows if r["offering"] == "Other Coach's Class")
    assert other["unmarked"] == 2 and other["taken"] == 0
    by_student = report_run(
        name="attendance",
        params={
            "group_by": "student",
            "offering": str(g.offering.pk),
            "from": g.last_week.isoformat(),
        },
    )
    assert [(r["student"], r["present"], r["absent"]) for r in by_student.rows] == [
        ("Ada Lovelace", 1, 1),
        ("Ben Okafor", 0, 0),
    ]
    assert "Ada Lovelace" in by_student.csv()
    for params in (
        {"from": "2026-13-01"},
        {"group_by": "family"},
        {"offering": "x"},
        {"from": g.today.isoformat(), "to": g.last_week.isoformat()},
    ):
        with pytest.raises(ApplicationError) as caught:
            report_run(name="attendance", params=params)
        assert caught.value.code == "invalid_filter"


def test_the_term_so_far_lists_each_past_meeting_with_its_mark(g):
    ada, ben = g.students
    for day, status in ((g.last_week, "excused"), (g.today - timedelta(days=14), "late")):
        services.attendance_mark(
            offering_id=g.offering.pk,
            meeting_date=day,
            student_id=ada.pk,
            status=status,
            by=g.coach.user,
        )
    term = selectors.family_term_attendance(family=ada.family, today=g.today)
    assert list(term) == [g.enrollments[0].pk]  # Ben's family is another
    meetings = term[g.enrollments[0].pk].meetings
    # From the enrollment's start (three weeks ago); today's class is left out until marked.
    assert [(m.day, m.attendance) for m in meetings] == [
        (g.today - timedelta(days=21), ""),
        (g.today - timedelta(days=14), "late"),
        (g.last_week, "excused"),
    ]
    services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=g.today,
        student_id=ada.pk,
        status="present",
        by=g.coach.user,
    )
    again = selectors.family_term_attendance(family=ada.family, today=g.today)
    assert again[g.enrollments[0].pk].meetings[-1].attendance == "present"
    counts = again[g.enrollments[0].pk].counts
    assert (counts["present"], counts["late"], counts["excused"], counts[""]) == (1, 1, 1, 1)
    # Ben started today: nothing past yet. A class that has ended is not this term.
    ben_term = selectors.family_term_attendance(family=ben.family, today=g.today)
    assert ben_term[g.enrollments[1].pk].meetings == []
    g.offering.end_date = g.today - timedelta(days=1)
    g.offering.save(update_fields=["end_date"])
    assert selectors.family_term_attendance(family=ada.family, today=g.today) == {}
