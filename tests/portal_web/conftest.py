"""Web portal test helpers: a browser-like Django test client on a tenant host, signed in
through the real sign-in page (a session in that tenant's own tables)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from tests.conftest import host_of
from tests.factories import PASSWORD


def web_client(tenant, *, csrf_checks: bool = False) -> Client:
    return Client(HTTP_HOST=host_of(tenant), enforce_csrf_checks=csrf_checks)


def signed_in(tenant, email: str, password: str = PASSWORD) -> Client:
    client = web_client(tenant)
    response = client.post("/login/", {"email": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    connection.set_tenant(tenant)
    return client


@pytest.fixture
def family_web(family_a):
    """Tenant A's family, signed in on A's host."""
    family_a.web = signed_in(family_a.tenant, family_a.guardian.email)
    return family_a
