"""Tasks run in the time zone of the tenant whose schema they run in (TenantZoneTask): UTC in
the public schema, and the caller's zone is left as it was."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from saas_platform.celery import TenantZoneTask, app
from tests.helpers import tenant_in_zone

pytestmark = pytest.mark.django_db


@app.task(name="tests.current_zone")
def current_zone_task() -> str:
    return timezone.get_current_timezone_name()


def test_every_task_is_a_tenant_zone_task():
    from portal.orders.tasks import autopay_run_task

    assert isinstance(current_zone_task, TenantZoneTask)
    assert isinstance(autopay_run_task, TenantZoneTask)


def test_a_task_runs_in_its_tenants_zone(tenant_a, tenant_b):
    tenant_in_zone(tenant_a, "America/Chicago")
    tenant_in_zone(tenant_b, "Pacific/Auckland")
    with tenant_context(tenant_a):
        assert current_zone_task.apply().get() == "America/Chicago"
        assert current_zone_task() == "America/Chicago"  # called directly, as the outbox does
        assert timezone.get_current_timezone_name() == "UTC"  # the caller's, restored
    with tenant_context(tenant_b):
        assert current_zone_task.delay().get() == "Pacific/Auckland"


def test_a_task_in_the_public_schema_runs_in_utc():
    connection.set_schema_to_public()
    with timezone.override("Pacific/Auckland"):
        assert current_zone_task.apply().get() == "UTC"
        assert timezone.get_current_timezone_name() == "Pacific/Auckland"
