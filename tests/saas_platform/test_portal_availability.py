"""A business that switches its portal off still runs: its staff sign in to the console and
work there, and the staff API answers, while families get the "currently unavailable" answer."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from portal.config.models import PortalSettings
from portal.config.services import portal_settings_update
from portal.config.settings_schema import PAGES
from tests.helpers import assert_error, make_actor, web_client

pytestmark = pytest.mark.django_db


def test_a_switched_off_portal_keeps_the_console_and_the_staff_api(in_tenant_a):
    portal_settings_update(portal_enabled=False)
    manager = make_actor(in_tenant_a, email="switch-manager@alpha.test", role="manager")
    anonymous = web_client(in_tenant_a)
    login = anonymous.get("/console/login/")
    assert login.status_code == 200 and "Staff sign-in" in login.content.decode()
    signed = anonymous.post(
        "/console/login/",
        {"email": "switch-manager@alpha.test", "password": "correct horse battery"},
    )
    assert signed.status_code == 302
    connection.set_tenant(in_tenant_a)
    dashboard = anonymous.get("/console/")
    assert dashboard.status_code == 200
    assert "currently unavailable" not in dashboard.content.decode()
    assert anonymous.get("/console/settings/").status_code in (200, 302)
    staff_api = manager.client().get("/api/v1/staff/settings")
    assert staff_api.status_code == 200
    assert staff_api.json()["settings"]["portal_enabled"] is False
    # Families still get the refusal, on the web and in the API.
    family_page = web_client(in_tenant_a).get("/classes/")
    assert family_page.status_code == 503
    assert "Our Customer Portal is currently unavailable" in family_page.content.decode()
    assert_error(
        manager.client().get("/api/v1/portal"),
        503,
        "portal_disabled",
        "Our Customer Portal is currently unavailable.",
    )


def test_the_owner_switches_the_portal_back_on_from_the_console(in_tenant_a):
    portal_settings_update(portal_enabled=False)
    owner = make_actor(in_tenant_a, email="switch-owner@alpha.test", role="owner")
    client = web_client(in_tenant_a)
    with tenant_context(in_tenant_a):
        client.force_login(owner.user)
    connection.set_tenant(in_tenant_a)
    page = client.get("/console/settings/display/")
    assert page.status_code == 200 and 'name="portal_enabled"' in page.content.decode()
    row = PortalSettings.objects.get()
    values = {
        name: ("on" if value is True else "" if value is None else str(value))
        for name in next(p for p in PAGES if p.key == "display").fields
        if (value := getattr(row, name)) is not False
    }
    values["portal_enabled"] = "on"
    assert client.post("/console/settings/display/", values).status_code == 302
    assert PortalSettings.objects.get().portal_enabled is True
    assert web_client(in_tenant_a).get("/classes/").status_code == 200


def test_another_business_is_not_switched_off(in_tenant_a, tenant_b):
    portal_settings_update(portal_enabled=False)
    connection.set_schema_to_public()
    assert web_client(tenant_b).get("/classes/").status_code == 200
