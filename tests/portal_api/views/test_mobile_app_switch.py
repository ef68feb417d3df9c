"""The mobile-app switch really turns the app off: the portal config says so, app sign-in and
app signup answer ``mobile_app_disabled``, an app signed in earlier is refused too, and the web
portal (its own session) keeps working; switching it back on restores everything."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tests.factories import PASSWORD
from tests.helpers import assert_error, client_for, host_of, make_actor

pytestmark = pytest.mark.django_db


def test_switching_the_app_off_and_on(in_tenant_a, family_a):
    owner = make_actor(in_tenant_a, email="boss@alpha.test", role="owner")
    connection.set_tenant(in_tenant_a)
    visitor = client_for(in_tenant_a)
    email = family_a.guardian.email
    assert family_a.client().get("/api/v1/family").status_code == 200

    off = owner.client().patch("/api/v1/staff/settings", {"mobile_app_enabled": False},
                               format="json")  # fmt: skip
    assert off.status_code == 200 and off.json()["mobile_app_enabled"] is False
    assert visitor.get("/api/v1/portal").json()["settings"]["mobile_app_enabled"] is False
    body = assert_error(
        visitor.post("/api/v1/auth/token", {"email": email, "password": PASSWORD}, format="json"),
        403,
        "mobile_app_disabled",
    )
    assert in_tenant_a.name in body["message"] and "web" in body["message"]
    assert_error(visitor.post("/api/v1/auth/signup", {}, format="json"), 403,
                 "mobile_app_disabled")  # fmt: skip
    assert_error(family_a.client().get("/api/v1/family"), 403, "mobile_app_disabled")
    # The web portal is not the app: a family signed in there carries on.
    web = Client(HTTP_HOST=host_of(in_tenant_a))
    with tenant_context(in_tenant_a):
        web.force_login(family_a.guardian.user)
    connection.set_tenant(in_tenant_a)
    assert web.get("/family/").status_code == 200
    assert web.get("/api/v1/family").status_code == 200  # the web's session, not a token

    owner.client().patch("/api/v1/staff/settings", {"mobile_app_enabled": True}, format="json")
    signed = visitor.post("/api/v1/auth/token", {"email": email, "password": PASSWORD},
                          format="json")  # fmt: skip
    assert signed.status_code == 200 and signed.json()["token"]
    assert family_a.client().get("/api/v1/family").status_code == 200
