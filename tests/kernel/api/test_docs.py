"""The API docs pages (/api/v1/docs on a business's host, /api/platform/v1/docs on the root
host) load Redoc from our own static files, not a CDN, and the CSP lets them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders

from tests.helpers import client_for


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "spec-url"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1


def _directive(csp: str, name: str) -> list[str]:
    for part in csp.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return []


@pytest.mark.parametrize(
    ("host", "path", "schema"),
    [("tenant", "/api/v1/docs", "/api/v1/schema"), (None, "/api/platform/v1/docs", None)],
)
def test_the_docs_page_references_only_same_origin_assets(in_tenant_a, host, path, schema):
    client = client_for(in_tenant_a if host else None)
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assets = _Assets()
    assets.feed(page)
    assert assets.urls, page
    for url in assets.urls:
        assert url.startswith("/") and not url.startswith("//"), url
    assert "googleapis" not in page and "jsdelivr" not in page
    scripts = [u for u in assets.urls if u.endswith(".js")]
    assert scripts == ["/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"]
    assert finders.find(scripts[0].removeprefix("/static/")), "the bundle ships in the wheel"
    spec_url = next(u for u in assets.urls if "schema" in u)
    assert client.get(spec_url).status_code == 200
    if schema:
        assert spec_url == schema
    # The CSP lets the page run: scripts from 'self' and no inline script to need a nonce.
    csp = response["Content-Security-Policy"]
    assert "'self'" in _directive(csp, "script-src")
    assert assets.inline_scripts == 0
    assert re.search(r"default-src 'self'", csp)
    assert _directive(csp, "worker-src") == ["'self'", "blob:"]  # Redoc's search worker


def test_only_the_docs_pages_allow_blob_workers(in_tenant_a):
    csp = client_for(in_tenant_a).get("/api/v1/portal")["Content-Security-Policy"]
    assert "blob:" not in csp


@pytest.mark.parametrize("urlconf", ["saas_platform.urls_tenant", "saas_platform.urls_public"])
def test_the_schema_has_no_two_serializers_under_one_component_name(urlconf):
    """Two serializers with one class name become one OpenAPI component: drf-spectacular keeps
    whichever it meets first, so the other endpoint's documented (and the app's generated) type is
    wrong. Each component name must belong to one serializer."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    try:
        schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
        collisions = [w for w in GENERATOR_STATS._warn_cache if "identical names" in w]
    finally:
        GENERATOR_STATS.reset()
    assert collisions == []
    if urlconf.endswith("tenant"):
        waitlist = schema["components"]["schemas"]["WaitlistOutput"]["properties"]
        assert {"position", "offer_expires_at"} <= set(waitlist)
