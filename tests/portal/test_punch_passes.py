from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.catalog.models import Offering
from portal.config.services import portal_settings_update
from portal.enrollment import services as enrollment
from portal.enrollment.models import Enrollment, Order
from portal.enrollment.tasks import expire_due_task
from portal.orders import services as orders
from portal.store.models import PunchPass, PunchPassProduct, PunchRedemption
from portal.store.selectors import punch_pass_targets
from tests.factories import ProgramFactory
from tests.helpers import (
    assert_cross_tenant_denied,
    assert_error,
    client_for,
    make_actor,
    tenant_today,
)
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def punch_on(family_a):
    portal_settings_update(punch_passes_enabled=True)
    connection.set_tenant(family_a.tenant)
    return family_a


def product(**kwargs) -> PunchPassProduct:
    defaults = dict(name="10 open gym visits", visits=10, price=15000, valid_days=90)
    defaults.update(kwargs)
    return PunchPassProduct.objects.create(**defaults)


def active_pass(actor, **kwargs) -> PunchPass:
    today = tenant_today()
    kind = kwargs.pop("product", None) or product()
    defaults = dict(
        product=kind,
        family=actor.family,
        visits_total=kind.visits,
        visits_left=kind.visits,
        status=PunchPass.Status.ACTIVE,
        expires_on=today + timedelta(days=kind.valid_days),
    )
    defaults.update(kwargs)
    return PunchPass.objects.create(**defaults)


def buy(actor, data):
    return actor.client().post(f"{API}/store/punch-passes", data, format="json")


def redeem(actor, punch, offering, meeting_date=None, **extra):
    data = {
        "offering": offering.pk,
        "meeting_date": (meeting_date or offering.start_date).isoformat(),
        **extra,
    }
    if "student" not in data:
        data["student"] = actor.student.pk
    data = {k: v for k, v in data.items() if v is not None}
    return actor.client().post(f"{API}/store/punch-passes/{punch.pk}/redeem", data, format="json")


def snapshot(punch, offering):
    punch.refresh_from_db()
    offering.refresh_from_db()
    return (
        punch.visits_left,
        punch.status,
        offering.seats_taken,
        Enrollment.objects.count(),
        PunchRedemption.objects.count(),
    )


# --- switched off ------------------------------------------------------------------------------


def test_everything_is_refused_while_punch_passes_are_off(family_a):
    kind = product()
    punch = active_pass(family_a, product=kind)
    offering = make_offering()
    assert_error(
        client_for(family_a.tenant).get(f"{API}/store/punch-pass-products"),
        403,
        "punch_passes_disabled",
    )
    assert_error(buy(family_a, {"product": kind.pk}), 403, "punch_passes_disabled")
    assert_error(redeem(family_a, punch, offering), 403, "punch_passes_disabled")
    assert not Order.objects.exists() and PunchPass.objects.count() == 1
    assert not Enrollment.objects.exists()


# --- products and buying ---------------------------------------------------------------------


def test_anyone_sees_the_active_products(punch_on):
    program = ProgramFactory(name="Open Gym")
    shown = product(program=program, scope="student")
    product(name="Retired pass", is_active=False)
    response = client_for(punch_on.tenant).get(f"{API}/store/punch-pass-products")
    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "id": shown.pk,
            "name": "10 open gym visits",
            "description": "",
            "visits": 10,
            "price": 15000,
            "currency": punch_on.tenant.currency,
            "valid_days": 90,
            "scope": "student",
            "kind": "class",
            "program": {"id": program.pk, "name": "Open Gym"},
        }
    ]
    portal_settings_update(show_punch_passes=False)
    connection.set_tenant(punch_on.tenant)
    assert client_for(punch_on.tenant).get(f"{API}/store/punch-pass-products").json() == []


def test_a_free_pass_is_confirmed_and_active_at_once(punch_on):
    today = tenant_today()
    kind = product(price=0, valid_days=30)
    response = buy(punch_on, {"product": kind.pk})
    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["status"], order["total"]) == ("confirmed", 0)
    punch = PunchPass.objects.get()
    assert (punch.status, punch.visits_left, punch.visits_total) == ("active", 10, 10)
    assert punch.expires_on == today + timedelta(days=30)
    assert punch.family == punch_on.family and punch.student is None


def test_a_paid_pass_waits_for_payment_then_activates_with_its_expiry(punch_on):
    today = tenant_today()
    kind = product(price=15000, valid_days=60)
    response = buy(punch_on, {"product": kind.pk})
    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["status"], order["total"]) == ("awaiting_payment", 15000)
    assert [(line["kind"], line["description"], line["amount"]) for line in order["lines"]] == [
        ("punch_pass", "Punch pass: 10 open gym visits", 15000)
    ]
    punch = PunchPass.objects.get()
    assert (punch.status, punch.expires_on, punch.order_id) == (
        "awaiting_payment",
        None,
        order["id"],
    )
    offering = make_offering()
    assert_error(redeem(punch_on, punch, offering), 409, "punch_pass_not_active")

    orders.order_confirm(order_id=order["id"])
    punch.refresh_from_db()
    assert punch.status == "active"
    assert punch.expires_on == today + timedelta(days=60)
    assert punch.activated_at is not None
    ledger = punch_on.client().get(f"{API}/ledger?period=all").json()
    assert [(e["kind"], e["amount"]) for e in ledger["entries"]] == [("charge", 15000)]


def test_an_unpaid_order_that_lapses_voids_its_pass(punch_on):
    order_id = buy(punch_on, {"product": product().pk}).json()["id"]
    Order.objects.filter(pk=order_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    orders.order_expire(order_id=order_id)
    assert Order.objects.get(pk=order_id).status == "expired"
    assert PunchPass.objects.get().status == "void"


def test_a_one_student_pass_needs_one_of_the_familys_students(punch_on):
    kind = product(scope="student")
    assert_error(buy(punch_on, {"product": kind.pk}), 400, "student_required")
    _, stranger = make_family("other@alpha.test")
    assert_error(
        buy(punch_on, {"product": kind.pk, "student": stranger.pk}), 404, "student_not_found"
    )
    assert not Order.objects.exists() and not PunchPass.objects.exists()
    response = buy(punch_on, {"product": kind.pk, "student": punch_on.student.pk})
    assert response.status_code == 201, response.content
    assert PunchPass.objects.get().student == punch_on.student


def test_unknown_and_retired_products_are_not_sold(punch_on):
    retired = product(is_active=False)
    assert_error(buy(punch_on, {"product": retired.pk}), 404, "punch_pass_product_not_found")
    assert_error(buy(punch_on, {"product": 999_999}), 404, "punch_pass_product_not_found")
    assert not Order.objects.exists() and not PunchPass.objects.exists()


def test_the_family_lists_its_own_passes(punch_on):
    mine = active_pass(punch_on, visits_left=4)
    other_family, _ = make_family("other@alpha.test")
    PunchPass.objects.create(
        product=mine.product, family=other_family, visits_total=10, visits_left=10
    )
    response = punch_on.client().get(f"{API}/store/punch-passes")
    assert response.status_code == 200, response.content
    [listed] = response.json()
    assert listed["id"] == mine.pk
    assert (listed["visits_left"], listed["visits_total"], listed["status"]) == (4, 10, "active")
    assert listed["expires_on"] == mine.expires_on.isoformat()
    assert listed["expired"] is False and listed["redemptions"] == []
    assert listed["product"] == {"id": mine.product_id, "name": "10 open gym visits"}


# --- redeeming -------------------------------------------------------------------------------


def test_a_visit_books_a_single_day_enrollment(punch_on):
    punch = active_pass(punch_on)
    offering = make_offering(capacity=3)
    meeting = offering.meetings()[2]
    response = redeem(punch_on, punch, offering, meeting)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["meeting_date"] == meeting.isoformat()
    assert body["student"]["id"] == punch_on.student.pk
    assert body["offering"]["id"] == offering.pk
    seat = Enrollment.objects.get()
    assert body["enrollment_id"] == seat.pk
    assert (seat.status, seat.start_date, seat.end_date) == ("active", meeting, meeting)
    assert (seat.family, seat.student, seat.offering) == (
        punch_on.family,
        punch_on.student,
        offering,
    )
    punch.refresh_from_db()
    offering.refresh_from_db()
    assert punch.visits_left == 9
    assert offering.seats_taken == 1
    redemption = PunchRedemption.objects.get()
    assert (redemption.punch_pass, redemption.enrollment, redemption.meeting_date) == (
        punch,
        seat,
        meeting,
    )
    listed = punch_on.client().get(f"{API}/store/punch-passes").json()[0]
    assert listed["visits_left"] == 9
    assert [r["meeting_date"] for r in listed["redemptions"]] == [meeting.isoformat()]


def test_the_seat_of_a_visit_is_freed_once_the_day_has_passed(punch_on):
    today = tenant_today()
    punch = active_pass(punch_on)
    offering = make_offering(capacity=1)
    assert redeem(punch_on, punch, offering).status_code == 201
    offering.refresh_from_db()
    assert offering.seats_taken == 1
    # The day goes by: the sweep drops the single-day enrollment and frees its seat.
    Enrollment.objects.update(end_date=today - timedelta(days=1))
    expire_due_task()
    offering.refresh_from_db()
    assert offering.seats_taken == 0
    assert Enrollment.objects.get().status == "dropped"


def test_a_family_pass_needs_a_student_of_the_family(punch_on):
    punch = active_pass(punch_on)
    offering = make_offering()
    before = snapshot(punch, offering)
    assert_error(redeem(punch_on, punch, offering, student=None), 400, "student_required")
    _, stranger = make_family("other@alpha.test")
    assert_error(redeem(punch_on, punch, offering, student=stranger.pk), 404, "student_not_found")
    assert snapshot(punch, offering) == before


def test_a_one_student_pass_is_for_that_student_only(punch_on):
    from tests.factories import StudentFactory

    punch = active_pass(punch_on, student=punch_on.student, product=product(scope="student"))
    sibling = StudentFactory(family=punch_on.family, first_name="Leo")
    offering = make_offering()
    before = snapshot(punch, offering)
    assert_error(
        redeem(punch_on, punch, offering, student=sibling.pk), 409, "punch_pass_not_eligible"
    )
    assert snapshot(punch, offering) == before
    # Without a student the pass's own student is booked.
    assert redeem(punch_on, punch, offering, student=None).status_code == 201
    assert Enrollment.objects.get().student == punch_on.student


def _expired(actor, offering):
    today = tenant_today()
    return active_pass(actor, expires_on=today - timedelta(days=1)), offering, None


def _expires_before_meeting(actor, offering):
    return active_pass(actor, expires_on=offering.start_date - timedelta(days=1)), offering, None


def _used_up(actor, offering):
    return active_pass(actor, visits_left=0), offering, None


def _unpaid(actor, offering):
    return active_pass(actor, status="awaiting_payment", expires_on=None), offering, None


def _void(actor, offering):
    return active_pass(actor, status="void"), offering, None


def _wrong_kind(actor, offering):
    return active_pass(actor, product=product(kind="camp")), offering, None


def _wrong_program(actor, offering):
    return active_pass(actor, product=product(program=ProgramFactory())), offering, None


def _not_a_meeting_day(actor, offering):
    return active_pass(actor), offering, offering.start_date + timedelta(days=1)


def _past_meeting(actor, offering):
    today = tenant_today()
    start = today - timedelta(days=14)
    Offering.objects.filter(pk=offering.pk).update(
        start_date=start, weekdays=[start.weekday()], end_date=start + timedelta(weeks=10)
    )
    offering.refresh_from_db()
    return active_pass(actor), offering, start


def _too_young(actor, offering):
    Offering.objects.filter(pk=offering.pk).update(min_age=99)
    return active_pass(actor), offering, None


def _archived_offering(actor, offering):
    Offering.objects.filter(pk=offering.pk).update(status="archived")
    return active_pass(actor), offering, None


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        (_expired, 409, "punch_pass_expired"),
        (_expires_before_meeting, 409, "punch_pass_expired"),
        (_used_up, 409, "punch_pass_used_up"),
        (_unpaid, 409, "punch_pass_not_active"),
        (_void, 409, "punch_pass_not_active"),
        (_wrong_kind, 409, "punch_pass_not_eligible"),
        (_wrong_program, 409, "punch_pass_not_eligible"),
        (_not_a_meeting_day, 400, "not_a_meeting"),
        (_past_meeting, 400, "not_a_meeting"),
        (_too_young, 409, "too_young"),
        (_archived_offering, 409, "offering_not_available"),
    ],
)
def test_refused_visits_change_nothing(setup, status, code, punch_on):
    punch, offering, meeting = setup(punch_on, make_offering())
    before = snapshot(punch, offering)
    assert_error(redeem(punch_on, punch, offering, meeting), status, code)
    assert snapshot(punch, offering) == before


def test_a_student_already_in_the_class_cannot_use_a_visit(punch_on):
    punch = active_pass(punch_on)
    offering = make_offering()
    enrollment.cart_add(
        family=punch_on.family, student_id=punch_on.student.pk, offering_id=offering.pk
    )
    order = orders.checkout(family=punch_on.family)
    orders.order_confirm(order_id=order.pk)
    before = snapshot(punch, offering)
    assert_error(redeem(punch_on, punch, offering), 409, "already_enrolled")
    assert snapshot(punch, offering) == before


def test_the_same_meeting_cannot_be_booked_twice(punch_on):
    punch = active_pass(punch_on)
    offering = make_offering()
    assert redeem(punch_on, punch, offering).status_code == 201
    before = snapshot(punch, offering)
    assert_error(redeem(punch_on, punch, offering), 409, "already_enrolled")
    assert snapshot(punch, offering) == before


def test_a_full_class_refuses_the_visit(punch_on):
    punch = active_pass(punch_on)
    offering = make_offering(capacity=1)
    other_family, other_kid = make_family("other@alpha.test")
    enrollment.cart_add(family=other_family, student_id=other_kid.pk, offering_id=offering.pk)
    before = snapshot(punch, offering)
    assert before[2] == 1
    assert_error(redeem(punch_on, punch, offering), 409, "offering_full")
    assert snapshot(punch, offering) == before
    # ...and the pass's picker does not offer it.
    assert offering not in punch_pass_targets(punch=punch, visible_kinds=["class"])


def test_the_last_seat_goes_to_a_visit_and_then_the_class_is_full(punch_on):
    today = tenant_today()
    offering = make_offering(capacity=1)
    first = active_pass(punch_on)
    assert redeem(punch_on, first, offering).status_code == 201
    other_family, other_kid = make_family("other@alpha.test")
    guardian = other_family.guardians.get()
    from kernel.users.services import api_token_issue

    _, token = api_token_issue(user=guardian.user, name="tests")
    connection.set_tenant(punch_on.tenant)
    theirs = PunchPass.objects.create(
        product=first.product,
        family=other_family,
        visits_total=10,
        visits_left=10,
        status="active",
        expires_on=today + timedelta(days=30),
    )
    response = client_for(punch_on.tenant, token=token).post(
        f"{API}/store/punch-passes/{theirs.pk}/redeem",
        {
            "offering": offering.pk,
            "meeting_date": offering.start_date.isoformat(),
            "student": other_kid.pk,
        },
        format="json",
    )
    assert_error(response, 409, "offering_full")
    theirs.refresh_from_db()
    assert theirs.visits_left == 10
    assert Enrollment.objects.count() == 1


def test_another_familys_pass_is_not_found(punch_on):
    other_family, other_kid = make_family("other@alpha.test")
    theirs = active_pass(punch_on, family=other_family)
    offering = make_offering()
    before = snapshot(theirs, offering)
    assert_error(
        redeem(punch_on, theirs, offering, student=punch_on.student.pk),
        404,
        "punch_pass_not_found",
    )
    assert_error(
        redeem(punch_on, theirs, offering, student=other_kid.pk), 404, "punch_pass_not_found"
    )
    assert snapshot(theirs, offering) == before


def test_unknown_offering_is_not_found(punch_on):
    punch = active_pass(punch_on)
    response = punch_on.client().post(
        f"{API}/store/punch-passes/{punch.pk}/redeem",
        {
            "offering": 999_999,
            "meeting_date": date(2030, 1, 7).isoformat(),
            "student": punch_on.student.pk,
        },
        format="json",
    )
    assert_error(response, 404, "offering_not_found")


# --- tenants and admin -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", f"{API}/store/punch-pass-products", None),
        ("get", f"{API}/store/punch-passes", None),
        ("post", f"{API}/store/punch-passes", {"product": 1}),
        (
            "post",
            f"{API}/store/punch-passes/1/redeem",
            {"offering": 1, "meeting_date": "2030-01-07", "student": 1},
        ),
    ],
)
def test_punch_pass_endpoints_stay_in_their_tenant(method, path, data, punch_on, tenant_b):
    with tenant_context(tenant_b):
        portal_settings_update(punch_passes_enabled=True)
        product(name="Beta secret swim pass")
    connection.set_tenant(punch_on.tenant)
    assert_cross_tenant_denied(
        credentials_client=punch_on.client(),
        target=tenant_b,
        method=method,
        path=path,
        data=data,
        forbidden_text=["Beta secret swim pass"],
    )
    with tenant_context(tenant_b):
        assert not Order.objects.exists() and not PunchPass.objects.exists()
        assert not Enrollment.objects.exists()


def test_staff_manage_products_and_void_passes_in_the_admin(punch_on, in_tenant_a):
    staff = make_actor(in_tenant_a, email="desk@alpha.test", staff=True, superuser=True)
    client = client_for(in_tenant_a)
    with tenant_context(in_tenant_a):
        client.force_login(staff.user)
    response = client.post(
        "/admin/portal_store/punchpassproduct/add/",
        {
            "name": "5 drop-in classes",
            "description": "",
            "visits": 5,
            "price": 7500,
            "valid_days": 60,
            "scope": "family",
            "kind": "class",
            "program": "",
            "is_active": "on",
            "sort_order": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    connection.set_tenant(in_tenant_a)
    created = PunchPassProduct.objects.get(name="5 drop-in classes")
    punch = active_pass(punch_on, product=created)
    for path in (
        "/admin/portal_store/punchpassproduct/",
        "/admin/portal_store/punchpass/?q=drop-in",
        f"/admin/portal_store/punchpass/{punch.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "5 drop-in classes" in response.content.decode()
    response = client.post(
        "/admin/portal_store/punchpass/", {"action": "void", "_selected_action": [punch.pk]}
    )
    assert response.status_code == 302
    connection.set_tenant(in_tenant_a)
    assert PunchPass.objects.get(pk=punch.pk).status == "void"
