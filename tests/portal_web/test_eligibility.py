"""Eligibility up front: boys / girls only and ages on cards and pages, the student picker marks
who may not take a class and why, and the transfer picker lists only classes the student may
take."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import StudentFactory
from tests.portal.enrollment_helpers import enroll, make_offering

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def test_gender_and_ages_show_and_the_picker_says_who_is_not_eligible(family_web):
    # Mia (the family's student) is a girl born in 2018; her brother Leo is too young.
    StudentFactory(
        family=family_web.family, first_name="Leo", gender="male", date_of_birth=date(2024, 1, 1)
    )
    girls = make_offering(name="Girls Tumbling", gender="female", min_age=5, max_age=12)
    for page in (
        html(family_web.web.get("/classes/")),
        html(family_web.web.get(f"/classes/{girls.pk}/")),
    ):
        assert "Girls only" in page and "5\u201312" in page
    page = html(family_web.web.get(f"/classes/{girls.pk}/"))
    assert f'<option value="{family_web.student.pk}">' in page  # Mia may: first, enabled
    leo = family_web.family.students.get(first_name="Leo")
    assert f'<option value="{leo.pk}" disabled>' in page
    assert "Leo cannot take this class:" in page
    boys = make_offering(name="Boys Ninja", gender="male", min_age=5)
    page = html(family_web.web.get(f"/classes/{boys.pk}/"))
    assert "Boys only" in page
    assert "Mia cannot take this class: Boys Ninja is for boys only." in page
    assert 'type="submit" disabled' in page  # nobody in the family may take it
    # The cart still refuses if the form is forced.
    forced = family_web.web.post(
        "/cart/add/", {"offering": boys.pk, "student": family_web.student.pk}
    )
    assert forced.status_code == 409


def test_the_transfer_picker_lists_only_classes_the_student_may_take(family_web):
    offering = make_offering(name="Rec Gym", capacity=5)
    enrollment = enroll(family_web.family, family_web.student, offering)
    make_offering(name="Teen Team", min_age=13)
    make_offering(name="Rec Gym Friday", capacity=5)
    page = html(family_web.web.get(f"/requests/transfer/{enrollment.pk}/"))
    assert "Rec Gym Friday" in page and "Teen Team" not in page
