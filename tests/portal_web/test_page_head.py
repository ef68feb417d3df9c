"""What every page's <head> gives search engines and browsers (Lighthouse's SEO and best
practices, tests/bench/lighthouse.py): a meta description, the page's own where it has one, in
the family's language; an icon link, so no browser asks for a /favicon.ico the host does not
have."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.test import Client

from portal.config.services import portal_settings_update
from tests.helpers import host_of
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db


def head(response) -> str:
    assert response.status_code == 200
    return response.content.decode().split("</head>", 1)[0]


def description(response) -> str:
    found = re.findall(r'<meta name="description" content="([^"]*)">', head(response))
    assert len(found) == 1, "exactly one meta description"
    return html_lib.unescape(found[0])


def test_home_describes_the_business_with_its_welcome_message(in_tenant_a):
    client = Client(HTTP_HOST=host_of(in_tenant_a))
    assert description(client.get("/")) == (
        f"Classes, registration and your family's account at {in_tenant_a.name}."
    )
    portal_settings_update(welcome_message="Tumbling & more for ages 2+. " + "x" * 300)
    text = description(client.get("/"))
    assert text.startswith("Tumbling & more for ages 2+.") and len(text) == 160


def test_the_class_list_and_a_class_have_their_own_description(in_tenant_a):
    client = Client(HTTP_HOST=host_of(in_tenant_a))
    assert description(client.get("/classes/")) == (
        f"Find and register for classes, camps and events at {in_tenant_a.name}."
    )
    described = make_offering(name="Rec Gym", description="Cartwheels, rolls & balance.")
    assert description(client.get(f"/classes/{described.pk}/")) == "Cartwheels, rolls & balance."
    plain = make_offering(name="Open Gym", description="")
    assert description(client.get(f"/classes/{plain.pk}/")) == (
        f"Open Gym: {plain.program.name} at {in_tenant_a.name}."
    )


def test_descriptions_are_in_the_familys_language(in_tenant_a):
    client = Client(HTTP_HOST=host_of(in_tenant_a), HTTP_ACCEPT_LANGUAGE="es")
    assert description(client.get("/classes/")) == (
        f"Encuentre clases, campamentos y eventos en {in_tenant_a.name} e inscríbase."
    )


def test_signed_in_pages_have_a_description_and_an_icon(family_web):
    for path in ("/", "/cart/", "/account/", "/family/"):
        response = family_web.web.get(path)
        assert description(response), path
        # No favicon published: an empty icon, so the browser requests no /favicon.ico.
        assert '<link rel="icon" href="data:,">' in head(response), path
