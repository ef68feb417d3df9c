"""Races closed in the database: many threads, each on its own connection, submit the same
request at once. The partial unique constraints on requests (portal.requests.models) let one
through; every other answers the service's own "already requested" refusal, and nothing it
did (a makeup token, an email) survives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.config.services import portal_settings_update
from portal.requests import services
from portal.requests.models import MakeupToken, Request
from tenants.services import tenant_provision
from tests.factories import ProgramFactory
from tests.helpers import race
from tests.portal.enrollment_helpers import enroll, make_family, make_offering, next_weekday

pytestmark = pytest.mark.integration

THREADS = 6


@pytest.fixture
def race_tenant(committed):
    committed.append("reqrace")
    tenant = tenant_provision(slug="reqrace", name="Request Races", owner_email="o@rr.test").tenant
    connection.set_schema_to_public()
    return tenant


@pytest.fixture
def enrolled(race_tenant):
    with tenant_context(race_tenant):
        program = ProgramFactory(name="Gymnastics")
        offering = make_offering(
            name="Rec Gym", program=program, capacity=5, start_date=next_weekday(0, after_days=1)
        )
        target = make_offering(
            name="Rec Gym Thu", program=program, weekdays=[3], start_date=next_weekday(3, 1)
        )
        family, student = make_family("racer@rr.test")
        enrollment = enroll(family, student, offering)
        assert enrollment.offering == offering  # cached: the tests read it outside the schema
    connection.set_schema_to_public()
    return race_tenant, family, enrollment, target


def _one_wins(results, code: str) -> None:
    codes = [c for c, _ in results]
    assert sorted(codes) == sorted(["ok"] + [code] * (THREADS - 1)), results


def test_concurrent_reports_of_one_absence_make_one_request_and_one_token(enrolled):
    tenant, family, enrollment, _ = enrolled
    day = enrollment.offering.meetings()[1]
    results = race(
        tenant,
        lambda _: (
            services.absence_request(
                family=family, enrollment_id=enrollment.pk, meeting_date=day
            ).pk
        ),
        list(range(THREADS)),
    )
    _one_wins(results, "absence_already_reported")
    with tenant_context(tenant):
        (req,) = Request.objects.filter(type="absence")
        assert (req.status, req.meeting_date) == ("approved", day)
        assert MakeupToken.objects.count() == 1
        assert req.issued_token == MakeupToken.objects.get()


def test_concurrent_pending_absences_make_one_request(enrolled):
    tenant, family, enrollment, _ = enrolled
    with tenant_context(tenant):
        portal_settings_update(absences_auto_approve=False)
    day = enrollment.offering.meetings()[2]
    results = race(
        tenant,
        lambda _: (
            services.absence_request(
                family=family, enrollment_id=enrollment.pk, meeting_date=day
            ).pk
        ),
        list(range(THREADS)),
    )
    _one_wins(results, "absence_already_reported")
    with tenant_context(tenant):
        assert Request.objects.filter(type="absence", status="pending").count() == 1
        assert not MakeupToken.objects.exists()


def test_concurrent_drop_requests_make_one_pending_drop(enrolled):
    tenant, family, enrollment, _ = enrolled
    later = timezone.localdate() + timedelta(days=20)
    results = race(
        tenant,
        lambda i: (
            services.drop_request(
                family=family, enrollment_id=enrollment.pk, effective_date=later, reason=f"Try {i}"
            ).pk
        ),
        list(range(THREADS)),
    )
    _one_wins(results, "drop_already_requested")
    with tenant_context(tenant):
        assert Request.objects.filter(type="drop", status="pending").count() == 1


@pytest.mark.parametrize(
    ("one_transfer", "code"), [(True, "transfer_limit"), (False, "transfer_already_requested")]
)
def test_concurrent_transfer_requests_make_one_pending_transfer(enrolled, one_transfer, code):
    tenant, family, enrollment, target = enrolled
    with tenant_context(tenant):
        portal_settings_update(one_transfer_per_enrollment=one_transfer)
    results = race(
        tenant,
        lambda _: (
            services.transfer_request(
                family=family, enrollment_id=enrollment.pk, offering_id=target.pk
            ).pk
        ),
        list(range(THREADS)),
    )
    _one_wins(results, code)
    with tenant_context(tenant):
        assert Request.objects.filter(type="transfer", status="pending").count() == 1
