"""The routing middleware runs each request in the zone of the host's tenant (UTC on the
platform's hosts) and leaves no zone behind; a tenant's zone name always gives a zone."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone

from tenants.models import Tenant
from tenants.routing import TenantRoutingMiddleware
from tests.helpers import host_of, tenant_in_zone

pytestmark = pytest.mark.django_db


def _zone_seen(host: str) -> str:
    seen = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return None

    TenantRoutingMiddleware(view)(RequestFactory().get("/", HTTP_HOST=host))
    return seen[0]


def test_a_request_runs_in_its_tenants_zone_and_leaves_none_behind(tenant_a, tenant_b):
    tenant_in_zone(tenant_a, "America/Chicago")
    tenant_in_zone(tenant_b, "Pacific/Auckland")
    assert _zone_seen(host_of(tenant_a)) == "America/Chicago"
    assert _zone_seen(host_of(tenant_b)) == "Pacific/Auckland"
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE == "UTC"


def test_the_platform_host_runs_in_utc_whatever_ran_before(tenant_a):
    with timezone.override("Pacific/Auckland"):
        assert _zone_seen(settings.PLATFORM_DOMAIN) == "UTC"
        assert timezone.get_current_timezone_name() == "Pacific/Auckland"


def test_a_tenants_zone(tenant_a):
    assert Tenant(timezone="America/Chicago").zone.key == "America/Chicago"
    # A name the tz database lacks (a row from before validation): UTC, never an error page.
    assert Tenant(timezone="Mars/Olympus_Mons").zone.key == "UTC"
