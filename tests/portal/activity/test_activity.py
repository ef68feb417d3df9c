"""The online activity inbox: family actions land as items from the services that did them
(enrollment, waitlist join and accept, request, policy, profile, failed autopay), an action
refused leaves none; staff mark items processed and back, audited; filters; the staff API and
the console page, with roles and another business."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from kernel.users.models import User
from portal.accounts.services import PolicyConsent, policies_accept, student_update
from portal.activity import selectors, services
from portal.activity.models import ActivityItem
from portal.enrollment import services as enrollment_services
from portal.privacy.models import AuditEntry
from portal.requests.services import drop_request
from portal.staff.services import staff_role_set
from tests.factories import PASSWORD, PolicyFactory
from tests.helpers import assert_error, host_of, make_actor, tenant_today
from tests.portal.enrollment_helpers import enroll, make_family, make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1/staff"


def kinds(family) -> list[str]:
    return list(
        ActivityItem.objects.filter(family=family).order_by("pk").values_list("kind", flat=True)
    )


def test_family_actions_land_in_the_inbox(in_tenant_a):
    offering = make_offering(name="Tumble", capacity=1)
    family, kid = make_family("inbox@alpha.test", first_name="Mia")
    guardian = family.guardians.first()
    enrollment = enroll(family, kid, offering)
    other_family, other_kid = make_family("inbox2@alpha.test", first_name="Ola")
    entry = enrollment_services.waitlist_join(
        family=other_family, student_id=other_kid.pk, offering_id=offering.pk
    )
    drop_request(
        family=family,
        enrollment_id=enrollment.pk,
        effective_date=tenant_today() + timedelta(days=30),
        reason="Moving",
    )
    student_update(guardian=guardian, student=kid, first_name="Mia-Rose")
    policy = PolicyFactory(title="Waiver")
    policies_accept(
        guardian=guardian,
        consents=[PolicyConsent(policy_id=policy.pk, version=policy.version, signature="Pat")],
    )
    assert kinds(family) == ["enrollment", "request", "profile_changed", "policy_accepted"]
    assert kinds(other_family) == ["waitlist_join"]
    item = ActivityItem.objects.get(kind="enrollment")
    assert item.summary == "Mia: Tumble (enrolled)" and item.object_id == str(enrollment.pk)
    assert item.processed_at is None
    request_item = ActivityItem.objects.get(kind="request")
    assert request_item.summary == "Mia: asked for drop"
    assert "Waiver" in ActivityItem.objects.get(kind="policy_accepted").summary
    assert str(entry.pk) == ActivityItem.objects.get(kind="waitlist_join").object_id
    # A refused action leaves no item.
    before = ActivityItem.objects.count()
    with pytest.raises(ApplicationError):
        enrollment_services.waitlist_join(
            family=other_family, student_id=other_kid.pk, offering_id=offering.pk
        )
    assert ActivityItem.objects.count() == before


def test_mark_processed_and_back_is_audited_and_filters_work(in_tenant_a):
    staff = User.objects.create_user(email="inbox-desk@alpha.test", password="x", is_staff=True)
    staff_role_set(user=staff, role="front_desk")
    family, _kid = make_family("mark@alpha.test")
    item = services.activity_record(
        kind="profile_changed", family_id=family.pk, summary="Phone changed"
    )
    other = services.activity_record(kind="payment", family_id=family.pk, summary="Paid")
    done = services.activity_mark(item_id=item.pk, processed=True, by=staff)
    assert done.processed_by_id == staff.pk and done.processed_at is not None
    again = services.activity_mark(item_id=item.pk, processed=True, by=staff)
    assert again.processed_at == done.processed_at  # marking it as it is writes nothing
    assert [i.pk for i in selectors.activity_list()] == [other.pk]
    assert [i.pk for i in selectors.activity_list(status="processed")] == [item.pk]
    assert [i.pk for i in selectors.activity_list(status="all", kind="payment")] == [other.pk]
    today = tenant_today().isoformat()
    assert len(selectors.activity_list(status="all", since=today, until=today)) == 2
    assert not selectors.activity_list(status="all", family_id=family.pk + 1000).exists()
    services.activity_mark(item_id=item.pk, processed=False, by=staff)
    trail = selectors.activity_trail(item)
    assert [(e.action, e.actor_email) for e in trail] == [
        ("activity_processed", "inbox-desk@alpha.test"),
        ("activity_unprocessed", "inbox-desk@alpha.test"),
    ]
    assert ActivityItem.objects.get(pk=item.pk).processed_by_id is None
    for bad in ({"status": "done"}, {"kind": "gossip"}, {"since": "2026-13-01"},
                {"since": "2026-02-02", "until": "2026-02-01"}):  # fmt: skip
        with pytest.raises(ApplicationError) as error:
            selectors.activity_list(**bad)
        assert error.value.code == "invalid_filter"
    with pytest.raises(ApplicationError) as error:
        services.activity_mark(item_id=999999, processed=True, by=staff)
    assert error.value.code == "activity_not_found"
    assert AuditEntry.objects.filter(action__startswith="activity_").count() == 2


def test_staff_api_and_console_page(tenant_a, tenant_b):
    desk = make_actor(tenant_a, email="inbox-api-desk@alpha.test", role="front_desk")
    coach = make_actor(tenant_a, email="inbox-api-coach@alpha.test", role="coach")
    with tenant_context(tenant_a):
        family, _ = make_family("api-inbox@alpha.test")
        item = services.activity_record(
            kind="autopay_failed", family_id=family.pk, summary="Autopay for May failed"
        )
    connection.set_schema_to_public()
    client = desk.client()
    listed = client.get(f"{API}/activity")
    assert listed.status_code == 200, listed.content
    (row,) = listed.json()["results"]
    assert (row["id"], row["kind"], row["processed_at"], row["trail"]) == (
        item.pk, "autopay_failed", None, [],
    )  # fmt: skip
    marked = client.post(f"{API}/activity/{item.pk}/mark", {"processed": True}, format="json")
    assert marked.status_code == 200 and marked.json()["processed_by"] == desk.user.email
    assert marked.json()["trail"][0]["action"] == "activity_processed"
    assert client.get(f"{API}/activity").json()["results"] == []
    assert_error(client.get(f"{API}/activity", {"status": "nope"}), 400, "invalid_filter")
    assert_error(client.get(f"{API}/activity", {"family": "x"}), 400, "invalid_filter")
    assert_error(
        client.post(f"{API}/activity/{item.pk}/mark", {"processed": "maybe"}, format="json"),
        400,
        "invalid_input",
    )
    assert_error(
        client.post(f"{API}/activity/999999/mark", {"processed": True}, format="json"),
        404,
        "activity_not_found",
    )
    assert_error(coach.client().get(f"{API}/activity"), 403, "staff_permission_required")
    b_owner = make_actor(tenant_b, email="inbox-owner@beta.test", role="owner")
    assert b_owner.client().get(f"{API}/activity").json()["results"] == []
    assert (
        b_owner.client()
        .post(f"{API}/activity/{item.pk}/mark", {"processed": False}, format="json")
        .status_code
        == 404
    )
    assert desk.client(tenant_b).get(f"{API}/activity").status_code in (401, 403)
    # The console page.
    with tenant_context(tenant_a):
        user = User.objects.get(email=desk.user.email)
        user.set_password(PASSWORD)
        user.save()
    web = Client(HTTP_HOST=host_of(tenant_a))
    with tenant_context(tenant_a):
        web.force_login(user)
    connection.set_tenant(tenant_a)
    page = web.get("/console/activity/", {"status": "processed"})
    text = page.content.decode()
    assert page.status_code == 200 and "Autopay for May failed" in text
    assert "Mark not processed" in text and "inbox-api-desk@alpha.test" in text
    back = web.post(
        f"/console/activity/{item.pk}/mark",
        {"processed": "0", "next": "/console/activity/?status=all"},
    )
    assert back.status_code == 302 and back["Location"] == "/console/activity/?status=all"
    assert ActivityItem.objects.get(pk=item.pk).processed_at is None
    bad = web.get("/console/activity/", {"kind": "gossip"})
    assert bad.status_code == 400 and "Unknown kind" in bad.content.decode()
    assert web.post(f"/console/activity/{item.pk}/mark", {"processed": "x"}).status_code == 400
    assert web.post("/console/activity/999999/mark", {"processed": "1"}).status_code == 404
