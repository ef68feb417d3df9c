"""Staff never leave stale seats from the admin: enrollments, holds and waitlist entries have
no delete there (neither the delete view nor "delete selected"); drop, cancel, release and
"take off the waitlist" actions call the services, which recount the offering under its lock.
A family or student whose holds would cascade away cannot be deleted either."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django_tenants.utils import tenant_context

from portal.config.services import portal_settings_update
from portal.enrollment import services
from portal.enrollment.models import Enrollment, Hold, WaitlistEntry
from tests.helpers import client_for, host_of, make_actor
from tests.portal.enrollment_helpers import enroll, make_family, make_offering

pytestmark = pytest.mark.django_db
ADMIN = "/admin/portal_enrollment"
SEATS = 12


def live_rows(offering) -> int:
    """Seats taken, counted from the rows (not from the counter under test)."""
    return (
        Hold.objects.filter(offering=offering, status__in=Hold.SEAT_TAKING).count()
        + Enrollment.objects.filter(
            offering=offering, status__in=["reserved", "pending", "active"]
        ).count()
    )


def openings(offering) -> int:
    offering.refresh_from_db()
    assert offering.seats_taken == live_rows(offering)
    return offering.openings


def admin_client(tenant, actor):
    client = client_for(tenant)
    with tenant_context(tenant):
        client.force_login(actor.user)
    connection.set_tenant(tenant)
    return client


def act(client, model: str, action: str, *rows):
    response = client.post(
        f"{ADMIN}/{model}/", {"action": action, "_selected_action": [r.pk for r in rows]}
    )
    connection.set_tenant(client.tenant)
    return response


@pytest.fixture
def owner(in_tenant_a):
    actor = make_actor(in_tenant_a, email="boss@alpha.test", staff=True, superuser=True)
    client = admin_client(in_tenant_a, actor)
    client.tenant = in_tenant_a
    return client


@pytest.fixture
def full_class(in_tenant_a):
    """12 seats: 8 active enrollments, 1 pending approval, 3 cart holds; 2 families waiting."""
    portal_settings_update(pending_requests_count_against_openings=True)
    offering = make_offering(capacity=SEATS, tuition=0, name="Level 2 Gym")
    enrolled = [enroll(*make_family(f"e{i}@alpha.test"), offering) for i in range(8)]
    offering.registration_mode = "request"
    offering.save()
    pending = enroll(*make_family("pending@alpha.test"), offering)
    assert pending.status == "pending"
    offering.registration_mode = ""
    offering.save()
    holds = []
    for i in range(3):
        family, kid = make_family(f"h{i}@alpha.test")
        holds.append(services.cart_add(family=family, student_id=kid.pk, offering_id=offering.pk))
    waiting = []
    for i in range(2):
        family, kid = make_family(f"w{i}@alpha.test")
        waiting.append(
            services.waitlist_join(family=family, student_id=kid.pk, offering_id=offering.pk)
        )
    assert openings(offering) == 0
    return offering, enrolled, pending, holds, waiting


def test_twelve_seats_drop_cancel_release_and_withdraw_offers_keep_openings_exact(
    owner, full_class
):
    offering, enrolled, pending, holds, waiting = full_class
    # A dropped enrollment frees its seat today: the first waiting family is offered it.
    assert act(owner, "enrollment", "drop_enrollments", enrolled[0]).status_code == 302
    enrolled[0].refresh_from_db()
    assert enrolled[0].status == "dropped"
    waiting[0].refresh_from_db()
    assert waiting[0].status == "offered" and waiting[0].hold.status == "offer"
    assert openings(offering) == 0
    # Withdrawing that offer passes the seat to the next family, then frees it.
    act(owner, "waitlistentry", "remove_from_waitlist", waiting[0])
    waiting[1].refresh_from_db()
    assert waiting[1].status == "offered"
    assert openings(offering) == 0
    act(owner, "waitlistentry", "remove_from_waitlist", waiting[1])
    assert openings(offering) == 1
    offering.refresh_from_db()
    assert offering.waitlist_count == 0
    # Holds released, the pending request cancelled, two more dropped.
    act(owner, "hold", "release_holds", *holds)
    assert openings(offering) == 4
    act(owner, "enrollment", "cancel_enrollments", pending)
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    assert openings(offering) == 5
    act(owner, "enrollment", "drop_enrollments", *enrolled[1:3])
    assert openings(offering) == 7
    assert offering.seats_taken == SEATS - 7
    body = client_for(owner.tenant).get(f"/api/v1/offerings/{offering.pk}").json()
    assert body["availability"]["openings"] == 7


def test_there_is_no_delete_for_seat_taking_rows(owner, full_class):
    offering, enrolled, _pending, holds, waiting = full_class
    for model, row in (
        ("enrollment", enrolled[0]),
        ("hold", holds[0]),
        ("waitlistentry", waiting[0]),
    ):
        assert owner.get(f"{ADMIN}/{model}/{row.pk}/delete/").status_code == 403
        assert owner.post(f"{ADMIN}/{model}/{row.pk}/delete/", {"post": "yes"}).status_code == 403
        connection.set_tenant(owner.tenant)
        page = owner.get(f"{ADMIN}/{model}/").content.decode()
        assert 'value="delete_selected"' not in page
        act(owner, model, "delete_selected", row)
    assert Enrollment.objects.filter(pk=enrolled[0].pk, status="active").exists()
    assert Hold.objects.filter(pk=holds[0].pk, status="active").exists()
    assert WaitlistEntry.objects.filter(pk=waiting[0].pk, status="waiting").exists()
    assert openings(offering) == 0


def test_refused_actions_say_why_and_change_nothing(owner, full_class):
    offering, enrolled, pending, _holds, waiting = full_class
    response = owner.post(
        f"{ADMIN}/enrollment/",
        {"action": "cancel_enrollments", "_selected_action": [enrolled[0].pk]},
        follow=True,
    )
    assert "Only an enrollment pending approval can be cancelled" in response.content.decode()
    connection.set_tenant(owner.tenant)
    response = owner.post(
        f"{ADMIN}/enrollment/",
        {"action": "drop_enrollments", "_selected_action": [pending.pk]},
        follow=True,
    )
    assert "Only an active enrollment can be dropped" in response.content.decode()
    connection.set_tenant(owner.tenant)
    act(owner, "waitlistentry", "remove_from_waitlist", waiting[0])
    act(owner, "waitlistentry", "remove_from_waitlist", waiting[0])  # twice: a no-op
    enrolled[0].refresh_from_db()
    pending.refresh_from_db()
    assert (enrolled[0].status, pending.status) == ("active", "pending")
    assert openings(offering) == 0


def test_staff_without_the_permission_cannot_act(in_tenant_a, full_class):
    offering, enrolled, _, holds, waiting = full_class
    actor = make_actor(in_tenant_a, email="coach@alpha.test", staff=True)
    with tenant_context(in_tenant_a):
        actor.user.user_permissions.add(
            *Permission.objects.filter(
                codename__in=["view_enrollment", "view_hold", "view_waitlistentry"]
            )
        )
    client = admin_client(in_tenant_a, actor)
    client.tenant = in_tenant_a
    for model, action, row in (
        ("enrollment", "drop_enrollments", enrolled[0]),
        ("hold", "release_holds", holds[0]),
        ("waitlistentry", "remove_from_waitlist", waiting[0]),
    ):
        page = client.get(f"{ADMIN}/{model}/")
        assert page.status_code == 200
        assert f'value="{action}"' not in page.content.decode()
        connection.set_tenant(in_tenant_a)
        act(client, model, action, row)
    assert Enrollment.objects.get(pk=enrolled[0].pk).status == "active"
    assert Hold.objects.get(pk=holds[0].pk).status == "active"
    assert WaitlistEntry.objects.get(pk=waiting[0].pk).status == "waiting"
    assert openings(offering) == 0


def test_another_tenants_staff_cannot_act_here(in_tenant_a, tenant_b, full_class):
    offering, enrolled, *_ = full_class
    other = make_actor(tenant_b, email="boss@beta.test", staff=True, superuser=True)
    client = admin_client(tenant_b, other)
    # Tenant B's session means nothing in tenant A's schema: the admin asks for a sign-in.
    response = client.post(
        f"{ADMIN}/enrollment/",
        {"action": "drop_enrollments", "_selected_action": [enrolled[0].pk]},
        HTTP_HOST=host_of(in_tenant_a),
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    connection.set_tenant(in_tenant_a)
    assert Enrollment.objects.get(pk=enrolled[0].pk).status == "active"
    assert openings(offering) == 0


def test_a_family_or_student_holding_seats_cannot_be_deleted_either(owner, full_class):
    """Their holds and waitlist places would go with them (CASCADE), and the admin may not
    delete those: the page says so, and the delete is refused."""
    offering, _, _, holds, waiting = full_class
    for path in (
        f"/admin/portal_accounts/family/{holds[0].family_id}/delete/",
        f"/admin/portal_accounts/student/{waiting[0].student_id}/delete/",
    ):
        page = owner.get(path).content.decode()
        assert "permission to delete the following types of objects" in page
        connection.set_tenant(owner.tenant)
        assert owner.post(path, {"post": "yes"}).status_code == 403
        connection.set_tenant(owner.tenant)
    assert Hold.objects.filter(pk=holds[0].pk, status="active").exists()
    assert WaitlistEntry.objects.filter(pk=waiting[0].pk, status="waiting").exists()
    assert openings(offering) == 0
