"""A class that meets today and met last week, with enrolled students and its coach, for the
attendance tests (service, console, API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from portal.catalog.models import Offering, StaffProfile
from portal.enrollment.models import Enrollment
from tests.factories import EmergencyContactFactory, GuardianFactory, StudentFactory
from tests.helpers import Actor, make_actor, tenant_today
from tests.portal.enrollment_helpers import make_offering


@dataclass
class Gym:
    offering: Offering
    other: Offering  # another coach's class, meeting today too
    today: date
    last_week: date
    coach: Actor
    other_coach: Actor
    students: list  # Ada, Ben (enrolled in offering)
    enrollments: list[Enrollment]


def enroll_now(student, offering, start: date) -> Enrollment:
    return Enrollment.objects.create(
        family=student.family,
        student=student,
        offering=offering,
        status=Enrollment.Status.ACTIVE,
        start_date=start,
    )


def gym(tenant, *, name: str = "Tumble Tots") -> Gym:
    """Runs in the tenant's schema (the test is ``in_tenant_a``)."""
    today = tenant_today()
    last_week = today - timedelta(days=7)
    start = today - timedelta(days=21)
    offering = make_offering(
        name=name,
        start_date=start,
        end_date=today + timedelta(weeks=8),
        weekdays=[today.weekday()],
        capacity=10,
    )
    other = make_offering(
        name="Other Coach's Class",
        start_date=start,
        end_date=today + timedelta(weeks=8),
        weekdays=[today.weekday()],
        capacity=10,
        program=offering.program,
    )
    coach = make_actor(tenant, email=f"coach-{offering.pk}@alpha.test", role="coach")
    other_coach = make_actor(tenant, email=f"coach2-{offering.pk}@alpha.test", role="coach")
    connection.set_tenant(tenant)
    offering.instructors.add(StaffProfile.objects.create(display_name="Coach Kim", user=coach.user))
    other.instructors.add(
        StaffProfile.objects.create(display_name="Coach Lee", user=other_coach.user)
    )
    ada_guardian = GuardianFactory(email=f"ada-{offering.pk}@alpha.test", phone="555 201 7788")
    ada = StudentFactory(
        family=ada_guardian.family,
        first_name="Ada",
        last_name="Lovelace",
        date_of_birth=date(2017, 5, 1),
        medical_notes="Peanut allergy",
    )
    EmergencyContactFactory(family=ada_guardian.family, name="Grandma Byron", phone="555 0100")
    ben_guardian = GuardianFactory(email=f"ben-{offering.pk}@alpha.test")
    ben = StudentFactory(
        family=ben_guardian.family,
        first_name="Ben",
        last_name="Okafor",
        date_of_birth=date(2016, 9, 9),
    )
    enrollments = [enroll_now(ada, offering, start), enroll_now(ben, offering, today)]
    enroll_now(
        StudentFactory(family=ben_guardian.family, first_name="Cy", last_name="Okafor"),
        other,
        start,
    )
    return Gym(offering, other, today, last_week, coach, other_coach, [ada, ben], enrollments)
