"""What the family app needs from the API beyond the web portal: the search filter options
and CORS for the app's web build (only from APP_WEB_ORIGINS)."""

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from portal.config.services import portal_settings_update
from tests.factories import LevelFactory, LocationFactory, ProgramFactory, StaffFactory
from tests.helpers import assert_error, client_for, host_of

pytestmark = pytest.mark.django_db
API = "/api/v1"
APP_ORIGIN = "http://localhost:8081"


@pytest.fixture
def catalog(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        gym = ProgramFactory(name="Gymnastics")
        LevelFactory(program=gym, name="Beginner", position=1)
        LocationFactory(name="Main gym")
        StaffFactory(display_name="Coach Kim")
        ProgramFactory(name="Retired", is_active=False)
    with tenant_context(tenant_b):
        ProgramFactory(name="Beta Swim Secret")


def test_filter_options_for_visitors_and_families(catalog, tenant_a, family_a):
    for client in (client_for(tenant_a), family_a.client()):
        body = client.get(f"{API}/offerings/filters").json()
        assert [p["name"] for p in body["programs"]] == ["Gymnastics"]
        assert [loc["name"] for loc in body["locations"]] == ["Main gym"]
        assert [lv["name"] for lv in body["levels"]] == ["Beginner"]
        assert [i["display_name"] for i in body["instructors"]] == ["Coach Kim"]
        assert [k["id"] for k in body["kinds"]] == ["class", "camp", "event"]
        assert body["days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        assert body["times_of_day"] == ["morning", "afternoon", "evening"]
        assert "Beta Swim Secret" not in str(body)


def test_filter_options_follow_the_business_switches(catalog, tenant_a):
    with tenant_context(tenant_a):
        portal_settings_update(show_levels=False, show_camps=False, show_events=False)
    body = client_for(tenant_a).get(f"{API}/offerings/filters").json()
    assert body["levels"] == [] and [k["id"] for k in body["kinds"]] == ["class"]
    with tenant_context(tenant_a):
        portal_settings_update(list_visible_when_logged_out=False)
    assert_error(client_for(tenant_a).get(f"{API}/offerings/filters"), 401, "login_required")


def test_filter_options_refuse_parameters(catalog, tenant_a):
    body = assert_error(client_for(tenant_a).get(f"{API}/offerings/filters?x=1"), 400,
                        "invalid_filter")  # fmt: skip
    assert body["fields"] == {"x": ["Unknown parameter “x”."]}


def test_the_app_web_origin_gets_cors_on_the_api_and_directory(tenant_a, family_a):
    with override_settings(APP_WEB_ORIGINS=[APP_ORIGIN]):
        client = family_a.client()
        response = client.get(f"{API}/family", HTTP_ORIGIN=APP_ORIGIN)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
        assert "Access-Control-Allow-Credentials" not in response
        assert "Retry-After" in response["Access-Control-Expose-Headers"]
        preflight = client.options(
            f"{API}/cart/items", HTTP_ORIGIN=APP_ORIGIN,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
        )  # fmt: skip
        assert preflight.status_code == 204
        assert "Authorization" in preflight["Access-Control-Allow-Headers"]
        assert "POST" in preflight["Access-Control-Allow-Methods"]
        # The waiting room's headers: the ticket on every poll, the pass on every request once
        # let in (the web build's polls failed their preflight without them).
        poll = client.options(
            f"{API}/openings/3/queue", HTTP_ORIGIN=APP_ORIGIN,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-waiting-room-ticket, x-waiting-room-pass",
        )  # fmt: skip
        allowed = {h.strip().lower() for h in poll["Access-Control-Allow-Headers"].split(",")}
        assert {"x-waiting-room-ticket", "x-waiting-room-pass"} <= allowed
        directory = client_for(None).get("/api/platform/v1/directory", HTTP_ORIGIN=APP_ORIGIN)
        assert directory["Access-Control-Allow-Origin"] == APP_ORIGIN
        # Another origin, or a page that is not the API: nothing.
        other = client.get(f"{API}/family", HTTP_ORIGIN="https://attacker.example")
        assert "Access-Control-Allow-Origin" not in other
        page = client_for(tenant_a).get("/classes/", HTTP_ORIGIN=APP_ORIGIN)
        assert "Access-Control-Allow-Origin" not in page
        admin = client_for(None).get("/api/platform/v1/tenants", HTTP_ORIGIN=APP_ORIGIN)
        assert "Access-Control-Allow-Origin" not in admin
        unknown = client_for(None).get(f"{API}/family", HTTP_ORIGIN=APP_ORIGIN,
                                       HTTP_HOST="nowhere.example")  # fmt: skip
        assert unknown.status_code in (400, 404)
    assert host_of(tenant_a)  # the session tenant's host answered above


def test_no_cors_without_configured_origins(family_a):
    response = family_a.client().get(f"{API}/family", HTTP_ORIGIN=APP_ORIGIN)
    assert "Access-Control-Allow-Origin" not in response


def test_portal_config_tells_the_app_how_to_take_cards(tenant_a):
    from tenants import routing
    from tenants.models import Tenant

    body = client_for(tenant_a).get(f"{API}/portal").json()
    assert body["payments"] == {
        "publishable_key": None,
        "stripe_account": None,
        "saved_cards": True,
    }
    Tenant.objects.filter(pk=tenant_a.pk).update(
        stripe_account_id="acct_alpha", stripe_charges_enabled=True
    )
    routing.router.clear()  # the routing cache holds the tenant row
    with override_settings(STRIPE_PUBLISHABLE_KEY="pk_test_123", STRIPE_SECRET_KEY="sk_test_1"):
        body = client_for(tenant_a).get(f"{API}/portal").json()
    assert body["payments"]["publishable_key"] == "pk_test_123"
    assert body["payments"]["stripe_account"] == "acct_alpha"
    with tenant_context(tenant_a):
        portal_settings_update(stored_payment_method_policy="off")
    assert client_for(tenant_a).get(f"{API}/portal").json()["payments"]["saved_cards"] is False
