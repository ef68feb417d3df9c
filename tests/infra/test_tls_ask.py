"""The proxies' on-demand TLS check (infra/caddy/Caddyfile, infra/k8s/base/edge/Caddyfile) is
answered on the web service's own address, through the allowed-hosts check and before the
HTTPS redirect, and says yes only for names the platform serves."""

import pytest
from django.test import override_settings

from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@override_settings(SECURE_SSL_REDIRECT=True)
@pytest.mark.parametrize("upstream", ["web:8000", "web:80", "10.12.0.7:8000"])
def test_caddy_ask_reaches_the_platform_on_the_upstream_address(upstream, tenant_a):
    client = client_for(None)
    client.defaults["HTTP_HOST"] = upstream
    allowed = client.get("/_tls/ask", {"domain": tenant_a.primary_host})
    assert allowed.status_code == 200
    assert allowed.json()["allowed"] is True
    refused = client.get("/_tls/ask", {"domain": "not-ours.example.org"})
    assert refused.status_code == 404
    assert refused.json()["allowed"] is False
    # Any other path on that address is an unknown host, as before.
    other = client.get("/api/v1/portal", HTTP_ACCEPT="application/json")
    assert other.status_code == 404 and other.json()["code"] == "unknown_host"
