"""Reads the family pages and the front desk make through the enrollment selectors."""

import pytest

from portal.catalog.models import Offering
from portal.enrollment.models import Enrollment, WaitlistEntry
from portal.enrollment.selectors import (
    enrollment_family_id,
    offering_for_staff,
    students_active,
    waitlist_entry_offering_id,
)
from tests.factories import LevelFactory, StudentFactory
from tests.helpers import tenant_today
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db


def test_active_students_come_with_their_levels(in_tenant_a, django_assert_num_queries):
    family, kid = make_family("active@alpha.test", level=LevelFactory(name="Tadpole"))
    StudentFactory(family=family, is_active=False)
    with django_assert_num_queries(1):
        assert [(s, s.level.name) for s in students_active(family)] == [(kid, "Tadpole")]


def test_ids_behind_an_enrollment_and_a_waitlist_entry(in_tenant_a):
    today = tenant_today()
    family, kid = make_family("desk@alpha.test")
    offering = make_offering()
    enrollment = Enrollment.objects.create(
        family=family, student=kid, offering=offering, status="dropped", start_date=today
    )
    entry = WaitlistEntry.objects.create(
        family=family, student=kid, offering=offering, priority=1, status=WaitlistEntry.Status.LEFT
    )
    assert enrollment_family_id(enrollment_id=enrollment.pk) == family.pk
    assert enrollment_family_id(enrollment_id=enrollment.pk + 1000) is None
    assert waitlist_entry_offering_id(entry_id=entry.pk) == offering.pk
    assert waitlist_entry_offering_id(entry_id=entry.pk + 1000) is None


def test_staff_see_draft_classes_too(in_tenant_a):
    draft = make_offering(status=Offering.Status.DRAFT)
    assert offering_for_staff(offering_id=draft.pk) == draft
    assert offering_for_staff(offering_id=draft.pk + 1000) is None
