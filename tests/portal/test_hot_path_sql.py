"""The hold's and checkout's plain-SQL lookups (issue 21, sixth pass) against what they replace:
the student's schedule clashes, "enrolled or in the cart?", the past-due amount and the cart's
lapsed seats, each case the ORM version answered."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db.models import Q, Sum
from django.utils import timezone

from kernel.errors import ApplicationError
from portal.billing.models import LedgerEntry
from portal.billing.selectors import past_due_amount
from portal.enrollment import eligibility, services
from portal.enrollment.models import Enrollment, Hold, Order
from portal.orders import services as orders
from tests.factories import StudentFactory
from tests.portal.enrollment_helpers import (
    accept_policies,
    enroll,
    make_offering,
    next_weekday,
    post_charge,
    seats,
)

pytestmark = pytest.mark.django_db


def _code(call) -> str | None:
    try:
        call()
    except ApplicationError as error:
        return error.code
    return None


def test_schedule_clashes_with_held_and_enrolled_classes_only(family_a):
    family, mia = family_a.family, family_a.student
    accept_policies(family)
    monday = next_weekday(0)
    new = make_offering(name="New", start_date=monday, start_time=time(16), end_time=time(17))
    enrolled = make_offering(name="Enrolled", start_date=monday, start_time=time(16, 30))
    enroll(family, mia, enrolled)
    check = lambda offering, **kw: _code(  # noqa: E731
        lambda: eligibility.check_schedule(mia, offering, **kw)
    )
    assert check(new) == "schedule_clash"
    # A dropped class, another weekday, dates that do not meet, back to back: no clash.
    Enrollment.objects.filter(offering=enrolled).update(status=Enrollment.Status.DROPPED)
    assert check(new) is None
    Enrollment.objects.filter(offering=enrolled).update(status=Enrollment.Status.ACTIVE)
    tuesday = make_offering(
        name="Tue", start_date=next_weekday(1), weekdays=[1], start_time=time(16)
    )
    assert check(tuesday) is None
    later = make_offering(
        name="Later", start_date=monday + timedelta(weeks=20), start_time=time(16)
    )
    assert check(later) is None
    after = make_offering(
        name="After", start_date=monday, start_time=time(17), end_time=time(17, 45)
    )
    assert check(after) is None
    # A held class clashes; an expired hold does not; the hold being converted is left out.
    held = make_offering(name="Held", start_date=monday, start_time=time(18), end_time=time(19))
    services.cart_add(family=family, student_id=mia.pk, offering_id=held.pk)
    evening = make_offering(
        name="Evening", start_date=monday, start_time=time(18, 30), end_time=time(19, 30)
    )
    assert check(evening) == "schedule_clash"
    hold = Hold.objects.get(offering=held)
    assert check(evening, ignore_hold=hold) is None
    Hold.objects.filter(pk=hold.pk).update(status=Hold.Status.EXPIRED)
    assert check(evening) is None
    # Another student's classes are not this one's.
    sib = StudentFactory(family=family, first_name="Sib")
    assert _code(lambda: eligibility.check_schedule(sib, new)) is None


def test_enrolled_or_in_the_cart(family_a):
    family, mia = family_a.family, family_a.student
    accept_policies(family)
    offering = make_offering(capacity=5)
    check = lambda **kw: _code(  # noqa: E731
        lambda: eligibility.check_not_taken(mia, offering, **kw)
    )
    assert check() is None
    services.cart_add(family=family, student_id=mia.pk, offering_id=offering.pk)
    hold = Hold.objects.get()
    assert check() == "already_in_cart"
    assert check(ignore_hold=hold) is None
    Hold.objects.filter(pk=hold.pk).update(status=Hold.Status.OFFER)  # a waitlist offer
    assert check() == "already_in_cart"
    Hold.objects.filter(pk=hold.pk).update(status=Hold.Status.EXPIRED)
    assert check() is None
    services.cart_add(family=family, student_id=mia.pk, offering_id=offering.pk)
    orders.order_confirm(order_id=orders.checkout(family=family).pk)
    assert check() == "already_enrolled"
    for status, code in (("pending", "already_enrolled"), ("dropped", None), ("cancelled", None)):
        Enrollment.objects.update(status=status)
        assert check() == code, status
    sib = StudentFactory(family=family, first_name="Sib")
    assert _code(lambda: eligibility.check_not_taken(sib, offering)) is None


def _past_due_by_orm(family, *, now, after_days: int) -> int:
    cutoff = now - timedelta(days=after_days)
    sums = LedgerEntry.objects.filter(family=family).aggregate(
        old_charges=Sum("amount", filter=Q(amount__gt=0, created_at__lte=cutoff)),
        settled=Sum("amount", filter=Q(amount__lt=0)),
        balance=Sum("amount"),
    )
    past_due = (sums["old_charges"] or 0) + (sums["settled"] or 0)
    return max(min(past_due, sums["balance"] or 0), 0)


def test_past_due_amount_is_the_ledgers(family_a):
    family = family_a.family
    now = timezone.now()
    ledgers = [
        [],
        [(5000, 2, "charge")],
        [(5000, 30, "charge")],
        [(5000, 30, "charge"), (3000, 10, "charge"), (-2000, 1, "payment")],
        [(5000, 30, "charge"), (-6000, 40, "credit")],
        [(-1000, 3, "credit")],
        [(4000, 8, "charge"), (1000, 6, "charge"), (-500, 0, "payment")],
    ]
    for entries in ledgers:
        LedgerEntry.objects.filter(family=family).delete()
        for amount, days_ago, kind in entries:
            post_charge(family, amount, days_ago=days_ago, kind=kind)
        for after_days in (0, 7, 60):
            got = past_due_amount(family, now=now, after_days=after_days)
            assert isinstance(got, int)
            assert got == _past_due_by_orm(family, now=now, after_days=after_days), entries


def test_reading_the_cart_releases_lapsed_holds_and_unpaid_orders(family_a):
    family, mia = family_a.family, family_a.student
    accept_policies(family)
    paid = make_offering(name="Paid", tuition=9000)
    services.cart_add(family=family, student_id=mia.pk, offering_id=paid.pk)
    orders.checkout(family=family)
    held = make_offering(name="Held", start_time=time(18), end_time=time(19))
    services.cart_add(family=family, student_id=mia.pk, offering_id=held.pk)
    assert seats(paid) == (1, 0) and seats(held) == (1, 0)
    services.cart_refresh(family=family)  # nothing has lapsed: nothing moves
    assert seats(paid) == (1, 0) and seats(held) == (1, 0)
    Order.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    Hold.objects.filter(status=Hold.Status.ACTIVE).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    services.cart_refresh(family=family)
    assert seats(paid) == (0, 0) and seats(held) == (0, 0)
    assert Enrollment.objects.get().status == "cancelled"
