"""Camps booked by the day or the week: choosing, pricing, seats counted per day, and every
place an enrollment's days show (schedule, roster, drop credit)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from portal.attendance.selectors import meeting_enrollments
from portal.config.services import portal_settings_update
from portal.enrollment import camp_days, selectors, services
from portal.enrollment.models import Enrollment, Hold, Order
from portal.orders import services as orders
from portal.requests.selectors import family_meetings
from portal.requests.staff import drop_credit_amount
from tests.helpers import assert_cross_tenant_denied, assert_error, make_actor
from tests.portal.enrollment_helpers import make_family, make_offering, next_weekday

pytestmark = pytest.mark.django_db
API = "/api/v1"


def day_camp(**kwargs):
    """Two weeks of camp, Monday to Friday, booked by the day at 45.00 (capacity 2)."""
    start = next_weekday(0)
    defaults = dict(
        name="Summer Day Camp",
        kind="camp",
        camp_selection="day",
        camp_unit_price=4500,
        tuition=40000,
        capacity=2,
        start_date=start,
        end_date=start + timedelta(days=11),
        weekdays=[],
    )
    defaults.update(kwargs)
    return make_offering(**defaults)


def week_camp(**kwargs):
    return day_camp(name="Week Camp", camp_selection="week", camp_unit_price=19000, **kwargs)


def iso(day) -> str:
    return day.isoformat()


def add(actor, offering, days, student=None):
    return actor.client().post(
        f"{API}/cart/items",
        {"offering": offering.pk, "student": (student or actor.student).pk, "days": days},
        format="json",
    )


def state(offering):
    """What a refusal must leave as it was."""
    offering.refresh_from_db()
    return (
        offering.seats_taken,
        Hold.objects.filter(offering=offering).count(),
        Enrollment.objects.filter(offering=offering).count(),
    )


# --- choosing and pricing --------------------------------------------------------------------


def test_two_days_are_held_and_priced_per_day(family_a):
    camp = day_camp()
    monday, tuesday = camp.start_date, camp.start_date + timedelta(days=1)
    response = add(family_a, camp, [iso(tuesday), iso(monday)])
    assert response.status_code == 201, response.content
    cart = response.json()
    (item,) = cart["items"]
    assert item["camp_days"] == [iso(monday), iso(tuesday)]
    assert item["tuition"] == 9000
    (line,) = cart["lines"]
    assert line["amount"] == 9000
    assert f"2 days: {monday:%b %-d}, {tuesday:%b %-d}" in line["description"]
    assert cart["total"] == 9000
    hold = Hold.objects.get(offering=camp)
    assert hold.camp_days == [monday, tuesday]


def test_a_week_covers_its_days_and_is_priced_per_week(family_a):
    camp = week_camp()
    second_week = camp.start_date + timedelta(days=7)
    response = add(family_a, camp, [iso(second_week)])
    assert response.status_code == 201, response.content
    hold = Hold.objects.get(offering=camp)
    assert hold.camp_days == [second_week + timedelta(days=i) for i in range(5)]
    cart = response.json()
    assert cart["total"] == 19000
    assert f"1 week of {second_week:%b %-d}" in cart["lines"][0]["description"]


def test_the_multi_class_discount_is_taken_off_the_chosen_days_price(family_a):
    portal_settings_update(multi_class_discount_percents="0,10")
    camp = day_camp(camp_unit_price=5000)
    weekly = make_offering(name="Rec Gym", tuition=2000, start_time=camp.end_time.replace(hour=18),
                           end_time=camp.end_time.replace(hour=19))  # fmt: skip
    first_three = [iso(camp.start_date + timedelta(days=i)) for i in range(3)]
    assert add(family_a, camp, first_three).status_code == 201
    cart = add(family_a, weekly, []).json()
    # The camp (15000) is the dearer item, so the 10% goes on the weekly class's 2000.
    discount = [line for line in cart["lines"] if line["kind"] == "multi_class_discount"]
    assert [line["amount"] for line in discount] == [-200]
    assert cart["total"] == 15000 + 2000 - 200


# --- capacity per day ------------------------------------------------------------------------


def test_a_day_is_full_while_the_others_keep_their_seats(family_a):
    camp = day_camp(capacity=1)
    monday, tuesday = camp.start_date, camp.start_date + timedelta(days=1)
    other, kid = make_family("other@alpha.test")
    services.cart_add(family=other, student_id=kid.pk, offering_id=camp.pk, days=[iso(monday)])
    before = state(camp)
    response = add(family_a, camp, [iso(monday), iso(tuesday)])
    body = assert_error(
        response, 409, "camp_day_full", "A day you chose is full: choose other days."
    )
    assert body["fields"] == {"days": [iso(monday)]}
    assert state(camp) == before  # nothing held for Tuesday either
    assert add(family_a, camp, [iso(tuesday)]).status_code == 201
    camp.refresh_from_db()
    assert camp.openings == 1  # Wednesday onwards still have their seat: the camp shows open

    detail = family_a.client().get(f"{API}/offerings/{camp.pk}").json()
    choices = {c["start"]: c for c in detail["camp_choices"]}
    assert choices[iso(monday)]["status"] == "FULL" and choices[iso(monday)]["seats_left"] == 0
    assert choices[iso(tuesday)]["status"] == "FULL"
    wednesday = iso(camp.start_date + timedelta(days=2))
    assert choices[wednesday] == {
        "start": wednesday,
        "end": wednesday,
        "days": [wednesday],
        "price": 4500,
        "status": "OPEN",
        "seats_left": 1,
    }


def test_every_day_full_shows_full_and_the_waitlist_is_not_offered(family_a):
    camp = day_camp(capacity=1, end_date=next_weekday(0) + timedelta(days=1))  # Mon, Tue
    other, kid = make_family("other@alpha.test")
    days = [iso(camp.start_date), iso(camp.start_date + timedelta(days=1))]
    services.cart_add(family=other, student_id=kid.pk, offering_id=camp.pk, days=days)
    detail = family_a.client().get(f"{API}/offerings/{camp.pk}").json()
    assert detail["availability"]["status"] == "FULL"
    response = family_a.client().post(
        f"{API}/waitlist", {"offering": camp.pk, "student": family_a.student.pk}, format="json"
    )
    assert_error(response, 409, "camp_booked_by_day")


def test_a_hold_that_lapses_frees_only_its_days(family_a):
    camp = day_camp(capacity=1)
    monday = camp.start_date
    other, kid = make_family("other@alpha.test")
    services.cart_add(family=other, student_id=kid.pk, offering_id=camp.pk, days=[iso(monday)])
    assert_error(add(family_a, camp, [iso(monday)]), 409, "camp_day_full")
    Hold.objects.filter(family=other).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert add(family_a, camp, [iso(monday)]).status_code == 201
    assert Hold.objects.get(family=other).status == "expired"


def test_the_openings_setting_hides_the_seat_numbers(family_a):
    portal_settings_update(openings_display="full_open")
    camp = day_camp()
    detail = family_a.client().get(f"{API}/offerings/{camp.pk}").json()
    assert detail["camp_selection"] == "day" and detail["camp_unit_price"] == 4500
    assert {c["seats_left"] for c in detail["camp_choices"]} == {None}
    assert len(detail["camp_choices"]) == 10


def test_days_already_past_are_not_offered(family_a):
    start = next_weekday(0, after_days=-14)
    camp = day_camp(start_date=start, end_date=start + timedelta(days=25))
    today = timezone.localdate()
    choices = selectors.camp_choices(camp, portal=_portal())
    assert choices and all(unit.start >= today for unit in choices)
    past = next(day for day in camp.meetings() if day < today)
    assert_error(add(family_a, camp, [iso(past)]), 400, "camp_day_not_in_camp")


def _portal():
    from portal.config.selectors import portal_settings_get

    return portal_settings_get()


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "days", "status", "code"),
    [
        ("day", [], 400, "camp_days_required"),
        ("day", ["2001-01-01"], 400, "camp_day_not_in_camp"),
        ("day", ["SATURDAY"], 400, "camp_day_not_in_camp"),
        ("week", ["TUESDAY_OF_WEEK"], 400, "camp_day_not_in_camp"),
        ("whole", ["MONDAY"], 400, "camp_days_not_selectable"),
        ("class", ["MONDAY"], 400, "camp_days_not_selectable"),
    ],
)
def test_bad_days_are_refused_with_a_code_and_nothing_changes(family_a, which, days, status, code):
    if which == "class":
        offering = make_offering(start_date=next_weekday(0))
    else:
        offering = day_camp(camp_selection=which)
    start = offering.start_date
    named = {
        "MONDAY": iso(start),
        "SATURDAY": iso(start + timedelta(days=5)),
        "TUESDAY_OF_WEEK": iso(start + timedelta(days=1)),
    }
    before = state(offering)
    response = add(family_a, offering, [named.get(d, d) for d in days])
    assert_error(response, status, code)
    assert state(offering) == before


@pytest.mark.parametrize("days", [["not-a-date"], "2027-01-01", [None], [["x"]]])
def test_malformed_days_are_invalid_input(family_a, days):
    camp = day_camp()
    response = add(family_a, camp, days)
    body = assert_error(response, 400, "invalid_input")
    assert "days" in body["fields"]
    assert state(camp) == (0, 0, 0)


def test_a_transfer_into_a_camp_booked_by_the_day_is_refused(family_a):
    from portal.requests.services import transfer_request

    weekly = make_offering(name="Rec Gym")
    services.cart_add(family=family_a.family, student_id=family_a.student.pk, offering_id=weekly.pk)
    orders.order_confirm(order_id=orders.checkout(family=family_a.family).pk)
    enrollment = Enrollment.objects.get(offering=weekly)
    with pytest.raises(ApplicationError) as caught:
        transfer_request(
            family=family_a.family, enrollment_id=enrollment.pk, offering_id=day_camp().pk
        )
    assert caught.value.code == "camp_booked_by_day"


# --- after checkout: enrollment, receipt, schedule, roster, drop -----------------------------


def _enroll_days(family, student, camp, days) -> Enrollment:
    services.cart_add(family=family, student_id=student.pk, offering_id=camp.pk, days=days)
    order = orders.checkout(family=family)
    orders.order_confirm(order_id=order.pk)
    return Enrollment.objects.get(student=student, offering=camp)


def test_checkout_enrolls_for_the_chosen_days_only(family_a):
    camp = day_camp()
    tuesday, thursday = camp.start_date + timedelta(days=1), camp.start_date + timedelta(days=3)
    enrollment = _enroll_days(
        family_a.family, family_a.student, camp, [iso(tuesday), iso(thursday)]
    )
    assert enrollment.status == "active"
    assert enrollment.camp_days == [tuesday, thursday]
    assert enrollment.start_date == tuesday
    order = Order.objects.get(family=family_a.family)
    assert order.total == 9000
    assert "2 days" in order.lines.get().description

    assert selectors.next_meetings(enrollment, count=5) == [tuesday, thursday]
    schedule = family_meetings(family=family_a.family, start=camp.start_date, end=camp.end_date)
    assert [m.day for m in schedule] == [tuesday, thursday]
    api = family_a.client().get(f"{API}/enrollments").json()
    (row,) = api
    assert row["camp_days"] == [iso(tuesday), iso(thursday)]
    assert row["next_meetings"] == [iso(tuesday), iso(thursday)]
    receipt = family_a.client().get(f"{API}/orders/{order.pk}").json()
    assert receipt["total"] == 9000


def test_the_roster_lists_a_day_camper_only_on_their_days(family_a):
    camp = day_camp()
    monday, tuesday = camp.start_date, camp.start_date + timedelta(days=1)
    other, kid = make_family("whole@alpha.test")
    whole = _enroll_days(other, kid, camp, [iso(d) for d in camp.meetings()])
    mine = _enroll_days(family_a.family, family_a.student, camp, [iso(tuesday)])
    assert list(meeting_enrollments(camp, monday)) == [whole]
    assert sorted(e.pk for e in meeting_enrollments(camp, tuesday)) == sorted([whole.pk, mine.pk])


def test_the_drop_credit_counts_the_chosen_days_left(family_a):
    camp = day_camp()
    days = [camp.start_date + timedelta(days=i) for i in (0, 2, 4)]
    enrollment = _enroll_days(family_a.family, family_a.student, camp, [iso(d) for d in days])
    # Paid 3 x 45.00; dropped after the first day, two days are unused.
    assert drop_credit_amount(enrollment, days[0]) == 9000
    assert drop_credit_amount(enrollment, days[1]) == 4500
    assert drop_credit_amount(enrollment, days[2]) == 0


def test_seats_per_day_count_enrollments_and_holds_together(family_a):
    camp = day_camp(capacity=2)
    monday = camp.start_date
    one, kid_one = make_family("one@alpha.test")
    _enroll_days(one, kid_one, camp, [iso(monday)])
    two, kid_two = make_family("two@alpha.test")
    services.cart_add(family=two, student_id=kid_two.pk, offering_id=camp.pk, days=[iso(monday)])
    counts = camp_days.day_counts(camp, _portal())
    assert counts[monday] == 2 and counts[monday + timedelta(days=1)] == 0
    assert_error(add(family_a, camp, [iso(monday)]), 409, "camp_day_full")


# --- tenants -----------------------------------------------------------------------------------


def test_another_tenant_sees_nothing_of_a_camp_or_its_days(family_a, tenant_b):
    camp = day_camp(name="Alpha Day Camp")
    assert_cross_tenant_denied(
        credentials_client=family_a.client(),
        target=tenant_b,
        method="post",
        path=f"{API}/cart/items",
        data={"offering": camp.pk, "student": family_a.student.pk, "days": [iso(camp.start_date)]},
        forbidden_text=["Alpha Day Camp", "Rivera"],
    )
    with tenant_context(tenant_b):
        assert not Hold.objects.exists()


# --- staff: how a camp is booked and its price (staff API) ------------------------------------


def _staff(tenant, role: str, email: str):
    actor = make_actor(tenant, email=email, role=role)
    connection.set_tenant(tenant)  # make_actor leaves the public schema
    return actor


def _booking(actor, offering, **body):
    path = f"{API}/staff/offerings/{offering.pk}/camp-booking"
    client = actor.client()
    return client.patch(path, body, format="json") if body else client.get(path)


def test_a_manager_books_a_camp_per_week_and_prices_it(in_tenant_a):
    from portal.privacy.models import AuditEntry

    manager = _staff(in_tenant_a, "manager", "manager@alpha.test")
    camp = day_camp(camp_selection="whole", camp_unit_price=0)
    response = _booking(manager, camp, camp_selection="week", camp_unit_price=17500)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": camp.pk,
        "name": "Summer Day Camp",
        "kind": "camp",
        "camp_selection": "week",
        "camp_unit_price": 17500,
        "tuition": 40000,
        "currency": "USD",
    }
    camp.refresh_from_db()
    assert (camp.camp_selection, camp.camp_unit_price) == ("week", 17500)
    entry = AuditEntry.objects.get(action="camp_booking_change")
    assert entry.fields["camp_unit_price"] == [0, 17500]
    assert _booking(manager, camp).json()["camp_selection"] == "week"


@pytest.mark.parametrize("role", ["front_desk", "coach"])
def test_other_roles_and_families_cannot_change_how_a_camp_is_booked(in_tenant_a, family_a, role):
    actor = _staff(in_tenant_a, role, f"{role}@alpha.test")
    camp = day_camp()
    assert_error(_booking(actor, camp, camp_unit_price=1), 403, "staff_permission_required")
    assert _booking(family_a, camp, camp_unit_price=1).status_code == 403
    camp.refresh_from_db()
    assert camp.camp_unit_price == 4500


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"camp_unit_price": -1}, 400, "invalid_input", "camp_unit_price"),
        ({"camp_unit_price": "lots"}, 400, "invalid_input", "camp_unit_price"),
        ({"camp_selection": "fortnight"}, 400, "invalid_input", "camp_selection"),
        ({"camp_selection": "day", "on": "class"}, 400, "invalid_input", "camp_selection"),
    ],
)
def test_bad_camp_booking_input_changes_nothing(in_tenant_a, body, status, code, field):
    owner = _staff(in_tenant_a, "owner", "owner2@alpha.test")
    offering = make_offering(name="Rec Gym") if body.pop("on", "") else day_camp()
    before = (offering.camp_selection, offering.camp_unit_price)
    response = _booking(owner, offering, **body)
    assert field in assert_error(response, status, code)["fields"]
    offering.refresh_from_db()
    assert (offering.camp_selection, offering.camp_unit_price) == before


def test_how_a_camp_is_booked_is_locked_once_families_hold_seats(in_tenant_a, family_a):
    owner = _staff(in_tenant_a, "owner", "owner2@alpha.test")
    camp = day_camp()
    assert add(family_a, camp, [iso(camp.start_date)]).status_code == 201
    assert_error(_booking(owner, camp, camp_selection="whole"), 409, "camp_selection_locked")
    assert _booking(owner, camp, camp_unit_price=5000).json()["camp_unit_price"] == 5000
    assert_error(
        _booking(owner, type("Missing", (), {"pk": 999999})(), camp_unit_price=1),
        404,
        "offering_not_found",
    )


def test_another_business_cannot_read_or_change_a_camp(in_tenant_a, tenant_b):
    owner_b = _staff(tenant_b, "owner", "owner2@beta.test")
    connection.set_tenant(in_tenant_a)
    camp = day_camp(name="Alpha Day Camp")
    assert_cross_tenant_denied(
        credentials_client=owner_b.client(),
        target=in_tenant_a,
        method="patch",
        path=f"{API}/staff/offerings/{camp.pk}/camp-booking",
        data={"camp_unit_price": 1},
        forbidden_text=["Alpha Day Camp"],
    )
    camp.refresh_from_db()
    assert camp.camp_unit_price == 4500


def test_holding_a_lapsed_camp_again_holds_the_same_days(family_a):
    camp = day_camp()
    days = [camp.start_date + timedelta(days=1), camp.start_date + timedelta(days=3)]
    services.cart_add(
        family=family_a.family, student_id=family_a.student.pk, offering_id=camp.pk, days=days
    )
    Hold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    services.cart_refresh(family=family_a.family)
    held, refused = services.cart_hold_again(
        family=family_a.family, items=[(family_a.student.pk, camp.pk)]
    )
    assert not refused and len(held) == 1
    assert held[0].camp_days == days and held[0].status == "active"


def test_the_console_family_page_shows_the_days_booked(family_a):
    from django.test import Client

    from kernel.users.models import User
    from tests.helpers import host_of

    camp = day_camp()
    tuesday = camp.start_date + timedelta(days=1)
    _enroll_days(family_a.family, family_a.student, camp, [iso(tuesday)])
    owner = User.objects.get(email=family_a.tenant.owner_email)
    client = Client(HTTP_HOST=host_of(family_a.tenant))
    client.force_login(owner)
    connection.set_tenant(family_a.tenant)
    page = client.get(f"/console/families/{family_a.family.pk}/").content.decode()
    assert "1 day:" in page and f'datetime="{iso(tuesday)}"' in page
