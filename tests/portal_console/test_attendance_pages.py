"""Rosters and attendance in the console: a coach opens and marks only their own classes (the
script's JSON answers and the plain form's redirect), an excused absence issues a makeup token
the page names, stale and bad input refused with nothing changed, mark-all-present, the CSV
(medical columns only with the permission, each read audited), the dashboard's taken / not
taken, and each role's reach."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.attendance.models import Attendance
from portal.privacy.models import AuditEntry
from portal.requests.models import MakeupToken
from tests.helpers import host_of, make_actor
from tests.portal.attendance_helpers import gym

pytestmark = pytest.mark.django_db
FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


def signed_in(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


@pytest.fixture
def g(in_tenant_a):
    built = gym(in_tenant_a)
    connection.set_tenant(in_tenant_a)
    return built


def url(g, day=None, tail: str = "") -> str:
    return f"/console/rosters/{g.offering.pk}/{(day or g.today).isoformat()}/{tail}"


def test_a_coach_takes_attendance_in_a_few_taps(g, in_tenant_a):
    ada, ben = g.students
    coach = signed_in(in_tenant_a, g.coach.user)
    page = coach.get(url(g))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Ada Lovelace" in text and "Ben Okafor" in text
    assert "First class" in text and "New" in text and "Peanut allergy" in text
    assert "Grandma Byron" in text and "0 of 2 marked" in text
    assert f'nonce="{page.wsgi_request.csp_nonce}"' in text
    # The script's request: JSON back, the mark taken.
    done = coach.post(
        url(g, tail="mark"), {"student_id": ada.pk, "status": "present", "was": ""}, **FETCH
    )
    assert done.status_code == 200 and done.json()["status"] == "present"
    # Without the script: the plain form redirects back to the student's row.
    plain = coach.post(url(g, tail="mark"), {"student_id": ben.pk, "status": "excused", "was": ""})
    assert plain.status_code == 302 and plain["Location"].endswith(f"#student-{ben.pk}")
    token = MakeupToken.objects.get(student=ben)
    follow = coach.get(plain["Location"].split("#")[0]).content.decode()
    assert "A makeup token is issued to the family" in follow
    assert f"Makeup token until {token.expires_on.isoformat()}" in follow
    assert "2 of 2 marked" in follow
    # Back to present: the unused token is withdrawn.
    back = coach.post(
        url(g, tail="mark"), {"student_id": ben.pk, "status": "present", "was": "excused"}, **FETCH
    )
    assert "withdrawn" in back.json()["note"] and back.json()["makeup_token_id"] is None
    assert not MakeupToken.objects.filter(student=ben).exists()
    # The dashboard says attendance is taken.
    dashboard = coach.get("/console/").content.decode()
    assert "Taken" in dashboard and url(g) in dashboard


def test_refusals_change_nothing(g, in_tenant_a):
    ada, _ben = g.students
    coach = signed_in(in_tenant_a, g.coach.user)
    coach.post(url(g, tail="mark"), {"student_id": ada.pk, "status": "late", "was": ""})
    before = list(Attendance.objects.values_list("pk", "status", "marked_at"))

    def refused(status: int, code: str, path: str, data: dict, client=coach):
        response = client.post(path, data, **FETCH)
        assert response.status_code == status, response.content[:300]
        if code:
            assert response.json()["code"] == code
        assert list(Attendance.objects.values_list("pk", "status", "marked_at")) == before

    # A stale tablet (it saw no mark), a bad status, no student, a student of another class.
    refused(
        409,
        "attendance_changed",
        url(g, tail="mark"),
        {"student_id": ada.pk, "status": "absent", "was": ""},
    )
    refused(400, "invalid_input", url(g, tail="mark"), {"student_id": ada.pk, "status": "zzz"})
    refused(400, "invalid_input", url(g, tail="mark"), {"student_id": "x", "status": "late"})
    cy = g.other.enrollments.get().student
    refused(
        404, "student_not_on_roster", url(g, tail="mark"), {"student_id": cy.pk, "status": "late"}
    )
    # A future meeting, a day the class does not meet (404 for the page, 400 for the mark).
    refused(
        409,
        "attendance_too_early",
        url(g, g.today + timedelta(days=7), "mark"),
        {"student_id": ada.pk, "status": "late"},
    )
    refused(
        400,
        "not_a_meeting",
        url(g, g.today + timedelta(days=1), "mark"),
        {"student_id": ada.pk, "status": "late"},
    )
    assert coach.get(url(g, g.today + timedelta(days=1))).status_code == 404
    assert coach.get(f"/console/rosters/{g.offering.pk}/2026-02-30/").status_code == 404
    # Another coach's class is not found for this coach, page and marks alike.
    other = f"/console/rosters/{g.other.pk}/{g.today.isoformat()}/"
    assert coach.get(other).status_code == 404
    assert coach.get(f"/console/rosters/{g.other.pk}/").status_code == 404
    refused(404, "", other + "mark", {"student_id": cy.pk, "status": "present"})
    refused(404, "", other + "all-present", {})
    assert coach.get(other + "csv").status_code == 404
    # Without the script a refusal shows the page again with the message.
    page = coach.post(url(g, tail="mark"), {"student_id": ada.pk, "status": "absent", "was": ""})
    assert page.status_code == 409 and "Someone else changed" in page.content.decode()
    # A family's login and anonymous visitors reach nothing.
    assert (
        Client(HTTP_HOST=host_of(in_tenant_a)).post(url(g, tail="all-present")).status_code == 302
    )
    assert list(Attendance.objects.values_list("pk", "status", "marked_at")) == before


def test_the_front_desk_marks_all_present_and_downloads_the_csv(g, in_tenant_a):
    desk = make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk").user
    client = signed_in(in_tenant_a, desk)
    page = client.get(url(g)).content.decode()
    assert "Peanut" not in page and "Grandma" not in page and "Medical" not in page
    done = client.post(url(g, tail="all-present"))
    assert done.status_code == 302
    assert set(Attendance.objects.values_list("status", flat=True)) == {"present"}
    before = AuditEntry.objects.filter(action="read_medical").count()
    response = client.get(url(g, tail="csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Student", "Age", "Flags", "Attendance", "Family", "Guardian", "Phone"]
    assert rows[1][0] == "Ada Lovelace" and rows[1][3] == "Present"
    assert AuditEntry.objects.filter(action="read_medical").count() == before
    # The owner (medical permission) gets the medical columns; each read is audited.
    owner = User.objects.get(email=in_tenant_a.owner_email)
    rows = list(
        csv.reader(
            io.StringIO(signed_in(in_tenant_a, owner).get(url(g, tail="csv")).content.decode())
        )
    )
    assert rows[0][-2:] == ["Allergies and medical notes", "Emergency contacts"]
    assert rows[1][-2] == "Peanut allergy" and "Grandma Byron" in rows[1][-1]
    assert AuditEntry.objects.filter(action="read_medical").count() == before + 2
    # The class page lists its meetings with attendance taken today.
    offering_page = client.get(f"/console/rosters/{g.offering.pk}/").content.decode()
    assert "attendance taken" in offering_page and "not taken" in offering_page


def test_a_coach_without_the_class_and_another_business(g, in_tenant_a, tenant_b):
    other_coach = signed_in(in_tenant_a, g.other_coach.user)
    assert other_coach.get(url(g)).status_code == 404
    staff_b = make_actor(tenant_b, email="owner2@beta.test", role="owner").user
    client_b = Client(HTTP_HOST=host_of(tenant_b))
    with tenant_context(tenant_b):
        client_b.force_login(staff_b)
    connection.set_tenant(in_tenant_a)
    response = client_b.post(
        url(g, tail="mark"), {"student_id": g.students[0].pk, "status": "present"}, **FETCH
    )
    assert response.status_code == 404
    assert not Attendance.objects.exists()


def test_the_family_schedule_shows_the_marks(g, in_tenant_a):
    from tests.factories import PASSWORD
    from tests.helpers import signed_in as family_signed_in

    ada, _ben = g.students
    coach = signed_in(in_tenant_a, g.coach.user)
    coach.post(url(g, g.last_week, "mark"), {"student_id": ada.pk, "status": "excused"})
    coach.post(url(g, tail="mark"), {"student_id": ada.pk, "status": "present"})
    family = family_signed_in(in_tenant_a, ada.family.guardians.get().email, PASSWORD)
    page = family.get("/schedule/").content.decode()
    assert "This term so far" in page and "excused" in page and "attended" in page
    requests_page = family.get("/requests/").content.decode()
    assert "Ada: " in requests_page and "valid until" in requests_page
