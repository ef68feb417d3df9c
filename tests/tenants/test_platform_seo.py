"""/robots.txt and /sitemap.xml on the platform's root host (tenants/views.py): the landing page
is public; the admin, the platform console, the platform API and Stripe's webhook are not for
crawlers. Each business's portal has its own (tests/portal_web/test_seo.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.conf import settings

from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_the_root_host_robots_txt_names_its_sitemap(tenant_a):
    response = client_for(None).get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().splitlines() == [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /console/",
        "Disallow: /webhooks/",
        "",
        f"Sitemap: http://{settings.PLATFORM_DOMAIN}/sitemap.xml",
    ]
    # No business's host or portal page leaks into the platform's robots.txt.
    assert tenant_a.primary_host not in response.content.decode()


def test_the_root_host_sitemap_lists_the_landing_page(tenant_a):
    response = client_for(None).get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert [loc.text for loc in root.findall("s:url/s:loc", ns)] == [
        f"http://{settings.PLATFORM_DOMAIN}/"
    ]
    assert client_for(None).post("/sitemap.xml").status_code == 405
