import json

import pytest
from django_tenants.utils import schema_exists

from tenants.models import Tenant
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, make_actor

pytestmark = pytest.mark.django_db

BASE = "/api/platform/v1"
NEW = {"name": "Gamma Dance", "slug": "gamma", "owner_email": "owner@gamma.test"}

ADMIN_ENDPOINTS = [
    ("get", f"{BASE}/tenants", None),
    ("post", f"{BASE}/tenants", NEW),
    ("get", f"{BASE}/tenants/alpha", None),
    ("post", f"{BASE}/tenants/alpha/suspend", None),
    ("post", f"{BASE}/tenants/alpha/reactivate", None),
]


def _send(client, method, path, data=None):
    return getattr(client, method)(
        path, data=json.dumps(data) if data is not None else None, content_type="application/json"
    )


# --- permissions -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "data"), ADMIN_ENDPOINTS)
def test_anonymous_is_refused(method, path, data):
    response = _send(client_for(None), method, path, data)
    assert_error(response, 401, "not_authenticated")
    assert not Tenant.objects.filter(schema_name="gamma").exists()
    assert Tenant.objects.get(schema_name="alpha").status == "active"


@pytest.mark.parametrize(("method", "path", "data"), ADMIN_ENDPOINTS)
def test_public_non_staff_user_is_refused(method, path, data):
    user = make_actor(None, email="someone@platform.test")
    response = _send(user.client(), method, path, data)
    assert_error(response, 403, "permission_denied", "Only platform admins may use this endpoint.")
    assert not Tenant.objects.filter(schema_name="gamma").exists()


@pytest.mark.parametrize(("method", "path", "data"), ADMIN_ENDPOINTS)
def test_tenant_staff_token_means_nothing_on_the_platform_host(method, path, data, staff_a):
    assert_cross_tenant_denied(
        credentials_client=staff_a.client(),
        target=None,
        method=method,
        path=path,
        data=data,
        forbidden_text=["Beta Swim School"],
    )
    assert not Tenant.objects.filter(schema_name="gamma").exists()
    assert Tenant.objects.get(schema_name="alpha").status == "active"


@pytest.mark.parametrize(("method", "path", "data"), ADMIN_ENDPOINTS)
def test_platform_token_gets_nothing_on_a_tenant_host(method, path, data, platform_admin, tenant_b):
    assert_cross_tenant_denied(
        credentials_client=platform_admin.client(),
        target=tenant_b,
        method=method,
        path=path,
        data=data,
    )


def test_revoked_or_garbage_tokens_are_refused(platform_admin):
    from kernel.users.services import api_token_revoke

    client = client_for(None, token="not-a-real-token")
    assert_error(
        client.get(f"{BASE}/tenants"), 401, "authentication_failed", "Invalid or revoked token."
    )
    client = platform_admin.client()
    api_token_revoke(token=platform_admin.user.api_tokens.get())
    assert_error(client.get(f"{BASE}/tenants"), 401, "authentication_failed")
    bad = client_for(None)
    bad.credentials(HTTP_AUTHORIZATION="Bearer two words")
    assert_error(
        bad.get(f"{BASE}/tenants"), 401, "authentication_failed", "Malformed Authorization header."
    )


# --- token --------------------------------------------------------------------------------


def test_platform_admin_exchanges_password_for_token(platform_admin):
    response = client_for(None).post(
        f"{BASE}/auth/token",
        {"email": "ROOT@platform.test", "password": "correct horse battery", "device": "laptop"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert client_for(None, token=token).get(f"{BASE}/tenants").status_code == 200
    stored = platform_admin.user.api_tokens.get(name="laptop")
    assert token not in (stored.key_hash, stored.prefix)  # only a hash is stored


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "root@platform.test", "password": "wrong"},
        {"email": "nobody@platform.test", "password": "correct horse battery"},
    ],
)
def test_token_with_bad_credentials(payload, platform_admin):
    response = client_for(None).post(f"{BASE}/auth/token", payload, format="json")
    assert_error(response, 401, "invalid_credentials", "The email or password is not correct.")


def test_token_refused_to_non_staff_and_to_tenant_users(staff_a):
    make_actor(None, email="plain@platform.test")
    for email in ("plain@platform.test", "staff@alpha.test"):
        response = client_for(None).post(
            f"{BASE}/auth/token",
            {"email": email, "password": "correct horse battery"},
            format="json",
        )
        assert_error(response, 401, "invalid_credentials")


def test_token_bad_input():
    response = client_for(None).post(f"{BASE}/auth/token", {"email": "x"}, format="json")
    body = assert_error(response, 400, "invalid_input")
    assert set(body["fields"]) == {"email", "password"}


# --- create -------------------------------------------------------------------------------


def test_create_provisions_through_celery_and_answers_202(
    platform_admin, django_capture_on_commit_callbacks
):
    client = platform_admin.client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}/tenants", NEW, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["slug"] == "gamma"
    assert body["status"] == "provisioning"  # as registered; the task runs after commit
    assert body["status_url"] == f"{BASE}/tenants/gamma"
    assert response["Location"] == body["status_url"]
    detail = client.get(body["status_url"]).json()
    assert detail["status"] == "active"
    assert detail["domains"] == ["gamma.testserver.local"]
    assert detail["portal_url"] == "http://gamma.testserver.local/"
    assert detail["launched_at"] is None and detail["listed_in_directory"] is True
    # Onboarded unlaunched: routable, but families see "opening soon" (503) until launch.
    gamma = client_for(Tenant.objects.get(schema_name="gamma"))
    assert gamma.get("/").status_code == 503
    assert gamma.get("/api/v1/portal").json()["code"] == "portal_not_launched"
    assert gamma.get("/console/login/").status_code == 200


def test_create_enqueues_only_after_commit(platform_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = platform_admin.client().post(f"{BASE}/tenants", NEW, format="json")
    assert response.status_code == 202
    assert Tenant.objects.get(schema_name="gamma").status == "provisioning"
    assert not schema_exists("gamma")
    for callback in callbacks:  # what the commit would have run
        callback()
    assert Tenant.objects.get(schema_name="gamma").status == "active"


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"slug": "www"}, 400, "slug_reserved"),
        ({"slug": "9lives"}, 400, "slug_must_start_with_letter"),
        ({"slug": "a" * 41}, 400, "slug_too_long"),
        ({"slug": "UPPER"}, 400, "slug_invalid_characters"),
        ({"slug": "alpha"}, 409, "slug_taken"),
        ({"owner_email": "nope"}, 400, "owner_email_invalid"),
        ({"timezone": "Nowhere/City"}, 400, "timezone_invalid"),
        ({"currency": "ZZZ"}, 400, "currency_unsupported"),
        ({"locale": "xx"}, 400, "locale_unsupported"),
        ({"name": ""}, 400, "invalid_input"),
        ({"slug": None}, 400, "invalid_input"),
        ({"slug": ["a"]}, 400, "invalid_input"),
    ],
)
def test_create_bad_input(changes, status, code, platform_admin):
    before = Tenant.objects.count()
    response = platform_admin.client().post(f"{BASE}/tenants", {**NEW, **changes}, format="json")
    assert_error(response, status, code)
    assert Tenant.objects.count() == before


def test_create_missing_fields_and_malformed_json(platform_admin):
    client = platform_admin.client()
    body = assert_error(client.post(f"{BASE}/tenants", {}, format="json"), 400, "invalid_input")
    assert set(body["fields"]) == {"name", "slug", "owner_email"}
    response = client.post(f"{BASE}/tenants", data="{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")
    response = client.post(
        f"{BASE}/tenants", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_create_with_unknown_fields_ignores_them(
    platform_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = platform_admin.client().post(
            f"{BASE}/tenants", {**NEW, "status": "active", "schema_name": "public"}, format="json"
        )
    assert response.status_code == 202
    assert Tenant.objects.get(schema_name="gamma").name == "Gamma Dance"


# --- list, detail, lifecycle ------------------------------------------------------------


def test_list_filters_and_paginates(platform_admin, tenant_a, tenant_b):
    client = platform_admin.client()
    body = client.get(f"{BASE}/tenants").json()
    assert [t["slug"] for t in body["results"]] == ["alpha", "beta"]
    assert body["count"] == 2
    assert [t["slug"] for t in client.get(f"{BASE}/tenants?q=swim").json()["results"]] == ["beta"]
    assert client.get(f"{BASE}/tenants?status=suspended").json()["count"] == 0
    assert client.get(f"{BASE}/tenants?page_size=1").json()["next"]
    assert_error(client.get(f"{BASE}/tenants?status=sleeping"), 400, "invalid_filter")
    assert_error(client.get(f"{BASE}/tenants?page=99"), 404, "not_found")


def test_detail_and_unknown_slug(platform_admin):
    client = platform_admin.client()
    body = client.get(f"{BASE}/tenants/alpha").json()
    assert body["name"] == "Alpha Gymnastics"
    assert body["status"] == "active"
    assert body["domains"] == ["alpha.testserver.local"]
    assert_error(
        client.get(f"{BASE}/tenants/nobody"),
        404,
        "tenant_not_found",
        "No tenant with the slug “nobody”.",
    )


def test_suspend_and_reactivate_through_the_api(
    platform_admin, tenant_a, django_capture_on_commit_callbacks
):
    client = platform_admin.client()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{BASE}/tenants/alpha/suspend").json()["status"] == "suspended"
    assert client_for(tenant_a).get("/").status_code == 503
    assert_error(client_for(tenant_a).get("/api/v1/portal"), 403, "tenant_suspended")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{BASE}/tenants/alpha/reactivate").json()["status"] == "active"
    assert client_for(tenant_a).get("/").status_code == 200
    assert_error(client.post(f"{BASE}/tenants/nobody/suspend"), 404, "tenant_not_found")


def test_suspending_a_provisioning_tenant_is_a_conflict(platform_admin):
    from tenants.services import tenant_register

    tenant_register(name="Half", slug="half", owner_email="o@half.test")
    response = platform_admin.client().post(f"{BASE}/tenants/half/suspend")
    assert_error(
        response,
        409,
        "invalid_status_transition",
        "A tenant that is provisioning cannot be suspended.",
    )


# --- directory ----------------------------------------------------------------------------


def test_directory_is_public_and_lists_active_tenants_only(tenant_a, tenant_b):
    from tenants.services import tenant_register, tenant_suspend

    tenant_register(name="Alpine Half", slug="alpine", owner_email="o@alpine.test")
    tenant_suspend(slug="beta")
    body = client_for(None).get(f"{BASE}/directory").json()
    assert body["results"] == [
        {
            "slug": "alpha",
            "name": "Alpha Gymnastics",
            "portal_url": "http://alpha.testserver.local/",
            "api_base_url": "http://alpha.testserver.local/api/v1/",
            "logo_url": "",
        }
    ]


def test_directory_search(tenant_a, tenant_b):
    client = client_for(None)
    assert [e["slug"] for e in client.get(f"{BASE}/directory?q=SWIM").json()["results"]] == ["beta"]
    assert client.get(f"{BASE}/directory?q=zzz").json()["results"] == []
    assert_error(client.get(f"{BASE}/directory?q=" + "x" * 101), 400, "query_too_long")


def test_openapi_schema_and_docs():
    client = client_for(None)
    schema = client.get(f"{BASE}/schema", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/tenants",
        "/tenants/{slug}",
        "/tenants/{slug}/suspend",
        "/directory",
        "/auth/token",
    ):
        assert f"{BASE}{path}" in paths
    assert client.get(f"{BASE}/docs").status_code == 200
