"""Device registration for push notifications: per role, across tenants, bad input."""

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from portal.push.models import PushDevice
from tests.factories import GuardianFactory
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, make_actor

pytestmark = pytest.mark.django_db
API = "/api/v1"
TOKEN = "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"


def register(client, **body):
    payload = {"token": TOKEN, "platform": "ios", **body}
    return client.post(f"{API}/devices", payload, format="json")


def test_a_family_registers_lists_and_removes_its_device(family_a):
    response = register(
        family_a.client(), app_id="app.alpha.portal", device_name="Dana's iPhone", locale="es-MX"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["platform"], body["app_id"], body["device_name"], body["locale"]) == (
        "ios", "app.alpha.portal", "Dana's iPhone", "es",
    )  # fmt: skip
    assert "token" not in body  # the token is the device's secret; never echoed back
    connection.set_tenant(family_a.tenant)
    device = PushDevice.objects.get()
    assert device.guardian == family_a.guardian and device.token == TOKEN
    listed = family_a.client().get(f"{API}/devices").json()
    assert [d["id"] for d in listed] == [device.pk]
    assert family_a.client().delete(f"{API}/devices/{device.pk}").status_code == 204
    assert not PushDevice.objects.exists()


def test_registering_again_refreshes_and_moves_the_token(family_a):
    first = register(family_a.client(), locale="en").json()
    again = register(family_a.client(), locale="es", platform="android").json()
    assert again["id"] == first["id"] and again["platform"] == "android"
    connection.set_tenant(family_a.tenant)
    other = GuardianFactory(email="second@alpha.test")
    from kernel.users.services import api_token_issue

    _, raw = api_token_issue(user=other.user, name="tests")
    moved = register(client_for(family_a.tenant, token=raw)).json()
    assert moved["id"] == first["id"]
    assert PushDevice.objects.get().guardian == other  # the phone follows whoever signed in
    assert family_a.client().get(f"{API}/devices").json() == []


def test_visitors_and_staff_cannot_register(family_a, tenant_a):
    assert_error(register(client_for(tenant_a)), 401, "not_authenticated")
    staff = make_actor(tenant_a, email="desk@alpha.test", staff=True)
    assert_error(register(staff.client()), 403, "not_a_family_account")
    assert_error(staff.client().get(f"{API}/devices"), 403, "not_a_family_account")
    with tenant_context(tenant_a):
        assert not PushDevice.objects.exists()


def test_another_familys_device_cannot_be_removed(family_a):
    connection.set_tenant(family_a.tenant)
    other = GuardianFactory(email="other@alpha.test")
    device = PushDevice.objects.create(guardian=other, token=TOKEN, platform="android")
    assert_error(
        family_a.client().delete(f"{API}/devices/{device.pk}"),
        404,
        "device_not_found",
        "We could not find that device.",
    )
    assert family_a.client().get(f"{API}/devices").json() == []
    assert PushDevice.objects.filter(pk=device.pk).exists()


def test_bad_input_is_refused_and_saves_nothing(family_a):
    client = family_a.client()
    body = assert_error(register(client, token="not-a-token"), 400, "push_token_invalid")
    assert body["fields"] == {"token": ["This is not an Expo push token (ExponentPushToken[...])."]}
    body = assert_error(register(client, platform="symbian"), 400, "platform_invalid")
    assert list(body["fields"]) == ["platform"]
    assert_error(client.post(f"{API}/devices", {}, format="json"), 400, "invalid_input")
    assert_error(register(client, token="x" * 500), 400, "invalid_input")
    assert_error(client.post(f"{API}/devices", [1, 2], format="json"), 400, "invalid_input")
    assert_error(client.delete(f"{API}/devices/999999"), 404, "device_not_found")
    connection.set_tenant(family_a.tenant)
    assert not PushDevice.objects.exists()


def test_tokens_of_one_business_mean_nothing_at_another(family_a, tenant_b):
    register(family_a.client())
    for method, path, data in (
        ("get", f"{API}/devices", None),
        ("post", f"{API}/devices", {"token": TOKEN, "platform": "ios"}),
    ):
        assert_cross_tenant_denied(
            credentials_client=family_a.client(), target=tenant_b, method=method, path=path,
            data=data,
        )  # fmt: skip
    with tenant_context(tenant_b):
        assert not PushDevice.objects.exists()
    with tenant_context(family_a.tenant):
        device = PushDevice.objects.get()
    assert_cross_tenant_denied(
        credentials_client=family_a.client(), target=tenant_b, method="delete",
        path=f"{API}/devices/{device.pk}",
    )  # fmt: skip
    with tenant_context(family_a.tenant):
        assert PushDevice.objects.filter(pk=device.pk).exists()
