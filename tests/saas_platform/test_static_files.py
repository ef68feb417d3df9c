"""Static files in production: collected with content-hashed names (WhiteNoise's manifest
storage, settings.STORAGES), so the pages link ``/static/…/portal.<hash>.css`` and WhiteNoise
serves them cacheable for a year (Lighthouse's uses-long-cache-ttl): a new deploy changes the
name, never what a browser holds under the old one. The brand fonts the theme CSS names too."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from tests.helpers import host_of
from theming.fonts import font_file_url

pytestmark = pytest.mark.django_db
YEAR = 365 * 24 * 3600


@pytest.fixture
def collected(settings, tmp_path):
    """collectstatic as the image runs it (the apps whose files the portal pages use)."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command(
        "collectstatic",
        interactive=False,
        verbosity=0,
        ignore_patterns=["admin", "rest_framework", "drf_spectacular_sidecar"],
    )
    return tmp_path


def test_pages_link_hashed_static_files_served_with_a_year_of_cache(collected, in_tenant_a):
    client = Client(HTTP_HOST=host_of(in_tenant_a))
    page = client.get("/").content.decode()
    links = re.findall(r'href="(/static/portal_web/[a-z_]+\.[0-9a-f]{12}\.css)"', page)
    assert len(links) == 2, "portal.css and layouts.css, by their hashed names"
    for url in links:
        response = client.get(url)
        assert response.status_code == 200
        cache = response["Cache-Control"]
        max_age = int(re.search(r"max-age=(\d+)", cache).group(1))
        assert max_age >= YEAR and "immutable" in cache and "public" in cache
        # WhiteNoise also serves the compressed copy collectstatic made.
        gz = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert gz["Content-Encoding"] == "gzip"


def test_the_theme_fonts_are_linked_by_their_hashed_names(collected):
    url = font_file_url("poppins", 400)
    assert re.fullmatch(r"/static/theming/fonts/poppins/poppins-400\.[0-9a-f]{12}\.woff2", url)
    assert (collected / url.removeprefix("/static/")).exists()
