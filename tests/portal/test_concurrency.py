"""Races against the real database: many threads, each on its own connection, committing."""

import threading
from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from portal.catalog.models import Offering, Program
from portal.enrollment import services
from portal.enrollment.models import Enrollment, Hold, Order
from portal.orders import services as orders
from tenants.services import tenant_provision

pytestmark = pytest.mark.integration

THREADS = 12
SEATS = 3


def _families(count):
    from portal.accounts.models import Family, Student

    out = []
    for i in range(count):
        family = Family.objects.create(name=f"Racer {i}")
        student = Student.objects.create(
            family=family, first_name=f"Kid{i}", last_name="Racer", date_of_birth=date(2016, 1, 1)
        )
        out.append((family, student))
    return out


def _race(tenant, fn, jobs):
    """Run ``fn(job)`` for every job at once (a barrier releases all threads together)."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        try:
            connection.set_tenant(tenant)
            barrier.wait(timeout=20)
            results[index] = ("ok", fn(job))
        except ApplicationError as exc:
            results[index] = (exc.code, None)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            results[index] = (f"crash: {exc!r}", None)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def race_tenant(committed):
    committed.append("race")
    tenant = tenant_provision(slug="race", name="Race Gym", owner_email="o@race.test").tenant
    connection.set_schema_to_public()
    return tenant


def _offering(capacity, tuition=0, name="Last seats"):
    program = Program.objects.get_or_create(name="Racing")[0]
    start = timezone.localdate() + timedelta(days=10)
    return Offering.objects.create(
        name=name,
        program=program,
        capacity=capacity,
        start_date=start,
        end_date=start + timedelta(weeks=4),
        start_time=time(16),
        end_time=time(17),
        weekdays=[start.weekday()],
        tuition=tuition,
    )


def test_many_families_race_for_the_last_seats(race_tenant):
    with tenant_context(race_tenant):
        offering = _offering(SEATS)
        racers = _families(THREADS)
    results = _race(
        race_tenant,
        lambda job: (
            services.cart_add(family=job[0], student_id=job[1].pk, offering_id=offering.pk).pk
        ),
        racers,
    )
    codes = sorted(code for code, _ in results)
    assert codes.count("ok") == SEATS, codes
    assert set(codes) <= {"ok", "offering_full", "busy"}, codes
    with tenant_context(race_tenant):
        assert Hold.objects.filter(offering=offering, status="active").count() == SEATS
        offering.refresh_from_db()
        assert offering.seats_taken == SEATS


def test_concurrent_checkouts_enroll_exactly_the_seats(race_tenant):
    with tenant_context(race_tenant):
        offering = _offering(SEATS)
        racers = _families(THREADS)
        for family, student in racers[:SEATS]:
            services.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)

    def add_and_checkout(job):
        family, student = job
        if not Hold.objects.filter(family=family, status="active").exists():
            services.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
        return orders.checkout(family=family).pk

    results = _race(race_tenant, add_and_checkout, racers)
    codes = [code for code, _ in results]
    assert codes.count("ok") == SEATS, codes
    with tenant_context(race_tenant):
        assert Enrollment.objects.filter(offering=offering, status="active").count() == SEATS
        assert Order.objects.filter(status="confirmed").count() == SEATS
        offering.refresh_from_db()
        assert offering.seats_taken == SEATS


def test_a_double_submitted_checkout_from_two_threads_makes_one_order(race_tenant):
    with tenant_context(race_tenant):
        offering = _offering(5, tuition=5000)
        ((family, student),) = _families(1)
        services.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
    results = _race(race_tenant, lambda _: orders.checkout(family=family).pk, [0, 1, 2, 3])
    order_ids = {value for code, value in results if code == "ok"}
    assert len(order_ids) == 1, results
    with tenant_context(race_tenant):
        assert Order.objects.count() == 1
        assert Enrollment.objects.filter(offering=offering).count() == 1


def test_expiry_racing_itself_changes_nothing_twice(race_tenant):
    with tenant_context(race_tenant):
        offering = _offering(2)
        racers = _families(2)
        for family, student in racers:
            services.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
        Hold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    results = _race(race_tenant, lambda _: services.expire_due(), list(range(6)))
    assert all(code == "ok" for code, _ in results), results
    with tenant_context(race_tenant):
        assert sorted(Hold.objects.values_list("status", flat=True)) == ["expired", "expired"]
        offering.refresh_from_db()
        assert offering.seats_taken == 0


def test_two_families_race_for_the_last_seat_of_a_camp_day(race_tenant):
    """A camp booked by the day: the last seat of one day goes to one family; the other is
    refused for that day and can still take another day."""
    with tenant_context(race_tenant):
        camp = _offering(2, tuition=0, name="Day camp")
        Offering.objects.filter(pk=camp.pk).update(
            kind="camp", camp_selection="day", camp_unit_price=4000, weekdays=[0, 1, 2, 3, 4]
        )
        camp.refresh_from_db()
        first, second = camp.meetings()[:2]
        early, *racers = _families(3)
        services.cart_add(
            family=early[0], student_id=early[1].pk, offering_id=camp.pk, days=[first, second]
        )
    results = _race(
        race_tenant,
        lambda job: (
            services.cart_add(
                family=job[0], student_id=job[1].pk, offering_id=camp.pk, days=[first.isoformat()]
            ).pk
        ),
        racers,
    )
    codes = sorted(code for code, _ in results)
    assert codes.count("ok") == 1, codes
    assert set(codes) <= {"ok", "camp_day_full", "busy"}, codes
    with tenant_context(race_tenant):
        holds = Hold.objects.filter(offering=camp, status="active")
        assert sum(first in h.camp_days for h in holds) == 2  # the capacity, not more
        loser = next(job for job, (code, _) in zip(racers, results, strict=True) if code != "ok")
        third = camp.meetings()[2]
        services.cart_add(
            family=loser[0], student_id=loser[1].pk, offering_id=camp.pk, days=[third]
        )
        camp.refresh_from_db()
        assert camp.seats_taken == 0  # the days from the fourth on are empty: the camp is open
