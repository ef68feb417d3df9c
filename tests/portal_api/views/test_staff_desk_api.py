"""Staff API for the front desk: enroll with cash (amounts in the currency), an override only
with a reason, drop and transfer, a class's waitlist, an offer by hand and a new order; bad and
stale input refused with stable codes and nothing changed; roles and another business."""

from __future__ import annotations

import pytest
from django.db import connection

from portal.enrollment.models import Enrollment, WaitlistEntry
from portal.requests.models import Request
from tests.helpers import assert_cross_tenant_denied, assert_error, make_actor
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1/staff"


@pytest.fixture
def staff(tenant_a):
    return {
        role: make_actor(tenant_a, email=f"desk-{role}@alpha.test", role=role)
        for role in ("owner", "manager", "front_desk", "coach")
    }


@pytest.fixture
def world(tenant_a):
    connection.set_tenant(tenant_a)
    offering = make_offering(name="Tumble", capacity=1, tuition=12000, registration_fee=0)
    other = make_offering(name="Tumble Sat", capacity=5, tuition=12000, weekdays=[5])
    family, kid = make_family("api-desk@alpha.test", first_name="Mia")
    connection.set_schema_to_public()
    return {"offering": offering, "other": other, "family": family, "kid": kid}


def test_front_desk_enrolls_with_cash_then_drops(staff, world, tenant_a):
    desk = staff["front_desk"].client()
    family, kid, offering = world["family"], world["kid"], world["offering"]
    url = f"{API}/families/{family.pk}/enrollments"
    body = {"student_id": kid.pk, "offering_id": offering.pk, "payment": "cash", "reference": "R1"}
    made = desk.post(url, body, format="json")
    assert made.status_code == 201, made.content
    data = made.json()
    assert (data["status"], data["amount"], data["owed"], data["paid_with"]) == (
        "active", "120.00", "0.00", "cash",
    )  # fmt: skip
    assert data["override_rules"] == [] and data["card_error"] == ""
    again = desk.post(url, body, format="json")
    assert_error(again, 409, "already_enrolled")
    # The class (capacity 1) is now full for another child of the family.
    connection.set_tenant(tenant_a)
    _, sibling = make_family("api-sibling@alpha.test")
    sibling.family = family
    sibling.save(update_fields=["family"])
    connection.set_schema_to_public()
    full = desk.post(url, {**body, "student_id": sibling.pk}, format="json")
    assert_error(full, 409, "offering_full")
    assert "override_reason" in full.json()["fields"]
    forced = desk.post(
        url, {**body, "student_id": sibling.pk, "override_reason": "Twins together"}, format="json"
    )
    assert forced.status_code == 201 and forced.json()["override_rules"] == ["offering_full"]
    for bad, code in (
        ({**body, "payment": "gold"}, "invalid_input"),
        ({**body, "student_id": "x"}, "invalid_input"),
        ({"offering_id": offering.pk}, "invalid_input"),
    ):
        assert_error(desk.post(url, bad, format="json"), 400, code)
    assert_error(desk.post(f"{API}/families/999999/enrollments", body, format="json"), 404,
                 "family_not_found")  # fmt: skip
    drop_url = f"{API}/enrollments/{data['id']}/drop"
    assert_error(desk.post(drop_url, {"reason": ""}, format="json"), 400, "invalid_input")
    dropped = desk.post(drop_url, {"reason": "Moving", "credit_unused": True}, format="json")
    assert dropped.status_code == 200, dropped.content
    assert dropped.json()["type"] == "drop" and dropped.json()["status"] == "approved"
    assert_error(desk.post(drop_url, {"reason": "Again"}, format="json"), 409,
                 "enrollment_not_active")  # fmt: skip
    connection.set_tenant(tenant_a)
    assert Enrollment.objects.get(pk=data["id"]).status == "dropped"
    assert Request.objects.filter(type="drop").count() == 1


def test_transfer_and_waitlist_by_hand(staff, world, tenant_a):
    manager = staff["manager"].client()
    family, kid, offering, other = world["family"], world["kid"], world["offering"], world["other"]
    made = manager.post(
        f"{API}/families/{family.pk}/enrollments",
        {"student_id": kid.pk, "offering_id": offering.pk},
        format="json",
    )
    assert made.status_code == 201 and made.json()["paid_with"] == "owed"
    assert made.json()["owed"] == "120.00"
    enrollment_id = made.json()["id"]
    connection.set_tenant(tenant_a)
    from portal.enrollment import services

    waiting = []
    for n in range(2):
        f, k = make_family(f"api-w{n}@alpha.test")
        waiting.append(services.waitlist_join(family=f, student_id=k.pk, offering_id=offering.pk))
    connection.set_schema_to_public()
    listed = manager.get(f"{API}/offerings/{offering.pk}/waitlist")
    assert [e["id"] for e in listed.json()] == [w.pk for w in waiting]
    assert [e["position"] for e in listed.json()] == [1, 2]
    moved = manager.post(f"{API}/waitlist/{waiting[1].pk}/move", {"position": 1}, format="json")
    assert [e["id"] for e in moved.json()] == [waiting[1].pk, waiting[0].pk]
    assert_error(
        manager.post(f"{API}/waitlist/{waiting[1].pk}/move", {"position": 0}, format="json"),
        400,
        "invalid_input",
    )
    assert_error(manager.post(f"{API}/waitlist/{waiting[1].pk}/offer", {}, format="json"), 409,
                 "offering_full")  # fmt: skip
    # The transfer frees the seat: the first in line (now waiting[1]) gets it automatically.
    transferred = manager.post(
        f"{API}/enrollments/{enrollment_id}/transfer", {"offering_id": other.pk}, format="json"
    )
    assert transferred.status_code == 200, transferred.content
    assert transferred.json()["type"] == "transfer"
    connection.set_tenant(tenant_a)
    assert WaitlistEntry.objects.get(pk=waiting[1].pk).status == "offered"
    assert Enrollment.objects.get(student=kid, offering=other).status == "active"
    connection.set_schema_to_public()
    offered = manager.post(
        f"{API}/waitlist/{waiting[0].pk}/offer", {"override_reason": "Extra mat"}, format="json"
    )
    assert offered.status_code == 200 and offered.json()["status"] == "offered"
    assert offered.json()["offer_expires_at"]
    assert_error(
        manager.post(f"{API}/waitlist/{waiting[0].pk}/offer", {"override_reason": "x"},
                     format="json"),
        409,
        "waitlist_not_waiting",
    )  # fmt: skip
    assert_error(manager.get(f"{API}/offerings/999999/waitlist"), 404, "offering_not_found")


def test_coach_and_family_are_refused_and_another_business_sees_nothing(
    staff, world, tenant_a, tenant_b
):
    family, kid, offering = world["family"], world["kid"], world["offering"]
    body = {"student_id": kid.pk, "offering_id": offering.pk, "payment": "cash"}
    url = f"{API}/families/{family.pk}/enrollments"
    assert_error(staff["coach"].client().post(url, body, format="json"), 403,
                 "staff_permission_required")  # fmt: skip
    connection.set_tenant(tenant_a)
    from kernel.users.services import api_token_issue
    from tests.factories import GuardianFactory

    parent = GuardianFactory(email="api-parent@alpha.test")
    _, token = api_token_issue(user=parent.user, name="t")
    connection.set_schema_to_public()
    from tests.helpers import client_for

    assert client_for(tenant_a, token=token).post(url, body, format="json").status_code == 403
    b_owner = make_actor(tenant_b, email="desk-owner@beta.test", role="owner")
    response = b_owner.client().post(url, body, format="json")
    assert response.status_code == 404
    assert_cross_tenant_denied(
        credentials_client=staff["owner"].client(),
        target=tenant_b,
        method="POST",
        path=url,
        data=body,
        forbidden_text=["Mia"],
    )
    connection.set_tenant(tenant_a)
    assert not Enrollment.objects.exists()
