"""The dashboard's counts and figures that open their lists: families with unsigned policies,
online activity to process, and the fill rate per program."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.accounts.models import PolicyAcceptance
from portal.activity.services import activity_record
from portal.staff import selectors
from portal.staff.services import staff_role_set
from tests.factories import PASSWORD, PolicyFactory, ProgramFactory
from tests.helpers import host_of, tenant_today
from tests.portal.enrollment_helpers import accept_policies, enroll, make_family, make_offering

pytestmark = pytest.mark.django_db


def test_counts_and_fill_rate_open_their_lists(in_tenant_a):
    gym = ProgramFactory(name="Gymnastics")
    swim = ProgramFactory(name="Swim")
    a = make_offering(name="Gym A", program=gym, capacity=4)
    make_offering(name="Gym B", program=gym, capacity=6, weekdays=[2])
    make_offering(name="Swim A", program=swim, capacity=5, weekdays=[3])
    family, kid = make_family("dash@alpha.test", first_name="Zed")
    enroll(family, kid, a)
    other, other_kid = make_family("dash2@alpha.test")
    enroll(other, other_kid, a)
    assert selectors.families_with_unsigned_policies() == []
    policy = PolicyFactory(title="Waiver 2027")
    accept_policies(other)
    rows = selectors.families_with_unsigned_policies()
    assert [(r["family"].pk, r["policies"]) for r in rows] == [(family.pk, ["Waiver 2027"])]
    assert PolicyAcceptance.objects.filter(family=other, policy=policy).exists()
    activity_record(kind="payment", family_id=family.pk, summary="Paid 10.00 USD by card")
    counts = selectors.dashboard_counts()
    assert counts["unsigned_policies"] == 1 and counts["unprocessed_activity"] >= 1
    rates = {r["program"]: r for r in selectors.fill_rate_by_program(today=tenant_today())}
    assert (rates["Gymnastics"]["enrolled"], rates["Gymnastics"]["capacity"]) == (2, 10)
    assert rates["Gymnastics"]["percent"] == 20 and rates["Swim"]["percent"] == 0
    with tenant_context(in_tenant_a):
        owner = User.objects.create_user(email="dash-owner@alpha.test", password=PASSWORD,
                                         is_staff=True)  # fmt: skip
        staff_role_set(user=owner, role="owner")
    web = Client(HTTP_HOST=host_of(in_tenant_a))
    web.force_login(owner)
    page = web.get("/console/").content.decode()
    assert 'href="/console/families/unsigned-policies/"' in page
    assert 'href="/console/activity/"' in page and "Fill rate by program" in page
    assert "Gymnastics" in page and "20%" in page
    listed = web.get("/console/families/unsigned-policies/").content.decode()
    assert family.name in listed and "Waiver 2027" in listed and other.name not in listed
