"""Cache-Control: no-store on every family, staff and platform-admin API answer (and on any
answer to a request that carried credentials); public anonymous answers keep their caching."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from kernel.api.caching import view_is_private
from tests.helpers import api_routes, client_for

pytestmark = pytest.mark.django_db


def _fill(path: str) -> str:
    path = path.replace("{day}", "2026-01-05")  # <isodate:day>: a date, or no route at all
    return re.sub(r"\{\w+\}", "1", path)


def _routes(urlconf: str, prefix: str):
    for path, callback in sorted(api_routes(urlconf, prefix).items()):
        yield _fill(path), getattr(callback, "cls", None)


def test_every_private_tenant_route_answers_no_store(family_a, staff_a, tenant_a):
    connection.set_schema_to_public()
    anonymous = client_for(tenant_a)
    family = client_for(tenant_a, token=family_a.token)
    staff = client_for(tenant_a, token=staff_a.token)
    private = public_cached = 0
    for path, view in _routes("saas_platform.urls_tenant", "/api/v1/"):
        if path.endswith("/auth/logout"):
            continue  # would revoke the tokens used below
        for who, client in (("family", family), ("staff", staff)):
            response = client.get(path)
            assert response["Cache-Control"] == "no-store", (who, path, response.status_code)
        response = anonymous.get(path)
        if view_is_private(view):
            private += 1
            assert response["Cache-Control"] == "no-store", ("anonymous", path)
        elif "public" in response.get("Cache-Control", ""):
            public_cached += 1
    assert private > 30
    assert public_cached >= 1  # the theme's public caching is left alone for visitors


def test_sign_in_and_sign_up_answers_are_never_stored(family_a, tenant_a):
    connection.set_schema_to_public()
    client = client_for(tenant_a)
    body = {"email": "parent@alpha.test", "password": "wrong-password"}
    for path in ("/api/v1/auth/token", "/api/v1/auth/signup"):
        response = client.post(path, body, format="json")
        assert response.status_code in (400, 401)
        assert response["Cache-Control"] == "no-store", path
    from tests.factories import PASSWORD

    ok = client.post("/api/v1/auth/token", {**body, "password": PASSWORD}, format="json")
    assert ok.status_code == 200 and ok["Cache-Control"] == "no-store"


def test_every_platform_admin_route_answers_no_store(platform_admin):
    admin = platform_admin.client()
    anonymous = client_for(None)
    for path, view in _routes("saas_platform.urls_public", "/api/platform/v1/"):
        if path.endswith("/auth/logout"):
            continue
        assert admin.get(path)["Cache-Control"] == "no-store", path
        if view_is_private(view):
            assert anonymous.get(path)["Cache-Control"] == "no-store", path
