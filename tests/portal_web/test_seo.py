"""/robots.txt and /sitemap.xml on a business's portal host (portal_web/seo.py): crawlers are
kept out of the family's pages, the API, the console and the admin; the sitemap lists the public
pages of this business only, on the host that was asked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from portal.catalog.models import Offering
from portal.config.services import portal_settings_update
from tests.factories import OfferingFactory
from tests.helpers import host_of, tenant_today, web_client

pytestmark = pytest.mark.django_db

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_urls(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    return [loc.text or "" for loc in root.findall("s:url/s:loc", NS)]


def test_robots_txt_keeps_crawlers_out_of_machine_and_secret_urls_and_names_the_sitemap(tenant_a):
    response = web_client(tenant_a).get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=3600"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {line.removeprefix("Disallow: ") for line in lines if line.startswith("Disallow")}
    for private in ("/api/", "/console/", "/admin/", "/embed/", "/i18n/", "/waiting-room/"):
        assert private in disallowed
    # Links that carry a secret: calendar feeds, set-password and password-reset links.
    for secret in ("/calendar/abc.ics", "/account/set-password/x/y/", "/account/reset/x/y/"):
        assert any(secret.startswith(rule) for rule in disallowed), secret
    # Public pages, and the family's pages (a crawler gets the sign-in page there), stay
    # crawlable: Lighthouse scores a disallowed page "blocked from indexing".
    for page in ("/", "/classes/", "/classes/7/", "/staff/", "/store/", "/login/", "/cart/"):
        assert not any(page.startswith(rule) for rule in disallowed), page
    for page in ("/account/", "/family/", "/billing/"):
        assert not any(page.startswith(rule) for rule in disallowed), page
    assert lines[-1] == f"Sitemap: http://{host_of(tenant_a)}/sitemap.xml"


def test_robots_txt_answers_head_and_refuses_writes(tenant_a):
    client = web_client(tenant_a)
    assert client.head("/robots.txt").status_code == 200
    for method in (client.post, client.put, client.delete):
        assert method("/robots.txt").status_code == 405
        assert method("/sitemap.xml").status_code == 405


def test_the_sitemap_lists_home_staff_classes_and_each_open_class(in_tenant_a):
    today = tenant_today()
    shown = OfferingFactory(name="Shown")
    OfferingFactory(name="Draft", status=Offering.Status.DRAFT)
    OfferingFactory(
        name="Ended", start_date=today - timedelta(days=70), end_date=today - timedelta(days=1)
    )
    camp = OfferingFactory(name="Camp", kind=Offering.Kind.CAMP)
    portal_settings_update(show_camps=False)
    connection.set_schema_to_public()
    urls = sitemap_urls(web_client(in_tenant_a).get("/sitemap.xml"))
    origin = f"http://{host_of(in_tenant_a)}"
    assert urls[:3] == [f"{origin}/", f"{origin}/staff/", f"{origin}/classes/"]
    classes = [url for url in urls if re.fullmatch(rf"{origin}/classes/\d+/", url)]
    assert f"{origin}/classes/{shown.pk}/" in classes
    # Drafts, ended classes and kinds the business hides are not pages a visitor can open.
    listed = {int(url.rstrip("/").rsplit("/", 1)[1]) for url in classes}
    with tenant_context(in_tenant_a):
        names = set(Offering.objects.filter(pk__in=listed).values_list("name", flat=True))
    assert "Shown" in names and not names & {"Draft", "Ended", "Camp"}
    assert camp.pk not in listed
    # Every class listed opens for a visitor.
    client = web_client(in_tenant_a)
    assert client.get(f"/classes/{shown.pk}/").status_code == 200


def test_the_sitemap_leaves_classes_out_when_visitors_may_not_browse_them(in_tenant_a):
    OfferingFactory(name="Members only")
    portal_settings_update(list_visible_when_logged_out=False)
    connection.set_schema_to_public()
    urls = sitemap_urls(web_client(in_tenant_a).get("/sitemap.xml"))
    origin = f"http://{host_of(in_tenant_a)}"
    assert urls == [f"{origin}/", f"{origin}/staff/"]


def test_each_business_lists_its_own_classes_on_its_own_host(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        mine = OfferingFactory(name="Alpha class")
    with tenant_context(tenant_b):
        theirs = OfferingFactory(name="Beta class")
    connection.set_schema_to_public()
    urls_a = sitemap_urls(web_client(tenant_a).get("/sitemap.xml"))
    urls_b = sitemap_urls(web_client(tenant_b).get("/sitemap.xml"))
    assert all(url.startswith(f"http://{host_of(tenant_a)}/") for url in urls_a)
    assert all(url.startswith(f"http://{host_of(tenant_b)}/") for url in urls_b)
    assert f"http://{host_of(tenant_a)}/classes/{mine.pk}/" in urls_a
    assert f"http://{host_of(tenant_b)}/classes/{theirs.pk}/" in urls_b
    robots_b = web_client(tenant_b).get("/robots.txt").content.decode()
    assert f"Sitemap: http://{host_of(tenant_b)}/sitemap.xml" in robots_b
    assert host_of(tenant_a) not in robots_b


def test_an_unknown_host_has_no_robots_txt(db):
    from django.test import Client

    response = Client(HTTP_HOST="nobody.example.org").get("/robots.txt")
    assert response.status_code in (400, 404)
