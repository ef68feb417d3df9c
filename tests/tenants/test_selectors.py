"""Reads the platform console makes through the tenants selectors."""

import pytest

from tenants.models import Plan
from tenants.selectors import plan_list_active, tenant_list_with_plans

pytestmark = pytest.mark.django_db


def test_only_active_plans_are_offered(db):
    kept = Plan.objects.create(code="kept", name="Kept", monthly_price=4900)
    retired = Plan.objects.create(code="retired", name="Old", monthly_price=900, is_active=False)
    offered = list(plan_list_active())
    assert kept in offered and retired not in offered


def test_the_console_list_reads_plans_with_the_tenants(
    tenant_a, tenant_b, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the tenants with plan and subscription; their domains
        rows = tenant_list_with_plans(q="alpha")
        assert [t.schema_name for t in rows] == ["alpha"]
        assert [getattr(t.plan, "code", None) for t in rows] == [
            getattr(tenant_a.plan, "code", None)
        ]
        assert all(d.tenant_id == tenant_a.pk for d in rows[0].domains.all())
    assert {"alpha", "beta"} <= {t.schema_name for t in tenant_list_with_plans()}
