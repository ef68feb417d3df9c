"""Reads the family pages make through the requests selectors: the requests waiting for the
business, and the classes a student may transfer into."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.catalog.models import Offering
from portal.enrollment.models import Enrollment
from portal.requests.models import Request
from portal.requests.selectors import request_pending_list, transfer_targets
from tests.helpers import tenant_today
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db


def _request(family, student, status, minutes_ago):
    today = tenant_today()
    return Request.objects.create(
        type=Request.Type.ABSENCE,
        status=status,
        family=family,
        student=student,
        meeting_date=today,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_pending_requests_newest_first_and_only_the_familys(in_tenant_a):
    family, kid = make_family("pending@alpha.test")
    other, other_kid = make_family("other@alpha.test")
    old = _request(family, kid, Request.Status.PENDING, 30)
    new = _request(family, kid, Request.Status.PENDING, 5)
    _request(family, kid, Request.Status.APPROVED, 1)
    _request(other, other_kid, Request.Status.PENDING, 1)
    assert request_pending_list(family=family) == [new, old]
    assert request_pending_list(family=family, limit=1) == [new]
    assert request_pending_list(family=family)[0].student == kid


def test_transfer_targets_leave_out_the_current_class_and_what_the_student_cannot_take(
    in_tenant_a,
):
    today = tenant_today()
    family, kid = make_family("transfer@alpha.test", born=today.replace(year=today.year - 8))
    current, fits = make_offering(name="Current"), make_offering(name="Fits")
    too_old = make_offering(name="Teens", min_age=13, max_age=17)
    camp = make_offering(name="Camp", kind="camp")
    full = make_offering(name="Full", capacity=2)
    Offering.objects.filter(pk=full.pk).update(seats_taken=2)
    enrollment = Enrollment.objects.create(
        family=family, student=kid, offering=current, status="active", start_date=today
    )
    targets = transfer_targets(enrollment=enrollment, visible_kinds=["class"])
    assert fits in targets
    assert current not in targets and too_old not in targets and camp not in targets
    assert full not in targets  # a transfer into a full class is refused: not offered
