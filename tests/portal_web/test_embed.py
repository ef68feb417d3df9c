"""The website widget: /embed.js and its public JSON list (CORS only there, no cookies)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from portal.config.services import portal_settings_update
from tests.factories import LevelFactory, LocationFactory, ProgramFactory
from tests.portal.enrollment_helpers import make_offering, next_weekday

pytestmark = pytest.mark.django_db
ORIGIN = "https://www.example-gym.test"
MONDAY = next_weekday(0, 7)


def get(tenant, path, **headers):
    client = Client(HTTP_HOST=tenant.primary_host)
    return client.get(path, HTTP_ORIGIN=ORIGIN, **headers)


@pytest.fixture
def catalog(in_tenant_a):
    gym = ProgramFactory(name="Gymnastics")
    swim = ProgramFactory(name="Swim")
    main = LocationFactory(name="Main gym")
    annex = LocationFactory(name="Annex")
    beginner = LevelFactory(program=gym, name="Beginner", position=1)
    advanced = LevelFactory(program=gym, name="Advanced", position=2)
    offerings = {
        "tots": make_offering(name="Tiny Tumblers", program=gym, location=main, levels=[beginner],
                              start_date=MONDAY + timedelta(days=1), min_age=3, max_age=5),
        "flips": make_offering(name="Flip Team", program=gym, location=annex, levels=[advanced],
                               start_date=MONDAY + timedelta(days=3)),
        "swim": make_offering(name="Splash", program=swim, location=main, capacity=1,
                              start_date=MONDAY + timedelta(days=5)),
    }  # fmt: skip
    connection.set_schema_to_public()
    return offerings


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["results"]]


def test_embed_js_is_javascript_with_cache_headers_and_no_cookies(tenant_a):
    response = get(tenant_a, "/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert not response.cookies and "Set-Cookie" not in response
    body = response.content.decode()
    assert f'var ORIGIN = "http://{tenant_a.primary_host}";' in body
    assert 'credentials: "omit"' in body
    assert "/embed/offerings.json" in body
    assert "Cargando" in body  # the Spanish loading message is there for data-lang="es"
    etag = response["ETag"]
    again = get(tenant_a, "/embed.js", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304


def test_json_lists_classes_with_enroll_links_and_cors(catalog, tenant_a):
    response = get(tenant_a, "/embed/offerings.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert response["Cache-Control"] == "public, max-age=60"
    assert not response.cookies and "Set-Cookie" not in response
    body = response.json()
    assert names(response) == ["Tiny Tumblers", "Flip Team", "Splash"]
    assert body["business"]["name"] == tenant_a.name
    first = body["results"][0]
    host = f"http://{tenant_a.primary_host}"
    assert first["url"] == f"{host}/classes/{catalog['tots'].pk}/"
    assert first["availability"] == {"status": "OPEN", "openings": 3, "waitlist": 0}
    assert body["search_url"] == f"{host}/classes/"
    assert body["labels"]["enroll"] == "Enroll"
    preflight = Client(HTTP_HOST=tenant_a.primary_host).options(
        "/embed/offerings.json", HTTP_ORIGIN=ORIGIN
    )
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "*"


def test_filters_by_name_or_id_and_the_search_deep_link(catalog, tenant_a):
    gym = catalog["tots"].program
    assert names(get(tenant_a, "/embed/offerings.json?program=gymnastics")) == [
        "Tiny Tumblers",
        "Flip Team",
    ]
    response = get(tenant_a, f"/embed/offerings.json?program={gym.pk}&location=Main%20gym")
    assert names(response) == ["Tiny Tumblers"]
    host = f"http://{tenant_a.primary_host}"
    location = catalog["tots"].location
    assert response.json()["search_url"] == (
        f"{host}/classes/?program={gym.pk}&location={location.pk}"
    )
    # Offerings open to every level match a level filter too (the API's rule).
    assert names(get(tenant_a, "/embed/offerings.json?level=Gymnastics:Advanced")) == [
        "Flip Team",
        "Splash",
    ]
    assert names(get(tenant_a, "/embed/offerings.json?age=20")) == ["Flip Team", "Splash"]
    assert names(get(tenant_a, "/embed/offerings.json?day=sat")) == ["Splash"]
    assert names(get(tenant_a, "/embed/offerings.json?limit=1")) == ["Tiny Tumblers"]
    assert get(tenant_a, "/embed/offerings.json?limit=1").json()["more"] is True
    spanish = get(tenant_a, "/embed/offerings.json?lang=es").json()
    assert spanish["language"] == "es" and spanish["labels"]["enroll"] == "Inscribirse"


@pytest.mark.parametrize(
    "query, field",
    [
        ("program=Nope", "program"),
        ("age=abc", "age"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("colour=red", "colour"),
        ("day=someday", "day"),
    ],
)
def test_bad_filters_are_400_with_cors(catalog, tenant_a, query, field):
    response = get(tenant_a, f"/embed/offerings.json?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filter" and field in body["fields"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_hidden_list_answers_login_required(catalog, tenant_a):
    with tenant_context(tenant_a):
        portal_settings_update(list_visible_when_logged_out=False)
    response = get(tenant_a, "/embed/offerings.json")
    assert response.status_code == 401 and response.json()["code"] == "login_required"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_cors_only_on_embed_endpoints(catalog, tenant_a):
    for path in ("/", "/classes/", "/api/v1/offerings", "/theme.css", "/api/v1/portal"):
        response = get(tenant_a, path)
        assert "Access-Control-Allow-Origin" not in response, path


def test_cross_tenant_isolation(catalog, tenant_a, tenant_b):
    with tenant_context(tenant_b):
        make_offering(name="Beta Lap Swim", program=ProgramFactory(name="Lap"))
    a = get(tenant_a, "/embed/offerings.json")
    b = get(tenant_b, "/embed/offerings.json")
    assert "Beta Lap Swim" not in names(a)
    assert names(b) == ["Beta Lap Swim"]
    assert tenant_a.name not in b.content.decode()
    assert all(tenant_b.primary_host in item["url"] for item in b.json()["results"])
    # An id from tenant A is unknown on B's host.
    program_a = catalog["tots"].program_id
    assert get(tenant_b, f"/embed/offerings.json?program={program_a}").status_code in (200, 400)
    assert (
        "Tiny Tumblers"
        not in get(tenant_b, f"/embed/offerings.json?program={program_a}").content.decode()
    )


def test_the_hosts_port_is_never_reflected_into_the_cached_widget(catalog, tenant_a, settings):
    poisoned = Client(HTTP_HOST=f"{tenant_a.primary_host}:6666")
    script = poisoned.get("/embed.js").content.decode()
    assert ":6666" not in script
    assert f'var ORIGIN = "http://{tenant_a.primary_host}";' in script
    body = poisoned.get("/embed/offerings.json").content.decode()
    assert ":6666" not in body and f"http://{tenant_a.primary_host}/classes/" in body
    # The configured port and scheme are what links carry (a deployment on a port of its own).
    settings.PLATFORM_URL_PORT = "8443"
    settings.PLATFORM_URL_SCHEME = "https"
    body = poisoned.get("/embed/offerings.json").json()
    assert body["search_url"] == f"https://{tenant_a.primary_host}:8443/classes/"
