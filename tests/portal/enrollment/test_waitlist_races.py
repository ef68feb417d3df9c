"""One live waitlist entry per student and offering, however many joins race for it: joins
are serialised by the offering's lock, and the partial unique index
(enrollment_one_live_waitlist_entry) refuses any that slips past the check."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.query import QuerySet
from django_tenants.utils import tenant_context

from portal.enrollment import services
from portal.enrollment.models import WaitlistEntry
from tenants.services import tenant_provision
from tests.helpers import assert_error, race, signed_in
from tests.portal.enrollment_helpers import make_family, make_offering

THREADS = 6


@pytest.fixture
def race_tenant(committed):
    committed.append("wlrace")
    tenant = tenant_provision(slug="wlrace", name="Waitlist Races", owner_email="o@wl.test").tenant
    connection.set_schema_to_public()
    return tenant


@pytest.mark.integration
def test_concurrent_joins_of_one_student_make_one_entry(race_tenant):
    with tenant_context(race_tenant):
        offering = make_offering(capacity=1, name="Full class")
        holder, kid = make_family("holder@wl.test")
        services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
        family, student = make_family("waiter@wl.test")
    results = race(
        race_tenant,
        lambda _: (
            services.waitlist_join(family=family, student_id=student.pk, offering_id=offering.pk).pk
        ),
        list(range(THREADS)),
    )
    codes = [code for code, _ in results]
    assert sorted(codes) == sorted(["ok"] + ["already_waitlisted"] * (THREADS - 1)), results
    with tenant_context(race_tenant):
        assert WaitlistEntry.objects.filter(student=student, status="waiting").count() == 1
        offering.refresh_from_db()
        assert offering.waitlist_count == 1


@pytest.fixture
def check_missed(monkeypatch):
    """The loser of a race: the service's own "already on it" check sees nothing."""
    real = QuerySet.exists
    monkeypatch.setattr(
        QuerySet, "exists", lambda qs: False if qs.model is WaitlistEntry else real(qs)
    )


@pytest.mark.django_db
def test_a_join_past_the_check_gets_the_same_refusal_api_and_web(family_a, check_missed):
    offering = make_offering(capacity=1, name="Full class")
    holder, kid = make_family("holder@alpha.test")
    services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    body = {"offering": offering.pk, "student": family_a.student.pk}
    assert family_a.client().post("/api/v1/waitlist", body, format="json").status_code == 201
    assert_error(
        family_a.client().post("/api/v1/waitlist", body, format="json"),
        409,
        "already_waitlisted",
        f"{family_a.student.first_name} is already on this waitlist.",
    )
    web = signed_in(family_a.tenant, family_a.guardian.email)
    response = web.post("/waitlist/join/", body)
    assert response.status_code == 409
    assert "is already on this waitlist" in response.content.decode()
    assert WaitlistEntry.objects.filter(student=family_a.student).count() == 1
