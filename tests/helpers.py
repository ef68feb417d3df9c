"""What tests share besides fixtures: the session tenants, clients bound to a host, actors
with tokens, and the assertions every endpoint's tests make.

Test modules import from here (or from a helper module beside their tests), never from
another test module or a conftest; tests/test_layout.py checks it."""

from __future__ import annotations

import json
import zoneinfo
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context
from rest_framework.test import APIClient

from kernel.users.models import User
from kernel.users.services import api_token_issue
from tenants.models import Tenant


def assert_error(response, status: int, code: str, message: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["code"] == code, body
    assert set(body) == {"code", "message", "fields"}, body
    if message is not None:
        assert body["message"] == message, body
    return body


def assert_cross_tenant_denied(
    *,
    credentials_client: APIClient,
    target: Tenant | None,
    method: str,
    path: str,
    data: dict | None = None,
    forbidden_text: list[str] | None = None,
) -> None:
    """Tenant A's credentials (a token or session in ``credentials_client``) sent to another
    host get nothing: a 401, 403 or 404, and no trace of the target's data in the body.

    ``credentials_client`` is re-pointed at the target's host (None: the platform host)."""
    credentials_client.defaults["HTTP_HOST"] = host_of(target)
    send = getattr(credentials_client, method.lower())
    if method.lower() == "get":
        response = send(path)
    else:
        body = json.dumps(data) if data is not None else None
        response = send(path, data=body, content_type="application/json")
    assert response.status_code in (401, 403, 404), (response.status_code, response.content[:500])
    text = response.content.decode(errors="replace")
    secrets = list(forbidden_text or [])
    if target is not None:
        secrets += [target.name, target.owner_email]
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked in {response.status_code}: {text[:300]}"


def api_routes(urlconf: str, prefix: str) -> dict[str, object]:
    """Every route of a URL map under ``prefix``, in OpenAPI's spelling ({name} for
    <type:name>), with its view callback; the schema and docs pages left out."""
    import re

    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, object] = {}

    def walk(patterns, base: str) -> None:
        for pattern in patterns:
            route = base + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found["/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)] = pattern.callback

    walk(get_resolver(urlconf).url_patterns, "")
    return {
        path: callback
        for path, callback in found.items()
        if path.startswith(prefix) and not path.endswith(("/schema", "/docs"))
    }


SESSION_TENANTS = {
    "a": {
        "slug": "alpha",
        "name": "Alpha Gymnastics",
        "owner_email": "owner@alpha.test",
        "launched": True,
    },
    "b": {
        "slug": "beta",
        "name": "Beta Swim School",
        "owner_email": "owner@beta.test",
        "launched": True,
    },
}


# The session tenants' time zone (Tenant.timezone's default). Requests and tasks count days in
# it, so a test comparing with what they did uses its date, not UTC's (they differ for hours
# each day).
SESSION_ZONE = zoneinfo.ZoneInfo(Tenant._meta.get_field("timezone").default)


def tenant_today() -> date:
    """Today in the session tenants' zone (docs/tenancy.md, "Time")."""
    return timezone.localdate(timezone=SESSION_ZONE)


def session_tenant(key: str) -> Tenant:
    return Tenant.objects.get(schema_name=SESSION_TENANTS[key]["slug"])


def tenant_in_zone(tenant: Tenant, zone: str) -> Tenant:
    """The tenant with its time zone changed for this test (the test's transaction undoes it):
    its row, this instance, the routing cache (the next request routes to the changed row) and,
    when the connection is in the tenant's schema, the connection (tasks read the zone from it)
    and the test body's active zone (until the test ends)."""
    from tenants import routing

    Tenant.objects.filter(pk=tenant.pk).update(timezone=zone)
    tenant.timezone = zone
    routing.router.clear()
    if connection.schema_name == tenant.schema_name:
        connection.set_tenant(tenant)
        timezone.activate(tenant.zone)  # the test body too, like in_tenant_a
    return tenant


def host_of(tenant: Tenant | None) -> str:
    return tenant.primary_host if tenant is not None else settings.PLATFORM_DOMAIN


def client_for(tenant: Tenant | None, *, token: str | None = None) -> APIClient:
    """An API client whose requests carry the tenant's host (None: the platform host)."""
    client = APIClient(HTTP_HOST=host_of(tenant))
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@dataclass
class Actor:
    user: User
    token: str
    tenant: Tenant | None

    def client(self, tenant: Tenant | str | None = "own") -> APIClient:
        return client_for(self.tenant if tenant == "own" else tenant, token=self.token)


def make_actor(
    tenant: Tenant | None,
    *,
    email: str,
    staff: bool = False,
    superuser: bool = False,
    role: str | None = None,
) -> Actor:
    """A user with a bearer token in the tenant's schema (None: the public schema); with
    ``role`` (portal/staff/roles.py) a staff member holding that role."""
    context = tenant_context(tenant) if tenant is not None else schema_context("public")
    with context:
        user = User.objects.create_user(
            email=email,
            password="correct horse battery",
            is_staff=staff or role is not None,
            is_superuser=superuser,
        )
        if role is not None:
            from portal.staff.services import staff_role_set

            user = staff_role_set(user=user, role=role)
        _, raw = api_token_issue(user=user, name="tests")
    connection.set_schema_to_public()
    return Actor(user=user, token=raw, tenant=tenant)


@dataclass
class FamilyActor:
    guardian: object
    student: object
    token: str
    tenant: Tenant

    @property
    def family(self):
        return self.guardian.family

    def client(self, tenant: Tenant | str | None = "own") -> APIClient:
        return client_for(self.tenant if tenant == "own" else tenant, token=self.token)


def web_client(tenant, *, csrf_checks: bool = False) -> Client:
    """A browser-like Django test client on the tenant's host."""
    return Client(HTTP_HOST=host_of(tenant), enforce_csrf_checks=csrf_checks)


def signed_in(tenant, email: str, password: str | None = None) -> Client:
    """A web client signed in through the real sign-in page (a session in that tenant's own
    tables); the factories' password unless another is given."""
    from tests.factories import PASSWORD

    client = web_client(tenant)
    response = client.post("/login/", {"email": email, "password": password or PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    connection.set_tenant(tenant)
    return client


def race(tenant: Tenant, fn, jobs: list) -> list[tuple[str, object]]:
    """Run ``fn(job)`` for every job at once, each in its own thread on its own database
    connection in the tenant's schema (a barrier releases them together), committing for real.
    Returns ``("ok", result)`` or ``(error code, None)`` per job, in order; anything but an
    ApplicationError comes back as ``("crash: ...", None)``."""
    import threading

    from kernel.errors import ApplicationError

    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, object]] = [("not run", None)] * len(jobs)

    def run(index, job):
        try:
            connection.set_tenant(tenant)
            barrier.wait(timeout=20)
            results[index] = ("ok", fn(job))
        except ApplicationError as exc:
            results[index] = (exc.code, None)
        except Exception as exc:  # reported by the caller's assertion
            results[index] = (f"crash: {exc!r}", None)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
