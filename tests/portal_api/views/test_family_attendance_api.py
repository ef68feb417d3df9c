"""The family's schedule in the API and on the web: ``GET /api/v1/enrollments`` carries each
enrollment's current-term meetings so far with the attendance staff took, and /schedule/ shows
them; another family and another business see none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from kernel.users.services import api_token_issue
from portal.attendance import services
from tests.factories import PASSWORD
from tests.helpers import client_for, signed_in
from tests.portal.attendance_helpers import gym

pytestmark = pytest.mark.django_db


@pytest.fixture
def g(in_tenant_a):
    built = gym(in_tenant_a)
    connection.set_tenant(in_tenant_a)
    return built


def mark(g, student, day, status):
    services.attendance_mark(
        offering_id=g.offering.pk,
        meeting_date=day,
        student_id=student.pk,
        status=status,
        by=g.coach.user,
    )


def test_enrollments_carry_the_term_so_far_with_marks(g, tenant_b):
    ada, _ben = g.students
    mark(g, ada, g.last_week, "absent")
    mark(g, ada, g.today - timedelta(days=14), "present")
    mark(g, ada, g.today, "late")
    guardian = ada.family.guardians.get()
    _, token = api_token_issue(user=guardian.user, name="tests")
    response = client_for(connection.tenant, token=token).get("/api/v1/enrollments")
    assert response.status_code == 200
    [enrollment] = response.json()
    assert enrollment["past_meetings"] == [
        {"date": (g.today - timedelta(days=21)).isoformat(), "attendance": ""},
        {"date": (g.today - timedelta(days=14)).isoformat(), "attendance": "present"},
        {"date": g.last_week.isoformat(), "attendance": "absent"},
        {"date": g.today.isoformat(), "attendance": "late"},
    ]
    # The token means nothing on another business's host.
    assert client_for(tenant_b, token=token).get("/api/v1/enrollments").status_code == 401
    assert client_for(connection.tenant).get("/api/v1/enrollments").status_code == 401


def test_another_familys_marks_stay_theirs(g):
    ada, ben = g.students
    mark(g, ada, g.last_week, "excused")
    guardian = ben.family.guardians.get()
    _, token = api_token_issue(user=guardian.user, name="tests")
    body = client_for(connection.tenant, token=token).get("/api/v1/enrollments").json()
    by_student = {e["student"]["first_name"]: e["past_meetings"] for e in body}
    assert "Ada" not in by_student
    assert by_student["Ben"] == []  # started today, nothing marked yet
    assert by_student["Cy"] == [
        {"date": (g.today - timedelta(days=d)).isoformat(), "attendance": ""} for d in (21, 14, 7)
    ]


def test_the_schedule_page_shows_the_term_so_far(g):
    ada, _ben = g.students
    mark(g, ada, g.last_week, "excused")
    mark(g, ada, g.today - timedelta(days=14), "late")
    web = signed_in(connection.tenant, ada.family.guardians.get().email, PASSWORD)
    page = web.get("/schedule/").content.decode()
    assert "This term so far" in page and "Ada · Tumble Tots" in page
    assert "3 classes so far" in page and "0 attended, 1 late, 1 excused, 0 missed" in page
    assert "not marked" in page and "attended (late)" in page and "excused" in page
