"""GET /api/v1/portal: the public settings apps draw the portal from."""

from __future__ import annotations

from django.db import connection

from portal.config.services import portal_settings_update
from tests.helpers import client_for


def test_the_billing_day_of_monthly_tuition_is_public(in_tenant_a, tenant_b):
    """The app shows "/month, charged on day N" before checkout, so the answer carries the
    business's billing day, and each business its own."""
    portal_settings_update(billing_day=17)
    settings = client_for(in_tenant_a).get("/api/v1/portal").json()["settings"]
    assert settings["billing_day"] == 17
    connection.set_tenant(tenant_b)
    try:
        other = client_for(tenant_b).get("/api/v1/portal").json()["settings"]
    finally:
        connection.set_tenant(in_tenant_a)
    assert other["billing_day"] != 17
