from datetime import date, time, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.accounts.models import Family
from portal.activity.models import ActivityItem
from portal.billing.models import LedgerEntry
from portal.catalog.models import Offering
from portal.config.services import portal_settings_update
from portal.enrollment import services
from portal.enrollment.models import Enrollment, Hold, Order, RegistrationFeeCharge
from portal.enrollment.tasks import expire_due_task, hold_expire_task
from portal.orders import services as orders
from portal.orders.tasks import orders_expire_due_task
from portal.privacy.models import AuditEntry
from tests.factories import LevelFactory, ProgramFactory, StudentFactory
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, tenant_today
from tests.portal.enrollment_helpers import (
    make_family,
    make_offering,
    next_weekday,
    post_charge,
    seats,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"


def add(actor, offering, student=None, **extra):
    return actor.client().post(
        f"{API}/cart/items",
        {"offering": offering.pk, "student": (student or actor.student).pk, **extra},
        format="json",
    )


# --- cart ----------------------------------------------------------------------------------


def test_adding_holds_a_seat_with_a_countdown_and_prices(family_a):
    offering = make_offering(name="Rec Gym", tuition=12000, registration_fee=2500)
    response = add(family_a, offering)
    assert response.status_code == 201, response.content
    cart = response.json()
    (item,) = cart["items"]
    assert item["offering"]["name"] == "Rec Gym"
    assert 14 * 60 < item["seconds_left"] <= 15 * 60
    assert [line["kind"] for line in cart["lines"]] == ["tuition", "registration_fee"]
    assert (cart["subtotal"], cart["total"], cart["currency"]) == (14500, 14500, "USD")
    assert seats(offering) == (1, 0)


def test_a_full_offering_is_refused_and_nothing_changes(family_a):
    offering = make_offering(capacity=1)
    other, kid = make_family("other@alpha.test")
    services.cart_add(family=other, student_id=kid.pk, offering_id=offering.pk)
    response = add(family_a, offering)
    assert_error(response, 409, "offering_full")
    assert Hold.objects.filter(family=family_a.family).count() == 0
    assert seats(offering) == (1, 0)


def test_removing_an_item_and_abandoning_the_cart_release_seats(family_a):
    a, b = make_offering(), make_offering(weekdays=[2], start_date=next_weekday(2))
    add(family_a, a)
    add(family_a, b)
    hold = Hold.objects.get(offering=a)
    assert family_a.client().delete(f"{API}/cart/items/{hold.pk}").status_code == 204
    assert seats(a) == (0, 0) and seats(b) == (1, 0)
    assert family_a.client().delete(f"{API}/cart").status_code == 204
    assert seats(b) == (0, 0)
    assert family_a.client().get(f"{API}/cart").json()["items"] == []


def test_another_familys_student_and_hold_are_not_found(family_a):
    offering = make_offering()
    other, kid = make_family("other@alpha.test")
    assert_error(add(family_a, offering, student=kid), 404, "student_not_found")
    hold = services.cart_add(family=other, student_id=kid.pk, offering_id=offering.pk)
    assert_error(
        family_a.client().delete(f"{API}/cart/items/{hold.pk}"), 404, "cart_item_not_found"
    )
    hold.refresh_from_db()
    assert hold.status == "active"


@pytest.mark.parametrize(
    "body", [{}, {"offering": "x", "student": 1}, {"offering": 0, "student": 1}]
)
def test_cart_bad_input(body, family_a):
    assert_error(
        family_a.client().post(f"{API}/cart/items", body, format="json"), 400, "invalid_input"
    )
    assert not Hold.objects.exists()


def test_unknown_draft_or_hidden_offerings_are_not_found(family_a):
    assert_error(add(family_a, Offering(pk=999999)), 404, "offering_not_found")
    assert_error(add(family_a, make_offering(status="draft")), 404, "offering_not_found")
    portal_settings_update(show_camps=False)
    camp = make_offering(kind="camp", weekdays=[])
    assert_error(add(family_a, camp), 404, "offering_not_found")


# --- eligibility -----------------------------------------------------------------------------


def test_age_gender_and_level_rules(family_a):
    kid = family_a.student  # born 2018-05-01, female, no level
    start = next_weekday(0)
    age = start.year - 2018 - (1 if (start.month, start.day) < (5, 1) else 0)
    assert_error(add(family_a, make_offering(min_age=age + 1)), 409, "too_young")
    assert_error(add(family_a, make_offering(max_age=age - 1)), 409, "too_old")
    assert_error(add(family_a, make_offering(gender="male")), 409, "gender_restricted")
    program = ProgramFactory()
    beginner = LevelFactory(program=program, position=1, name="Beginner")
    advanced = LevelFactory(program=program, position=2, name="Advanced")
    assert_error(
        add(family_a, make_offering(program=program, levels=[advanced])), 409, "level_required"
    )
    assert add(family_a, make_offering(program=program, levels=[beginner])).status_code == 201
    kid.level = advanced
    kid.save()
    assert_error(
        add(
            family_a,
            make_offering(
                program=program, levels=[beginner], weekdays=[3], start_date=next_weekday(3)
            ),
        ),
        409,
        "level_mismatch",
    )


def test_age_is_taken_on_the_start_date(family_a):
    start = next_weekday(0, after_days=30)
    family_a.student.date_of_birth = date(start.year - 6, start.month, start.day) - timedelta(
        days=1
    )
    family_a.student.save()
    assert add(family_a, make_offering(min_age=6, start_date=start)).status_code == 201
    family_a.student.date_of_birth += timedelta(days=2)  # turns 6 the day after the start
    family_a.student.save()
    response = add(
        family_a,
        make_offering(
            min_age=6,
            start_date=start,
            weekdays=[start.weekday()],
            start_time=time(9),
            end_time=time(10),
        ),
    )
    assert_error(response, 409, "too_young")


def test_registration_window(family_a):
    today = tenant_today()
    now = timezone.now()
    assert_error(
        add(family_a, make_offering(registration_opens_at=now + timedelta(days=1))),
        409,
        "registration_not_open",
    )
    assert_error(
        add(family_a, make_offering(registration_closes_at=now - timedelta(minutes=1))),
        409,
        "registration_closed",
    )
    started = make_offering(start_date=today - timedelta(days=14), weekdays=[0, 1, 2, 3, 4, 5, 6])
    portal_settings_update(enrollment_cutoff_minutes_after_start=30)
    assert_error(add(family_a, started), 409, "registration_closed")
    portal_settings_update(enrollment_cutoff_minutes_after_start=None)
    assert add(family_a, started).status_code == 201


def test_priority_window_for_returning_families_and_keywords(family_a):
    today = tenant_today()
    now = timezone.now()
    portal_settings_update(
        priority_registration_starts_at=now - timedelta(hours=1),
        priority_registration_ends_at=now + timedelta(days=1),
        priority_registration_mode="returning",
    )
    offering = make_offering()
    assert_error(add(family_a, offering), 403, "priority_registration_only")
    portal_settings_update(priority_registration_mode="keyword", priority_keywords="GOLDSTAR")
    assert_error(add(family_a, offering, keyword="silver"), 403, "priority_keyword_required")
    assert add(family_a, offering, keyword="goldstar").status_code == 201
    portal_settings_update(priority_registration_mode="keyword_or_returning")
    Enrollment.objects.create(
        family=family_a.family,
        student=family_a.student,
        offering=make_offering(
            start_date=today - timedelta(days=200), end_date=today - timedelta(days=100)
        ),
        status="dropped",
        start_date=today - timedelta(days=200),
    )
    other = make_offering(weekdays=[4], start_date=next_weekday(4))
    assert add(family_a, other).status_code == 201  # returning now


def test_new_and_inactive_family_rules(family_a):
    offering = make_offering()
    portal_settings_update(new_families_may_enroll=False)
    assert_error(add(family_a, offering), 403, "new_families_closed")
    portal_settings_update(
        new_families_may_enroll=True,
        new_family_enrollment_opens_at=timezone.now() + timedelta(days=2),
    )
    assert_error(add(family_a, offering), 403, "new_families_not_yet")
    portal_settings_update(new_family_enrollment_opens_at=None, inactive_families_may_enroll=False)
    Family.objects.filter(pk=family_a.family.pk).update(status="inactive")
    assert_error(
        add(family_a, offering),
        403,
        "inactive_family",
        "Your account is inactive. Please contact us to enroll again.",
    )
    assert not Hold.objects.exists()


def test_past_due_comes_from_the_ledger(family_a):
    """A charge is past due once it is older than the business's grace period and not settled
    by payments or credits (oldest first); nothing a person types by hand."""
    offering = make_offering(tuition=0)
    post_charge(family_a.family, 5000, days_ago=2)  # owed, not yet past due (7 days' grace)
    assert add(family_a, offering).status_code == 201
    family_a.client().delete(f"{API}/cart")
    post_charge(family_a.family, 3000, days_ago=30)  # past due
    response = add(family_a, offering)
    assert_error(response, 403, "past_due_balance")
    assert response.json()["fields"]["past_due"] == ["3000"]
    assert family_a.client().get(f"{API}/ledger").json()["past_due"] == 3000
    post_charge(family_a.family, -3000, days_ago=0, kind="payment")  # pays the oldest first
    assert family_a.client().get(f"{API}/ledger").json()["past_due"] == 0
    assert add(family_a, offering).status_code == 201
    portal_settings_update(past_due_after_days=0)  # no grace: the 5000 is past due at once
    family_a.client().delete(f"{API}/cart")
    assert_error(add(family_a, offering), 403, "past_due_balance")


def test_past_due_balance_blocks_or_becomes_a_request(family_a):
    post_charge(family_a.family, 5000, days_ago=30)
    offering = make_offering(tuition=0)
    assert_error(add(family_a, offering), 403, "past_due_balance")
    portal_settings_update(past_due_policy="request")
    assert add(family_a, offering).status_code == 201
    order = family_a.client().post(f"{API}/checkout", {}, format="json").json()
    assert order["status"] == "confirmed"
    assert Enrollment.objects.get(order_id=order["id"]).status == "pending"


def test_already_enrolled_in_cart_and_schedule_clash(family_a):
    offering = make_offering(start_time=time(16), end_time=time(17))
    assert add(family_a, offering).status_code == 201
    assert_error(add(family_a, offering), 409, "already_in_cart")
    clash = make_offering(name="Swim", start_time=time(16, 30), end_time=time(17, 30))
    assert_error(
        add(family_a, clash),
        409,
        "schedule_clash",
        f"Mia already has {offering.name} at that time.",
    )
    later = make_offering(name="Later", start_time=time(17), end_time=time(18))
    assert add(family_a, later).status_code == 201  # back to back is fine
    family_a.client().post(f"{API}/checkout", {}, format="json")
    orders.order_confirm(order_id=Order.objects.get().pk)
    assert_error(add(family_a, offering), 409, "already_enrolled")


# --- expiry ----------------------------------------------------------------------------------


def test_expired_holds_are_released_on_read_and_by_the_sweep_once(family_a):
    offering = make_offering(capacity=2)
    add(family_a, offering)
    Hold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert seats(offering) == (1, 0)  # nobody has looked yet
    assert family_a.client().get(f"{API}/cart").json()["items"] == []  # check on read
    assert seats(offering) == (0, 0)
    assert Hold.objects.get().status == "expired"
    add(family_a, offering)
    Hold.objects.filter(status="active").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_due_task() == 1
    assert expire_due_task() == 0  # running it twice changes nothing more
    assert seats(offering) == (0, 0)
    assert sorted(Hold.objects.values_list("status", flat=True)) == ["expired", "expired"]


def test_the_scheduled_expiry_task_is_idempotent(family_a):
    offering = make_offering()
    add(family_a, offering)
    hold = Hold.objects.get()
    assert hold_expire_task(hold.pk) == "not_due"
    Hold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert hold_expire_task(hold.pk) == "expired"
    assert hold_expire_task(hold.pk) == "expired"
    assert hold_expire_task(999999) == "missing"
    assert seats(offering) == (0, 0)


def test_families_are_warned_before_a_hold_lapses(family_a, django_capture_on_commit_callbacks):
    add(family_a, make_offering(name="Rec Gym"))
    Hold.objects.update(expires_at=timezone.now() + timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        expire_due_task()
        expire_due_task()
    (message,) = mail.outbox
    assert message.subject == "Your cart at Alpha Gymnastics is about to expire"
    assert "Rec Gym" in message.body


# --- checkout --------------------------------------------------------------------------------


def test_a_free_checkout_confirms_at_once(family_a, django_capture_on_commit_callbacks):
    offering = make_offering(tuition=0, name="Open House")
    add(family_a, offering)
    with django_capture_on_commit_callbacks(execute=True):
        response = family_a.client().post(f"{API}/checkout", {}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "confirmed" and response.json()["total"] == 0
    enrollment = Enrollment.objects.get()
    assert enrollment.status == "active" and enrollment.start_date == offering.start_date
    assert seats(offering) == (1, 0)
    assert any(m.subject == "You're enrolled at Alpha Gymnastics" for m in mail.outbox)
    # Written in their final status: one history row and one audit entry each, no update.
    order = Order.objects.get()
    assert order.confirmed_at is not None and order.confirmed_at == order.created_at
    assert [e.pgh_label for e in enrollment.events.all()] == ["insert"]
    assert [(e.pgh_label, e.status) for e in order.events.all()] == [("insert", "confirmed")]
    audit = AuditEntry.objects.filter(
        object_type__in=["portal_enrollment.enrollment", "portal_enrollment.order"]
    )
    assert sorted((a.object_type, a.action, a.fields["status"]) for a in audit) == [
        ("portal_enrollment.enrollment", "create", "active"),
        ("portal_enrollment.order", "create", "confirmed"),
    ]
    assert ActivityItem.objects.get(kind="enrollment").summary == "Mia: Open House (enrolled)"
    assert LedgerEntry.objects.get(order=order).amount == 0
    # Checking out the same cart again returns the same order.
    again = family_a.client().post(f"{API}/checkout", {}, format="json")
    assert again.json()["id"] == order.pk and Order.objects.count() == 1


def test_a_free_checkout_of_a_request_class_is_pending_at_once(family_a):
    portal_settings_update(
        registration_mode="request", pending_requests_count_against_openings=True
    )
    offering = make_offering(tuition=0, capacity=2)
    add(family_a, offering)
    response = family_a.client().post(f"{API}/checkout", {}, format="json")
    assert response.json()["status"] == "confirmed"
    enrollment = Enrollment.objects.get()
    assert enrollment.status == "pending"
    assert [e.pgh_label for e in enrollment.events.all()] == ["insert"]
    assert seats(offering) == (1, 0)  # counted, as the setting says
    assert ActivityItem.objects.get().summary.endswith("(pending approval)")


def test_a_paid_checkout_reserves_until_paid_then_enrolls(family_a):
    offering = make_offering(tuition=9000)
    add(family_a, offering)
    order = family_a.client().post(f"{API}/checkout", {}, format="json").json()
    assert order["status"] == "awaiting_payment" and order["total"] == 9000
    assert Enrollment.objects.get().status == "reserved"
    assert seats(offering) == (1, 0)
    orders.order_confirm(order_id=order["id"])
    orders.order_confirm(order_id=order["id"])  # twice: no change
    assert Enrollment.objects.get().status == "active"
    assert family_a.client().get(f"{API}/orders/{order['id']}").json()["status"] == "confirmed"


def test_an_unpaid_order_lapses_and_frees_its_seats(family_a):
    offering = make_offering(tuition=9000)
    add(family_a, offering)
    order = family_a.client().post(f"{API}/checkout", {}, format="json").json()
    Order.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_due_task() == 1  # the seats go back at once
    assert expire_due_task() == 0
    assert seats(offering) == (0, 0)
    assert orders_expire_due_task() == 1  # the order lapses (releasing what it tendered)
    assert orders_expire_due_task() == 0
    assert Order.objects.get().status == "expired"
    assert Enrollment.objects.get().status == "cancelled"
    assert seats(offering) == (0, 0)
    with pytest.raises(Exception) as excinfo:
        orders.order_confirm(order_id=order["id"])
    assert excinfo.value.code == "order_not_payable"


def test_double_submitted_checkout_makes_one_order(family_a):
    add(family_a, make_offering(tuition=5000))
    client = family_a.client()
    first = client.post(f"{API}/checkout", {}, format="json").json()
    second = client.post(f"{API}/checkout", {}, format="json").json()
    assert first["id"] == second["id"]
    assert Order.objects.count() == 1
    add(family_a, make_offering(tuition=5000, weekdays=[3], start_date=next_weekday(3)))
    keyed = client.post(f"{API}/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="abc-123").json()
    again = client.post(f"{API}/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="abc-123").json()
    assert keyed["id"] == again["id"] != first["id"]
    assert Order.objects.count() == 2


def test_an_expired_hold_at_checkout_is_refused(family_a):
    offering = make_offering()
    add(family_a, offering)
    Hold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = family_a.client().post(f"{API}/checkout", {}, format="json")
    assert_error(response, 409, "hold_expired")
    assert not Order.objects.exists() and not Enrollment.objects.exists()
    assert_error(family_a.client().post(f"{API}/checkout", {}, format="json"), 400, "cart_empty")


def test_rules_are_checked_again_at_checkout(family_a):
    offering = make_offering()
    add(family_a, offering)
    post_charge(family_a.family, 100, days_ago=60)
    assert_error(
        family_a.client().post(f"{API}/checkout", {}, format="json"), 403, "past_due_balance"
    )
    assert not Order.objects.exists()
    assert Hold.objects.get().status == "active"


def test_request_mode_creates_pending_enrollments_that_count_per_setting(family_a):
    portal_settings_update(registration_mode="request")
    offering = make_offering(tuition=0, capacity=1)
    add(family_a, offering)
    family_a.client().post(f"{API}/checkout", {}, format="json")
    assert Enrollment.objects.get().status == "pending"
    assert seats(offering) == (0, 0)  # pending requests do not hold a seat by default
    portal_settings_update(pending_requests_count_against_openings=True)
    services.offering_seats_changed(offering_id=offering.pk)
    assert seats(offering) == (1, 0)


def test_pricing_fees_once_per_year_and_discount_schedules(family_a):
    portal_settings_update(sibling_discount_percents="0,10", multi_class_discount_percents="0,20")
    sibling = StudentFactory(
        family=family_a.family, first_name="Leo", date_of_birth=date(2016, 1, 1)
    )
    gym = make_offering(name="Gym", tuition=10000, registration_fee=3000)
    ninja = make_offering(
        name="Ninja", tuition=8000, registration_fee=2000, weekdays=[2], start_date=next_weekday(2)
    )
    swim = make_offering(
        name="Swim", tuition=6000, registration_fee=0, weekdays=[4], start_date=next_weekday(4)
    )
    add(family_a, gym)
    add(family_a, ninja)
    add(family_a, swim, student=sibling)
    cart = family_a.client().get(f"{API}/cart").json()
    lines = {(line["kind"], line["amount"]) for line in cart["lines"]}
    # Mia: 10000 + 8000 less 20% of 8000 = 16400; Leo: 6000, second sibling: 10% = 600.
    assert ("multi_class_discount", -1600) in lines
    assert ("sibling_discount", -600) in lines
    assert [line["amount"] for line in cart["lines"] if line["kind"] == "registration_fee"] == [
        3000
    ]
    assert cart["total"] == 10000 + 8000 + 6000 + 3000 - 1600 - 600
    order = family_a.client().post(f"{API}/checkout", {}, format="json").json()
    orders.order_confirm(order_id=order["id"])
    assert RegistrationFeeCharge.objects.count() == 1
    add(
        family_a,
        make_offering(
            name="Extra",
            tuition=1000,
            registration_fee=3000,
            weekdays=[5],
            start_date=next_weekday(5),
        ),
    )
    cart = family_a.client().get(f"{API}/cart").json()
    assert [line["kind"] for line in cart["lines"]] == ["tuition"]  # fee already paid this year


def test_registration_fee_per_student(family_a):
    portal_settings_update(registration_fee_scope="student")
    sibling = StudentFactory(family=family_a.family, first_name="Leo")
    gym = make_offering(tuition=1000, registration_fee=2500)
    add(family_a, gym)
    add(family_a, gym, student=sibling)
    fees = [
        line
        for line in family_a.client().get(f"{API}/cart").json()["lines"]
        if line["kind"] == "registration_fee"
    ]
    assert [f["amount"] for f in fees] == [2500, 2500]


def test_enrollments_show_the_schedule(family_a):
    from tests.factories import StaffFactory

    offering = make_offering(
        tuition=0, name="Rec Gym", instructors=[StaffFactory(display_name="Coach Kim")]
    )
    add(family_a, offering)
    family_a.client().post(f"{API}/checkout", {}, format="json")
    (item,) = family_a.client().get(f"{API}/enrollments").json()
    assert item["offering"]["name"] == "Rec Gym" and item["status"] == "active"
    assert item["instructors"] == ["Coach Kim"]
    assert item["location"] == offering.location.name
    assert item["schedule"]["start_time"] == "16:00"
    assert item["next_meetings"][0] == offering.start_date.isoformat()
    assert len(item["next_meetings"]) == 3


def test_staff_release_a_hold_in_the_admin(family_a, in_tenant_a):
    from tests.helpers import make_actor

    offering = make_offering()
    add(family_a, offering)
    hold = Hold.objects.get()
    staff = make_actor(in_tenant_a, email="desk@alpha.test", staff=True, superuser=True)
    client = client_for(in_tenant_a)
    with tenant_context(in_tenant_a):
        client.force_login(staff.user)
    assert offering.name in client.get("/admin/portal_enrollment/hold/").content.decode()
    response = client.post(
        "/admin/portal_enrollment/hold/", {"action": "release_holds", "_selected_action": [hold.pk]}
    )
    assert response.status_code == 302
    connection.set_tenant(in_tenant_a)
    assert Hold.objects.get().status == "released"
    assert seats(offering) == (0, 0)


CART_ENDPOINTS = [
    ("get", f"{API}/cart", None),
    ("delete", f"{API}/cart", None),
    ("post", f"{API}/cart/items", {"offering": 1, "student": 1}),
    ("delete", f"{API}/cart/items/1", None),
    ("post", f"{API}/checkout", {}),
    ("get", f"{API}/orders", None),
    ("get", f"{API}/orders/1", None),
    ("get", f"{API}/enrollments", None),
    ("get", f"{API}/waitlist", None),
    ("post", f"{API}/waitlist", {"offering": 1, "student": 1}),
    ("delete", f"{API}/waitlist/1", None),
    ("post", f"{API}/waitlist/1/accept", None),
]


@pytest.mark.parametrize(("method", "path", "data"), CART_ENDPOINTS)
def test_cart_endpoints_need_a_family_and_stay_in_their_tenant(
    method, path, data, family_a, tenant_b
):
    import json

    anonymous = getattr(client_for(family_a.tenant), method)(
        path, data=json.dumps(data) if data is not None else None, content_type="application/json"
    )
    assert_error(anonymous, 401, "not_authenticated")
    assert_cross_tenant_denied(
        credentials_client=family_a.client(),
        target=tenant_b,
        method=method,
        path=path,
        data=data,
        forbidden_text=["Rivera"],
    )
    with tenant_context(tenant_b):
        assert not Hold.objects.exists() and not Order.objects.exists()
