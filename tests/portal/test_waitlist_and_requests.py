import json
from datetime import date, time, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from kernel.users.services import api_token_issue
from portal.config.services import portal_settings_update
from portal.enrollment import services
from portal.enrollment.models import Enrollment, Hold, WaitlistEntry
from portal.enrollment.tasks import expire_due_task
from portal.requests.models import MakeupToken, Request
from tests.factories import LevelFactory, ProgramFactory
from tests.helpers import (
    assert_cross_tenant_denied,
    assert_error,
    client_for,
    make_actor,
    tenant_today,
)
from tests.portal.enrollment_helpers import enroll, make_family, make_offering, next_weekday

pytestmark = pytest.mark.django_db
API = "/api/v1"


def join(actor, offering, student=None):
    return actor.client().post(
        f"{API}/waitlist",
        {"offering": offering.pk, "student": (student or actor.student).pk},
        format="json",
    )


# --- waitlists -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["class", "camp", "event"])
def test_join_a_full_offering_and_see_the_position(kind, family_a):
    start = next_weekday(0)
    offering = make_offering(
        kind=kind,
        capacity=1,
        weekdays=[] if kind != "class" else [0],
        end_date=start if kind == "event" else start + timedelta(weeks=2),
    )
    holder, kid = make_family("first@alpha.test")
    services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    other, other_kid = make_family("second@alpha.test")
    services.waitlist_join(family=other, student_id=other_kid.pk, offering_id=offering.pk)
    response = join(family_a, offering)
    assert response.status_code == 201
    assert response.json()["position"] == 2
    offering.refresh_from_db()
    assert offering.waitlist_count == 2
    assert [e["position"] for e in family_a.client().get(f"{API}/waitlist").json()] == [2]


def test_joining_with_seats_free_or_twice_is_refused(family_a):
    offering = make_offering(capacity=1)
    assert_error(join(family_a, offering), 409, "offering_has_openings")
    holder, kid = make_family("first@alpha.test")
    services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    assert join(family_a, offering).status_code == 201
    assert_error(join(family_a, offering), 409, "already_waitlisted")
    assert_error(join(family_a, make_offering(capacity=0, min_age=40)), 409, "too_young")


def test_a_freed_seat_is_offered_to_the_first_family_then_the_next(
    family_a, django_capture_on_commit_callbacks
):
    offering = make_offering(capacity=1, name="Rec Gym")
    holder, kid = make_family("first@alpha.test")
    hold = services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    assert join(family_a, offering).status_code == 201
    second, second_kid = make_family("second@alpha.test")
    services.waitlist_join(family=second, student_id=second_kid.pk, offering_id=offering.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.cart_remove(family=holder, hold_id=hold.pk)
    entry = WaitlistEntry.objects.get(family=family_a.family)
    assert entry.status == "offered" and entry.hold.status == "offer"
    assert any(m.subject == "A seat opened in Rec Gym at Alpha Gymnastics" for m in mail.outbox)
    offering.refresh_from_db()
    assert offering.seats_taken == 1  # the offer holds the seat
    with pytest.raises(ApplicationError) as excinfo:
        services.cart_add(family=second, student_id=second_kid.pk, offering_id=offering.pk)
    assert excinfo.value.code == "offering_full"
    # Declining passes the seat to the next family.
    assert family_a.client().delete(f"{API}/waitlist/{entry.pk}").status_code == 204
    assert WaitlistEntry.objects.get(family=second).status == "offered"
    assert WaitlistEntry.objects.get(family=family_a.family).status == "declined"


def test_accepting_an_offer_moves_it_into_the_cart_and_checkout(family_a):
    offering = make_offering(capacity=1, tuition=0)
    holder, kid = make_family("first@alpha.test")
    hold = services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    join(family_a, offering)
    entry = WaitlistEntry.objects.get(family=family_a.family)
    assert_error(family_a.client().post(f"{API}/waitlist/{entry.pk}/accept"), 409, "no_offer")
    services.cart_remove(family=holder, hold_id=hold.pk)
    response = family_a.client().post(f"{API}/waitlist/{entry.pk}/accept")
    assert response.status_code == 201
    assert len(response.json()["items"]) == 1
    assert response.json()["items"][0]["seconds_left"] > 14 * 60
    order = family_a.client().post(f"{API}/checkout", {}, format="json").json()
    assert order["status"] == "confirmed"
    assert Enrollment.objects.get(family=family_a.family).status == "active"


def test_a_lapsed_offer_goes_to_the_next_family_and_expiry_runs_twice_safely(family_a):
    offering = make_offering(capacity=1)
    holder, kid = make_family("first@alpha.test")
    hold = services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    join(family_a, offering)
    second, second_kid = make_family("second@alpha.test")
    services.waitlist_join(family=second, student_id=second_kid.pk, offering_id=offering.pk)
    services.cart_remove(family=holder, hold_id=hold.pk)
    Hold.objects.filter(status="offer").update(expires_at=timezone.now() - timedelta(seconds=1))
    expire_due_task()
    expire_due_task()
    statuses = dict(WaitlistEntry.objects.values_list("family_id", "status"))
    assert statuses == {family_a.family.pk: "lapsed", second.pk: "offered"}
    assert Hold.objects.filter(status="offer").count() == 1
    offering.refresh_from_db()
    assert (offering.seats_taken, offering.waitlist_count) == (1, 1)
    entry = WaitlistEntry.objects.get(family=family_a.family)
    assert_error(family_a.client().post(f"{API}/waitlist/{entry.pk}/accept"), 409, "offer_expired")


def test_ineligible_families_are_skipped_and_staff_order_counts(family_a):
    today = tenant_today()
    offering = make_offering(capacity=1, min_age=5)
    holder, kid = make_family("first@alpha.test")
    hold = services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    late, late_kid = make_family("late@alpha.test")
    services.waitlist_join(family=late, student_id=late_kid.pk, offering_id=offering.pk)
    join(family_a, offering)
    # Staff move the later family to the front; then the front family's student becomes too young.
    WaitlistEntry.objects.filter(family=family_a.family).update(priority=1)
    late_kid.date_of_birth = today - timedelta(days=365)
    late_kid.save()
    WaitlistEntry.objects.filter(family=late).update(priority=0)
    services.cart_remove(family=holder, hold_id=hold.pk)
    assert WaitlistEntry.objects.get(family=late).status == "skipped"
    assert "too young" not in WaitlistEntry.objects.get(family=late).note  # message is the rule's
    assert WaitlistEntry.objects.get(family=family_a.family).status == "offered"


def test_raising_capacity_offers_seats(family_a, in_tenant_a):
    offering = make_offering(capacity=1)
    holder, kid = make_family("first@alpha.test")
    services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    join(family_a, offering)
    offering.capacity = 2
    offering.save()
    services.offering_seats_changed(offering_id=offering.pk)
    assert WaitlistEntry.objects.get(family=family_a.family).status == "offered"


# --- requests --------------------------------------------------------------------------------


@pytest.fixture
def enrolled(family_a):
    program = ProgramFactory(name="Gymnastics")
    offering = make_offering(
        name="Rec Gym",
        tuition=12000,
        program=program,
        capacity=5,
        start_date=next_weekday(0, after_days=1),
    )
    enrollment = enroll(family_a.family, family_a.student, offering)
    return family_a, enrollment


def post_request(actor, **body):
    return actor.client().post(
        f"{API}/requests", json.dumps(body, default=str), content_type="application/json"
    )


def test_absence_auto_approved_issues_a_makeup_token(enrolled, django_capture_on_commit_callbacks):
    today = tenant_today()
    actor, enrollment = enrolled
    day = enrollment.offering.meetings()[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_request(actor, type="absence", enrollment=enrollment.pk, meeting_date=day)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "approved" and body["makeup_token_issued"]
    token = MakeupToken.objects.get()
    assert token.expires_on == today + timedelta(days=60)
    assert any("absence request" in m.subject and "approved" in m.subject for m in mail.outbox)
    assert_error(
        post_request(actor, type="absence", enrollment=enrollment.pk, meeting_date=day),
        409,
        "absence_already_reported",
    )


def test_absence_rules(enrolled):
    actor, enrollment = enrolled
    not_meeting = enrollment.offering.meetings()[0] + timedelta(days=1)
    assert_error(
        post_request(actor, type="absence", enrollment=enrollment.pk, meeting_date=not_meeting),
        400,
        "not_a_meeting",
    )
    portal_settings_update(absence_notice_hours=24 * 30)
    assert_error(
        post_request(
            actor,
            type="absence",
            enrollment=enrollment.pk,
            meeting_date=enrollment.offering.meetings()[1],
        ),
        400,
        "absence_too_late",
    )
    portal_settings_update(absences_enabled=False)
    assert_error(
        post_request(
            actor,
            type="absence",
            enrollment=enrollment.pk,
            meeting_date=enrollment.offering.meetings()[1],
        ),
        403,
        "absences_disabled",
    )
    assert_error(
        post_request(actor, type="absence", enrollment=enrollment.pk), 400, "invalid_input"
    )
    assert not Request.objects.exists()


def test_absence_pending_when_staff_review_and_staff_decide(
    enrolled, in_tenant_a, django_capture_on_commit_callbacks
):
    actor, enrollment = enrolled
    portal_settings_update(absences_auto_approve=False)
    req = post_request(
        actor,
        type="absence",
        enrollment=enrollment.pk,
        meeting_date=enrollment.offering.meetings()[2],
    ).json()
    assert req["status"] == "pending"
    staff = make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk")
    assert_error(
        actor.client().post(
            f"{API}/staff/requests/{req['id']}/decide", {"decision": "approve"}, format="json"
        ),
        403,
        "permission_denied",
    )
    listing = staff.client().get(f"{API}/staff/requests?status=pending").json()
    assert [r["id"] for r in listing["results"]] == [req["id"]]
    assert_error(staff.client().get(f"{API}/staff/requests?status=maybe"), 400, "invalid_filter")
    with django_capture_on_commit_callbacks(execute=True):
        decided = staff.client().post(
            f"{API}/staff/requests/{req['id']}/decide",
            {"decision": "deny", "note": "Please call us."},
            format="json",
        )
    assert (
        decided.json()["status"] == "denied" and decided.json()["staff_note"] == "Please call us."
    )
    assert any("Please call us." in m.body for m in mail.outbox)
    assert_error(
        staff.client().post(
            f"{API}/staff/requests/{req['id']}/decide", {"decision": "approve"}, format="json"
        ),
        409,
        "request_not_pending",
    )


def test_makeup_redeems_a_token_within_the_cap(enrolled):
    today = tenant_today()
    actor, enrollment = enrolled
    portal_settings_update(makeup_seats_per_class=1)
    post_request(
        actor,
        type="absence",
        enrollment=enrollment.pk,
        meeting_date=enrollment.offering.meetings()[1],
    )
    token = MakeupToken.objects.get()
    other = make_offering(
        name="Rec Gym Wed",
        program=enrollment.offering.program,
        weekdays=[2],
        start_date=next_weekday(2),
    )
    day = other.meetings()[0]
    ok = post_request(
        actor, type="makeup", makeup_token=token.pk, offering=other.pk, meeting_date=day
    )
    assert ok.status_code == 201 and ok.json()["status"] == "approved"
    token.refresh_from_db()
    assert token.status == "redeemed"
    assert_error(
        post_request(
            actor, type="makeup", makeup_token=token.pk, offering=other.pk, meeting_date=day
        ),
        409,
        "makeup_token_used",
    )
    second = MakeupToken.objects.create(
        family=actor.family,
        student=actor.student,
        program=other.program,
        kind="class",
        expires_on=today + timedelta(days=30),
    )
    assert_error(
        post_request(
            actor, type="makeup", makeup_token=second.pk, offering=other.pk, meeting_date=day
        ),
        409,
        "makeup_class_full",
    )
    swim = make_offering(
        program=ProgramFactory(name="Swim"), weekdays=[4], start_date=next_weekday(4)
    )
    assert_error(
        post_request(
            actor,
            type="makeup",
            makeup_token=second.pk,
            offering=swim.pk,
            meeting_date=swim.meetings()[0],
        ),
        409,
        "makeup_not_eligible",
    )
    MakeupToken.objects.filter(pk=second.pk).update(expires_on=today - timedelta(days=1))
    assert_error(
        post_request(
            actor,
            type="makeup",
            makeup_token=second.pk,
            offering=other.pk,
            meeting_date=other.meetings()[1],
        ),
        409,
        "makeup_token_expired",
    )


def test_transfer_preview_request_and_approval(enrolled, in_tenant_a):
    actor, enrollment = enrolled
    target = make_offering(
        name="Rec Gym Thu",
        tuition=15000,
        program=enrollment.offering.program,
        weekdays=[3],
        start_date=next_weekday(3, after_days=1),
    )
    preview = actor.client().get(
        f"{API}/requests/transfer-preview?enrollment={enrollment.pk}&offering={target.pk}"
    )
    assert preview.status_code == 200
    body = preview.json()
    assert body["difference"] == body["charge"] - body["credit"]
    assert body["charge"] > body["credit"] > 0
    req = post_request(actor, type="transfer", enrollment=enrollment.pk, offering=target.pk).json()
    assert req["status"] == "pending" and req["price_difference"] == body["difference"]
    assert_error(
        post_request(actor, type="transfer", enrollment=enrollment.pk, offering=target.pk),
        409,
        "transfer_limit",
    )
    staff = make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk")
    decided = staff.client().post(
        f"{API}/staff/requests/{req['id']}/decide", {"decision": "approve"}, format="json"
    )
    assert decided.json()["status"] == "approved"
    enrollment.refresh_from_db()
    assert enrollment.status == "transferred"
    moved = Enrollment.objects.get(offering=target)
    assert moved.status == "active" and moved.transferred_from == enrollment
    target.refresh_from_db()
    enrollment.offering.refresh_from_db()
    assert (target.seats_taken, enrollment.offering.seats_taken) == (1, 0)


def test_transfer_rules(enrolled, tenant_b):
    actor, enrollment = enrolled
    assert_error(
        post_request(
            actor, type="transfer", enrollment=enrollment.pk, offering=enrollment.offering.pk
        ),
        400,
        "same_offering",
    )
    assert_error(
        post_request(actor, type="transfer", enrollment=enrollment.pk, offering=999999),
        404,
        "offering_not_found",
    )
    program = enrollment.offering.program
    l1 = LevelFactory(program=program, position=1)
    l2 = LevelFactory(program=program, position=2)
    l3 = LevelFactory(program=program, position=3)
    actor.student.level = l1
    actor.student.save()
    portal_settings_update(transfers_next_level_only=True)
    skip = make_offering(program=program, levels=[l3], weekdays=[4], start_date=next_weekday(4))
    assert_error(
        post_request(actor, type="transfer", enrollment=enrollment.pk, offering=skip.pk),
        409,
        "transfer_next_level_only",
    )
    nxt = make_offering(
        program=program,
        levels=[l2],
        weekdays=[4],
        start_date=next_weekday(4),
        start_time=time(9),
        end_time=time(10),
    )
    ok = post_request(actor, type="transfer", enrollment=enrollment.pk, offering=nxt.pk)
    assert ok.status_code == 201, ok.content
    # An offering id from another business is just unknown here.
    with tenant_context(tenant_b):
        foreign = make_offering(name="Beta only")
    connection.set_tenant(actor.tenant)
    assert_error(
        actor.client().get(
            f"{API}/requests/transfer-preview?enrollment={enrollment.pk}"
            f"&offering={foreign.pk + 1000}"
        ),
        404,
        "offering_not_found",
    )


def test_drop_rules_and_seat_freed_after_the_effective_date(enrolled, in_tenant_a):
    today = tenant_today()
    actor, enrollment = enrolled
    soon = today + timedelta(days=3)
    assert_error(
        post_request(
            actor, type="drop", enrollment=enrollment.pk, effective_date=soon, reason="Moving"
        ),
        400,
        "drop_too_soon",
    )
    later = today + timedelta(days=10)
    assert_error(
        post_request(actor, type="drop", enrollment=enrollment.pk, effective_date=later),
        400,
        "drop_reason_required",
    )
    req = post_request(
        actor, type="drop", enrollment=enrollment.pk, effective_date=later, reason="Moving"
    )
    assert req.status_code == 201
    assert_error(
        post_request(
            actor, type="drop", enrollment=enrollment.pk, effective_date=later, reason="Again"
        ),
        409,
        "drop_already_requested",
    )
    staff = make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk")
    staff.client().post(
        f"{API}/staff/requests/{req.json()['id']}/decide", {"decision": "approve"}, format="json"
    )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.end_date) == ("active", later)
    Enrollment.objects.filter(pk=enrollment.pk).update(end_date=today - timedelta(days=1))
    expire_due_task()
    expire_due_task()
    enrollment.refresh_from_db()
    enrollment.offering.refresh_from_db()
    assert enrollment.status == "dropped" and enrollment.offering.seats_taken == 0


def test_cancel_a_pending_request(enrolled):
    today = tenant_today()
    actor, enrollment = enrolled
    req = post_request(
        actor,
        type="drop",
        enrollment=enrollment.pk,
        effective_date=today + timedelta(days=10),
        reason="Busy",
    ).json()
    cancelled = actor.client().post(f"{API}/requests/{req['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert_error(
        actor.client().post(f"{API}/requests/{req['id']}/cancel"), 409, "request_not_pending"
    )
    assert [r["status"] for r in actor.client().get(f"{API}/requests").json()] == ["cancelled"]


def test_another_familys_enrollment_and_requests_are_not_found(enrolled):
    today = tenant_today()
    actor, enrollment = enrolled
    other, _kid = make_family("other@alpha.test")
    with tenant_context(actor.tenant):
        _, token = api_token_issue(user=other.guardians.get().user)
    client = client_for(actor.tenant, token=token)
    response = client.post(
        f"{API}/requests",
        {
            "type": "drop",
            "enrollment": enrollment.pk,
            "effective_date": str(today + timedelta(days=10)),
            "reason": "x",
        },
        format="json",
    )
    assert_error(response, 404, "enrollment_not_found")
    req = post_request(
        actor,
        type="drop",
        enrollment=enrollment.pk,
        effective_date=today + timedelta(days=10),
        reason="Busy",
    ).json()
    assert_error(client.post(f"{API}/requests/{req['id']}/cancel"), 404, "request_not_found")
    assert client.get(f"{API}/requests").json() == []


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", f"{API}/requests", None),
        ("post", f"{API}/requests", {"type": "drop"}),
        ("post", f"{API}/requests/1/cancel", None),
        ("get", f"{API}/makeup-tokens", None),
        ("get", f"{API}/requests/transfer-preview?enrollment=1&offering=1", None),
        ("get", f"{API}/staff/requests", None),
        ("post", f"{API}/staff/requests/1/decide", {"decision": "approve"}),
    ],
)
def test_request_endpoints_stay_in_their_tenant(method, path, data, family_a, tenant_b):
    assert_cross_tenant_denied(
        credentials_client=family_a.client(), target=tenant_b, method=method, path=path, data=data
    )


def test_staff_api_refuses_families_and_other_tenants_staff(family_a, in_tenant_a, tenant_b):
    assert_error(family_a.client().get(f"{API}/staff/requests"), 403, "permission_denied")
    other_staff = make_actor(tenant_b, email="desk@beta.test", staff=True)
    response = other_staff.client(in_tenant_a).get(f"{API}/staff/requests")
    assert_error(response, 401, "authentication_failed")


def test_makeup_tokens_listed(enrolled):
    actor, enrollment = enrolled
    post_request(
        actor,
        type="absence",
        enrollment=enrollment.pk,
        meeting_date=enrollment.offering.meetings()[1],
    )
    (token,) = actor.client().get(f"{API}/makeup-tokens").json()
    assert token["status"] == "available" and token["program"] == "Gymnastics"


def test_makeup_tokens_expire(enrolled):
    from portal.requests.tasks import expire_makeup_tokens_task

    actor, _ = enrolled
    MakeupToken.objects.create(
        family=actor.family,
        student=actor.student,
        program=ProgramFactory(),
        kind="class",
        expires_on=date(2020, 1, 1),
    )
    assert expire_makeup_tokens_task() == 1
    assert expire_makeup_tokens_task() == 0


@pytest.fixture
def staff_admin(in_tenant_a):
    staff = make_actor(in_tenant_a, email="frontdesk@alpha.test", staff=True, superuser=True)
    client = client_for(in_tenant_a)
    with tenant_context(in_tenant_a):
        client.force_login(staff.user)
    connection.set_tenant(in_tenant_a)
    return client


def test_staff_reorder_the_waitlist_in_the_admin(family_a, staff_admin):
    offering = make_offering(capacity=1, name="Busy Class")
    holder, kid = make_family("first@alpha.test")
    services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    join(family_a, offering)
    late, late_kid = make_family("late@alpha.test")
    late_entry = services.waitlist_join(
        family=late, student_id=late_kid.pk, offering_id=offering.pk
    )
    first_entry = WaitlistEntry.objects.get(family=family_a.family)
    page = staff_admin.get(
        f"/admin/portal_enrollment/waitlistentry/?offering__id__exact={offering.pk}"
    )
    assert page.status_code == 200 and "Busy Class" in page.content.decode()
    form = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "2",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
        "form-0-id": str(first_entry.pk),
        "form-0-priority": "50",
        "form-1-id": str(late_entry.pk),
        "form-1-priority": "5",
    }
    response = staff_admin.post(
        f"/admin/portal_enrollment/waitlistentry/?offering__id__exact={offering.pk}", form
    )
    assert response.status_code == 302, response.content[:500]
    connection.set_tenant(family_a.tenant)
    assert services.waitlist_position(WaitlistEntry.objects.get(pk=late_entry.pk)) == 1
    assert family_a.client().get(f"{API}/waitlist").json()[0]["position"] == 2


def test_staff_decide_requests_in_the_admin(enrolled, staff_admin):
    today = tenant_today()
    actor, enrollment = enrolled
    req = post_request(
        actor,
        type="drop",
        enrollment=enrollment.pk,
        effective_date=today + timedelta(days=10),
        reason="Moving",
    ).json()
    assert (
        "Moving"
        in staff_admin.get(f"/admin/portal_requests/request/{req['id']}/change/").content.decode()
    )
    deny = {"action": "deny", "_selected_action": [req["id"]]}
    # A denial needs the reason the family reads (the staff note): refused without one.
    response = staff_admin.post("/admin/portal_requests/request/", deny, follow=True)
    assert "Give the family the reason for the denial." in response.content.decode()
    connection.set_tenant(actor.tenant)
    assert Request.objects.get(pk=req["id"]).status == "pending"
    Request.objects.filter(pk=req["id"]).update(staff_note="Fees are due first.")
    response = staff_admin.post("/admin/portal_requests/request/", deny)
    assert response.status_code == 302
    connection.set_tenant(actor.tenant)
    assert Request.objects.get(pk=req["id"]).status == "denied"
