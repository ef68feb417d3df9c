"""Families' requests waiting for staff: an enrolled family that reported an absence (the
business reviews absences), asked to drop and asked to transfer to a dearer class."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from portal.config.services import portal_settings_update
from portal.enrollment.models import Enrollment
from portal.requests import services
from portal.requests.models import Request
from tests.factories import ProgramFactory
from tests.helpers import tenant_today
from tests.portal.enrollment_helpers import enroll, make_family, make_offering, next_weekday


@dataclass
class Pending:
    family: object
    student: object
    enrollment: Enrollment
    other_enrollment: Enrollment
    target: object
    absence: Request
    drop: Request
    transfer: Request


def pending_requests(email: str = "asks@alpha.test", first_name: str = "Mia") -> Pending:
    """Three pending requests of one family (absence, drop, transfer), each with the inbox
    item the family's action wrote. Call inside the tenant's schema."""
    today = tenant_today()
    portal_settings_update(absences_auto_approve=False, drop_notice_days=0)
    program = ProgramFactory(name=f"Gymnastics {email}")
    offering = make_offering(name="Rec Gym Mon", program=program, start_date=next_weekday(0, 1))
    other = make_offering(name="Rec Gym Wed", program=program, weekdays=[2],
                          start_date=next_weekday(2, 1))  # fmt: skip
    target = make_offering(name="Rec Gym Thu", program=program, weekdays=[3], tuition=20000,
                           start_date=next_weekday(3, 1))  # fmt: skip
    family, student = make_family(email, first_name=first_name)
    enrollment = enroll(family, student, offering)
    other_enrollment = enroll(family, student, other)
    absence = services.absence_request(
        family=family,
        enrollment_id=enrollment.pk,
        meeting_date=offering.meetings()[2],
        reason="Grandma's birthday",
    )
    drop = services.drop_request(
        family=family,
        enrollment_id=other_enrollment.pk,
        effective_date=today + timedelta(days=14),
        reason="Moving away",
    )
    transfer = services.transfer_request(
        family=family, enrollment_id=enrollment.pk, offering_id=target.pk, reason="Better day"
    )
    return Pending(family, student, enrollment, other_enrollment, target, absence, drop, transfer)
