"""Reads of a family's own rows that the family pages make through selectors: one student or
emergency contact, scoped to the family, and the policies a new family accepts."""

import pytest

from portal.accounts.models import Policy
from portal.accounts.selectors import emergency_contact_get, signup_policy_list, student_get
from tests.factories import EmergencyContactFactory, LevelFactory, PolicyFactory, StudentFactory

pytestmark = pytest.mark.django_db


def test_a_student_is_found_only_in_its_own_family(family_a, django_assert_num_queries):
    family = family_a.guardian.family
    family_a.student.level = LevelFactory(name="Beginner")
    family_a.student.save()
    other = StudentFactory()
    with django_assert_num_queries(1):
        found = student_get(family_id=family.pk, student_id=family_a.student.pk)
        assert found == family_a.student and found.level.name == "Beginner"
    assert student_get(family_id=family.pk, student_id=other.pk) is None
    assert student_get(family_id=family.pk, student_id=other.pk + 1000) is None


def test_an_emergency_contact_is_found_only_in_its_own_family(family_a):
    family = family_a.guardian.family
    mine, theirs = EmergencyContactFactory(family=family), EmergencyContactFactory()
    assert emergency_contact_get(family_id=family.pk, contact_id=mine.pk) == mine
    assert emergency_contact_get(family_id=family.pk, contact_id=theirs.pk) is None


def test_signup_policies_are_the_active_family_ones_required_at_signup(in_tenant_a):
    wanted = PolicyFactory(required_at_signup=True)
    others = [
        PolicyFactory(required_at_signup=False),
        PolicyFactory(required_at_signup=True, is_active=False),
        PolicyFactory(required_at_signup=True, scope=Policy.Scope.STUDENT),
    ]
    listed = signup_policy_list()
    assert wanted in listed and not set(others) & set(listed)
    assert all(p.is_active and p.required_at_signup for p in listed)
