"""Console front desk: enroll from the family's page with cash, an override only with a reason
and shown on the enrollment; drop and transfer from the page; the waitlists, an offer by hand
and a new order; refusals show the page again and change nothing; roles."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.billing.models import LedgerEntry, StaffPosting
from portal.enrollment import services
from portal.enrollment.models import Enrollment, WaitlistEntry
from portal.staff.services import staff_role_set
from tests.factories import PASSWORD
from tests.helpers import host_of
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db


def signed_in(tenant, email: str, role: str) -> Client:
    with tenant_context(tenant):
        user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
        staff_role_set(user=user, role=role)
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


def text(response) -> str:
    return response.content.decode()


def test_front_desk_enrolls_by_phone_with_cash_and_overrides_with_a_reason(in_tenant_a):
    desk = signed_in(in_tenant_a, "page-desk@alpha.test", "front_desk")
    offering = make_offering(name="Tumble Tots", tuition=9000, capacity=1, max_age=6)
    family, kid = make_family("page@alpha.test", first_name="Noa")  # born 2016: too old
    page = text(desk.get(f"/console/families/{family.pk}/"))
    assert "Enroll at the desk" in page and "Tumble Tots" in page
    url = f"/console/families/{family.pk}/enroll"
    form = {"student_id": kid.pk, "offering_id": offering.pk, "payment": "cash"}
    refused = desk.post(url, form)
    assert refused.status_code == 409 and "override" in text(refused)
    assert not Enrollment.objects.exists() and not LedgerEntry.objects.exists()
    no_reason = desk.post(url, {**form, "override": "1", "override_reason": " "})
    assert no_reason.status_code == 409
    done = desk.post(url, {**form, "override": "1", "override_reason": "Sister in class"})
    assert done.status_code == 302, text(done)
    enrollment = Enrollment.objects.get(student=kid)
    assert enrollment.status == "active" and enrollment.override_rules == ["too_old"]
    assert StaffPosting.objects.get(family=family).method == "cash"
    after = text(desk.get(f"/console/families/{family.pk}/"))
    assert "90.00 USD paid in cash" in after
    assert "Override (too_old) by page-desk@alpha.test" in after and "Sister in class" in after
    bad = desk.post(url, {**form, "student_id": "abc"})
    assert bad.status_code == 400
    assert Enrollment.objects.count() == 1


def test_drop_transfer_and_waitlist_pages(in_tenant_a):
    desk = signed_in(in_tenant_a, "page-desk2@alpha.test", "front_desk")
    offering = make_offering(name="Ballet A", capacity=1)
    target = make_offering(name="Ballet B", capacity=3, weekdays=[3])
    family, kid = make_family("drop-page@alpha.test", first_name="Ivy")
    desk.post(
        f"/console/families/{family.pk}/enroll",
        {"student_id": kid.pk, "offering_id": offering.pk, "payment": "owed"},
    )
    enrollment = Enrollment.objects.get(student=kid)
    waiting = []
    for n in range(2):
        f, k = make_family(f"page-w{n}@alpha.test", first_name=f"Wait{n}")
        waiting.append(services.waitlist_join(family=f, student_id=k.pk, offering_id=offering.pk))
    lists = text(desk.get("/console/waitlists/"))
    assert "Ballet A" in lists
    page = text(desk.get(f"/console/waitlists/{offering.pk}/"))
    assert "Wait0" in page and "Wait1" in page
    moved = desk.post(f"/console/waitlists/entries/{waiting[1].pk}/move", {"position": "1"})
    assert moved.status_code == 302
    assert WaitlistEntry.objects.get(pk=waiting[1].pk).priority == 10
    full = desk.post(f"/console/waitlists/entries/{waiting[0].pk}/offer", {})
    assert full.status_code == 409 and "full" in text(full)
    assert WaitlistEntry.objects.get(pk=waiting[0].pk).status == "waiting"
    no_reason = desk.post(f"/console/enrollments/{enrollment.pk}/transfer", {"offering_id": "x"})
    assert no_reason.status_code == 400
    moved = desk.post(f"/console/enrollments/{enrollment.pk}/transfer", {"offering_id": target.pk})
    assert moved.status_code == 302
    new = Enrollment.objects.get(student=kid, offering=target)
    assert WaitlistEntry.objects.get(pk=waiting[1].pk).status == "offered"
    refused = desk.post(f"/console/enrollments/{new.pk}/drop", {"reason": ""})
    assert refused.status_code == 400
    dropped = desk.post(f"/console/enrollments/{new.pk}/drop", {"reason": "Schedule"})
    assert dropped.status_code == 302
    assert Enrollment.objects.get(pk=new.pk).status == "dropped"
    stale = desk.post(f"/console/enrollments/{new.pk}/drop", {"reason": "Again"})
    assert stale.status_code == 409
    assert desk.post("/console/enrollments/999999/drop", {"reason": "x"}).status_code == 404
    assert desk.get("/console/waitlists/999999/").status_code == 404


def test_a_coach_cannot_enroll_or_see_waitlists(in_tenant_a):
    coach = signed_in(in_tenant_a, "page-coach@alpha.test", "coach")
    offering = make_offering(name="Gym")
    family, kid = make_family("coach-page@alpha.test")
    response = coach.post(
        f"/console/families/{family.pk}/enroll", {"student_id": kid.pk, "offering_id": offering.pk}
    )
    assert response.status_code == 403
    assert coach.get("/console/waitlists/").status_code == 403
    assert not Enrollment.objects.exists()
