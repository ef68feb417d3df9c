"""/api/v1/staff/settings: the console's settings over the API (same fields, same rules, same
service), typed in OpenAPI; owner and manager only; bad input a 400 with a stable code that
changes nothing; another business's token means nothing."""

from __future__ import annotations

import pytest
from django.db import connection

from portal.config.models import PortalSettings
from portal.config.settings_schema import EDITABLE_FIELDS
from tests.helpers import assert_cross_tenant_denied, assert_error, make_actor

pytestmark = pytest.mark.django_db
URL = "/api/v1/staff/settings"


@pytest.fixture
def manager(in_tenant_a):
    actor = make_actor(in_tenant_a, email="manager@alpha.test", role="manager")
    connection.set_tenant(in_tenant_a)
    return actor


def test_get_lists_every_setting_with_its_page(manager):
    body = manager.client().get(URL).json()
    assert set(body["settings"]) == set(EDITABLE_FIELDS)
    assert "class_search_rate_limit" not in body["settings"]
    assert body["settings"]["gift_certificate_min"] == 1000  # minor units
    assert {page["group"] for page in body["pages"]} == {"settings", "staff", "other"}
    assert sum(len(page["fields"]) for page in body["pages"]) == len(EDITABLE_FIELDS)
    assert body["currency"] == manager.tenant.currency
    assert body["timezone"] == manager.tenant.timezone


def test_patch_changes_only_what_is_sent(manager):
    response = manager.client().patch(
        URL,
        {
            "hold_timer_minutes": 30,
            "priority_registration_starts_at": "2027-01-11T08:00:00",
            "priority_registration_ends_at": "2027-01-18T08:00:00-06:00",
            "class_search_filters": "age,day,kind",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["hold_timer_minutes"] == 30
    # A time without an offset is the business's; answers carry the zone's offset.
    assert body["priority_registration_starts_at"].startswith("2027-01-11T08:00:00")
    row = PortalSettings.objects.get()
    assert row.hold_timer_minutes == 30 and row.search_filter_list == ["age", "day", "kind"]
    assert row.drop_notice_days == 7


@pytest.mark.parametrize(
    ("data", "status", "code", "field"),
    [
        ({"hold_timer_minutes": 0}, 400, "invalid_input", "hold_timer_minutes"),
        ({"hold_timer_minutes": "soon"}, 400, "invalid_input", "hold_timer_minutes"),
        ({"openings_display": "maybe"}, 400, "invalid_input", "openings_display"),
        ({"gift_certificate_min": 90000}, 400, "invalid_input", "gift_certificate_max"),
        ({"class_search_filters": "age,age"}, 400, "invalid_input", "class_search_filters"),
        (
            {"priority_registration_starts_at": "2027-01-11T08:00:00"},
            400,
            "invalid_input",
            "priority_registration_ends_at",
        ),
        ({"class_search_rate_limit": 5000}, 400, "unknown_field", "class_search_rate_limit"),
        ({"portal_enabled": False, "colour": "red"}, 400, "unknown_field", "colour"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(manager, data, status, code, field):
    before = PortalSettings.objects.values().get()
    body = assert_error(manager.client().patch(URL, data, format="json"), status, code)
    assert field in body["fields"], body
    assert PortalSettings.objects.values().get() == before


def test_garbage_bodies_are_clear_400s(manager):
    client = manager.client()
    assert_error(client.patch(URL, "[1, 2]", content_type="application/json"), 400,
                 "invalid_input")  # fmt: skip
    response = client.patch(URL, "{nope", content_type="application/json")
    assert response.status_code == 400


def test_roles_families_and_visitors(in_tenant_a, family_a):
    desk = make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk")
    connection.set_tenant(in_tenant_a)
    assert_error(desk.client().patch(URL, {"hold_timer_minutes": 30}, format="json"), 403,
                 "staff_permission_required")  # fmt: skip
    assert_error(family_a.client().get(URL), 403, "permission_denied")
    from tests.helpers import client_for

    assert_error(client_for(in_tenant_a).get(URL), 401, "not_authenticated")
    assert PortalSettings.objects.get().hold_timer_minutes == 15


def test_another_business_token_gets_nothing(manager, tenant_b):
    for method in ("patch", "get"):
        assert_cross_tenant_denied(
            credentials_client=manager.client(),
            target=tenant_b,
            method=method,
            path=URL,
            data={"hold_timer_minutes": 30},
        )
