"""The staff console at /console/: staff sign-in (families refused), navigation by role,
the dashboard (today's classes in the business's day, counts, this month for those who see
reports), pending enrollments approved and denied from the page, bad input, and another
business's session counting for nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.catalog.models import StaffProfile
from portal.enrollment.models import Enrollment
from portal.staff.services import staff_role_set
from tests.factories import PASSWORD, GuardianFactory
from tests.helpers import host_of, make_actor
from tests.portal.enrollment_helpers import enroll, make_family, make_offering

pytestmark = pytest.mark.django_db


def staff_member(tenant, email: str, role: str) -> User:
    with tenant_context(tenant):
        user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
        staff_role_set(user=user, role=role)
    connection.set_tenant(tenant)
    return user


def signed_in(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


def page(response) -> str:
    return response.content.decode()


def test_staff_sign_in_and_families_are_refused(in_tenant_a):
    staff_member(in_tenant_a, "desk@alpha.test", "front_desk")
    GuardianFactory(email="parent@alpha.test")
    client = Client(HTTP_HOST=host_of(in_tenant_a))
    anonymous = client.get("/console/enrollments/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/console/login/?next=%2Fconsole%2Fenrollments%2F"
    login = client.get("/console/login/")
    assert login.status_code == 200 and "Staff sign-in" in page(login)
    assert in_tenant_a.name in page(login)
    wrong = client.post("/console/login/", {"email": "desk@alpha.test", "password": "nope"})
    assert wrong.status_code == 401 and "not correct" in page(wrong)
    family = client.post("/console/login/", {"email": "parent@alpha.test", "password": PASSWORD})
    assert family.status_code == 403
    assert "not a staff account" in page(family)
    ok = client.post(
        "/console/login/",
        {"email": "desk@alpha.test", "password": PASSWORD, "next": "/console/enrollments/"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/console/enrollments/"
    # Only console addresses are followed after sign-in.
    client.post("/console/logout/")
    away = client.post(
        "/console/login/",
        {"email": "desk@alpha.test", "password": PASSWORD, "next": "https://evil.test/"},
    )
    assert away["Location"] == "/console/"
    assert client.get("/console/logout/").status_code == 405


def test_the_navigation_follows_the_role(in_tenant_a):
    coach = staff_member(in_tenant_a, "coach@alpha.test", "coach")
    desk = staff_member(in_tenant_a, "desk@alpha.test", "front_desk")
    coach_page = page(signed_in(in_tenant_a, coach).get("/console/"))
    assert 'href="/console/enrollments/"' not in coach_page
    assert "Waiting for you" not in coach_page and "This month" not in coach_page
    desk_page = page(signed_in(in_tenant_a, desk).get("/console/"))
    assert 'href="/console/enrollments/"' in desk_page
    assert "Waiting for you" in desk_page and "This month" not in desk_page
    owner = User.objects.get(email=in_tenant_a.owner_email)
    owner_page = page(signed_in(in_tenant_a, owner).get("/console/"))
    assert "This month" in owner_page and "Revenue" in owner_page
    # A coach reaching the enrollments page gets the role page, not the list.
    refused = signed_in(in_tenant_a, coach).get("/console/enrollments/")
    assert refused.status_code == 403 and "Not for your role" in page(refused)
    # Staff with no role see nothing of the console.
    bare = make_actor(in_tenant_a, email="bare@alpha.test", staff=True).user
    assert signed_in(in_tenant_a, bare).get("/console/").status_code == 403


def test_the_dashboard_lists_todays_classes_and_a_coach_only_their_own(in_tenant_a):
    today = timezone.localdate()
    mine = make_offering(name="Coach's Tumblers", start_date=today - timedelta(days=7),
                         weekdays=[today.weekday()])  # fmt: skip
    make_offering(name="Someone Else's Class", start_date=today - timedelta(days=7),
                  weekdays=[today.weekday()])  # fmt: skip
    make_offering(name="Tomorrow Only", start_date=today - timedelta(days=7),
                  weekdays=[(today.weekday() + 1) % 7])  # fmt: skip
    coach = staff_member(in_tenant_a, "coach@alpha.test", "coach")
    profile = StaffProfile.objects.create(display_name="Coach Kim", user=coach)
    mine.instructors.add(profile)
    owner = User.objects.get(email=in_tenant_a.owner_email)
    owner_page = page(signed_in(in_tenant_a, owner).get("/console/"))
    assert "Coach&#x27;s Tumblers" in owner_page and "Someone Else&#x27;s Class" in owner_page
    assert "Tomorrow Only" not in owner_page
    coach_page = page(signed_in(in_tenant_a, coach).get("/console/"))
    assert "Coach&#x27;s Tumblers" in coach_page
    assert "Someone Else&#x27;s Class" not in coach_page


@pytest.fixture
def pending(in_tenant_a, django_capture_on_commit_callbacks):
    offering = make_offering(capacity=2, tuition=10000, registration_mode="request", name="Tots")
    family, kid = make_family("wait@alpha.test", first_name="Ava")
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enroll(family, kid, offering)
    mail.outbox.clear()
    return enrollment


def test_front_desk_approves_and_denies_from_the_console(
    pending, in_tenant_a, django_capture_on_commit_callbacks
):
    desk = staff_member(in_tenant_a, "desk@alpha.test", "front_desk")
    client = signed_in(in_tenant_a, desk)
    listing = client.get("/console/enrollments/")
    assert listing.status_code == 200 and "Ava" in page(listing) and "Tots" in page(listing)
    dashboard = page(client.get("/console/"))
    assert '<span class="c-tile__n">1</span> enrollments to approve' in dashboard
    bad = client.post(f"/console/enrollments/{pending.pk}/decide", {"decision": "maybe"})
    assert bad.status_code == 400 and "Choose approve or deny." in page(bad)
    assert Enrollment.objects.get(pk=pending.pk).status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            f"/console/enrollments/{pending.pk}/decide",
            {"decision": "deny", "settle_as": "credit", "note": "Full for this age"},
        )
    assert done.status_code == 302
    assert Enrollment.objects.get(pk=pending.pk).status == "denied"
    assert any("denied" in m.subject for m in mail.outbox)
    stale = client.post(f"/console/enrollments/{pending.pk}/decide", {"decision": "approve"})
    assert stale.status_code == 409 and "pending approval can be decided" in page(stale)
    assert Enrollment.objects.get(pk=pending.pk).status == "denied"
    missing = client.post("/console/enrollments/999999/decide", {"decision": "approve"})
    assert missing.status_code == 404


def test_another_businesss_session_opens_nothing(pending, in_tenant_a, tenant_b):
    other = staff_member(tenant_b, "owner2@beta.test", "owner")
    client = signed_in(tenant_b, other)
    client.defaults["HTTP_HOST"] = host_of(in_tenant_a)
    for path in ("/console/", "/console/enrollments/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    response = client.post(f"/console/enrollments/{pending.pk}/decide", {"decision": "approve"})
    assert response.status_code in (302, 403)
    connection.set_tenant(in_tenant_a)
    assert Enrollment.objects.get(pk=pending.pk).status == "pending"


def test_rosters_a_coach_sees_own_classes_and_medical_reads_are_audited(in_tenant_a):
    from portal.accounts.models import Student
    from portal.privacy.models import AuditEntry

    today = timezone.localdate()
    mine = make_offering(name="Coach's Tumblers", start_date=today - timedelta(days=7),
                         weekdays=[today.weekday()])  # fmt: skip
    other = make_offering(name="Other Class", start_date=today - timedelta(days=7),
                          weekdays=[today.weekday()])  # fmt: skip
    family, kid = make_family("roster@alpha.test", first_name="Zoe")
    Student.objects.filter(pk=kid.pk).update(medical_notes="Peanut allergy")
    Enrollment.objects.create(family=family, student=kid, offering=mine, status="active",
                              start_date=today - timedelta(days=7))  # fmt: skip
    coach = staff_member(in_tenant_a, "coach@alpha.test", "coach")
    mine.instructors.add(StaffProfile.objects.create(display_name="Coach Kim", user=coach))
    desk = staff_member(in_tenant_a, "desk@alpha.test", "front_desk")
    # The coach (who holds view_medical) sees the notes; each read is audited.
    coach_client = signed_in(in_tenant_a, coach)
    response = coach_client.get(f"/console/rosters/{mine.pk}/")
    assert response.status_code == 200
    assert "Zoe" in page(response) and "Peanut allergy" in page(response)
    (read,) = AuditEntry.objects.filter(action="read_medical")
    assert read.actor_email == "coach@alpha.test" and read.object_id == str(kid.pk)
    assert read.object_type == "portal_accounts.student"
    # Another coach's class is not found for this coach.
    assert coach_client.get(f"/console/rosters/{other.pk}/").status_code == 404
    # The front desk sees every roster, without medical notes or even a flag, and no read.
    response = signed_in(in_tenant_a, desk).get(f"/console/rosters/{mine.pk}/")
    assert response.status_code == 200 and "Zoe" in page(response)
    assert "Peanut" not in page(response) and "Medical" not in page(response)
    assert AuditEntry.objects.filter(action="read_medical").count() == 1
    # Another business's class id finds nothing.
    assert signed_in(in_tenant_a, desk).get("/console/rosters/999999/").status_code == 404
