"""The staff API for rosters and attendance: today's classes with attendance taken or not, a
class's meetings and one meeting's roster (medical fields only with the permission), marks
and everyone-present, the CSV; refusals with stable codes and nothing changed (another
tenant's meeting, another coach's class, a day the class does not meet, stale input)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from portal.attendance.models import Attendance
from portal.requests.models import MakeupToken
from tests.helpers import assert_error, make_actor
from tests.portal.attendance_helpers import gym

pytestmark = pytest.mark.django_db


@pytest.fixture
def g(in_tenant_a):
    built = gym(in_tenant_a)
    connection.set_tenant(in_tenant_a)
    return built


def base(g, day=None) -> str:
    return f"/api/v1/staff/rosters/{g.offering.pk}/meetings/{(day or g.today).isoformat()}"


def marks() -> list:
    return list(Attendance.objects.values_list("pk", "status", "marked_at"))


def test_a_coach_reads_and_marks_their_class(g):
    _ada, ben = g.students
    api = g.coach.client()
    today = api.get("/api/v1/staff/classes/today")
    assert today.status_code == 200
    assert [c["name"] for c in today.json()] == ["Tumble Tots"]  # not the other coach's
    assert today.json()[0]["attendance"] == {
        "date": g.today.isoformat(),
        "expected": 2,
        "marked": 0,
        "state": "not_taken",
    }
    meetings = api.get(f"/api/v1/staff/rosters/{g.offering.pk}").json()
    assert g.today.isoformat() in [m["date"] for m in meetings["meetings"]]
    roster = api.get(base(g)).json()
    assert [s["first_name"] for s in roster["students"]] == ["Ada", "Ben"]
    first = roster["students"][0]
    assert first["medical_notes"] == "Peanut allergy" and first["new"] is True
    assert first["emergency_contacts"][0]["name"] == "Grandma Byron"
    assert roster["students"][1]["first_class"] is True
    done = api.post(
        base(g) + "/attendance",
        {"student_id": ben.pk, "status": "excused", "was": ""},
        format="json",
    )
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["attendance"] == "excused" and body["makeup_token_issued"] is True
    token = MakeupToken.objects.get(pk=body["makeup_token_id"])
    assert token.student == ben and token.status == "available"
    again = api.post(
        base(g) + "/attendance", {"student_id": ben.pk, "status": "excused"}, format="json"
    )
    assert again.json()["changed"] is False and MakeupToken.objects.count() == 1
    everyone = api.post(base(g) + "/attendance/all-present")
    assert everyone.json() == {"marked": 1}
    assert dict(Attendance.objects.values_list("student__first_name", "status")) == {
        "Ada": "present",
        "Ben": "excused",
    }
    state = api.get("/api/v1/staff/classes/today").json()[0]["attendance"]["state"]
    assert state == "taken"
    csv = api.get(base(g) + "/csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "Peanut allergy" in csv.content.decode()


def test_the_front_desk_sees_no_medical_fields(g, in_tenant_a):
    desk = make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk")
    roster = desk.client().get(base(g)).json()
    assert roster["students"][0]["medical_notes"] is None
    assert roster["students"][0]["emergency_contacts"] is None
    assert "Peanut" not in desk.client().get(base(g) + "/csv").content.decode()


def test_refusals_change_nothing(g, in_tenant_a, tenant_b):
    ada, _ben = g.students
    api = g.coach.client()
    api.post(base(g) + "/attendance", {"student_id": ada.pk, "status": "late"}, format="json")
    before = marks()

    def refused(path, data, status, code, client=api):
        response = client.post(path, data, format="json")
        assert_error(response, status, code)
        assert marks() == before

    refused(
        base(g) + "/attendance",
        {"student_id": ada.pk, "status": "absent", "was": ""},
        409,
        "attendance_changed",
    )
    refused(base(g) + "/attendance", {"student_id": ada.pk, "status": "zzz"}, 400, "invalid_input")
    refused(base(g) + "/attendance", {"student_id": "x", "status": "late"}, 400, "invalid_input")
    refused(base(g) + "/attendance", {}, 400, "invalid_input")
    cy = g.other.enrollments.get().student
    refused(
        base(g) + "/attendance",
        {"student_id": cy.pk, "status": "late"},
        404,
        "student_not_on_roster",
    )
    # A meeting not of that class, a meeting to come.
    refused(
        base(g, g.today + timedelta(days=1)) + "/attendance",
        {"student_id": ada.pk, "status": "late"},
        400,
        "not_a_meeting",
    )
    refused(
        base(g, g.today + timedelta(days=7)) + "/attendance",
        {"student_id": ada.pk, "status": "late"},
        409,
        "attendance_too_early",
    )
    assert_error(api.get(base(g, g.today + timedelta(days=1))), 400, "not_a_meeting")
    assert api.get(f"/api/v1/staff/rosters/{g.offering.pk}/meetings/2026-02-30").status_code == 404
    # Another coach's class: not found for this coach.
    other = f"/api/v1/staff/rosters/{g.other.pk}/meetings/{g.today.isoformat()}"
    refused(
        other + "/attendance", {"student_id": cy.pk, "status": "present"}, 404, "offering_not_found"
    )
    refused(other + "/attendance/all-present", {}, 404, "offering_not_found")
    assert_error(api.get(other), 404, "offering_not_found")
    assert_error(api.get(f"/api/v1/staff/rosters/{g.other.pk}"), 404, "offering_not_found")
    # A family's token is refused; another business's staff find no such class.
    family = make_actor(in_tenant_a, email="fam@alpha.test")
    refused(
        base(g) + "/attendance",
        {"student_id": ada.pk, "status": "absent"},
        403,
        "permission_denied",
        client=family.client(),
    )
    owner_b = make_actor(tenant_b, email="owner2@beta.test", role="owner")
    connection.set_tenant(in_tenant_a)
    response = owner_b.client().post(
        base(g) + "/attendance", {"student_id": ada.pk, "status": "absent"}, format="json"
    )
    assert response.status_code == 404
    connection.set_tenant(in_tenant_a)
    assert marks() == before
    # A's coach's token means nothing on B's host.
    assert g.coach.client(tenant_b).get(base(g)).status_code == 401
