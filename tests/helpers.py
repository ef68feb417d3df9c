"""Assertions shared by every endpoint's tests."""

from __future__ import annotations

import json

from rest_framework.test import APIClient

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
    from tests.conftest import host_of

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
