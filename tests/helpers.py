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
