"""The "opening soon" answer of a business not launched yet speaks the visitor's language:
the page and the API's message in Spanish when the browser or the language cookie asks for it,
English otherwise."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from tenants import routing
from tenants.models import Tenant
from tests.helpers import client_for, web_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def unlaunched(tenant_a) -> Tenant:
    Tenant.objects.filter(pk=tenant_a.pk).update(launched_at=None, contact_email="hi@alpha.test")
    routing.router.clear()
    connection.set_schema_to_public()
    return Tenant.objects.get(pk=tenant_a.pk)


def test_the_opening_soon_page_in_english(unlaunched):
    response = web_client(unlaunched).get("/")
    page = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "3600"
    assert '<html lang="en">' in page
    assert f"{unlaunched.name}'s customer portal is opening soon" in page
    assert "Online registration is not open yet." in page
    assert 'href="mailto:hi@alpha.test"' in page


def test_the_opening_soon_page_and_api_message_in_spanish(unlaunched):
    response = web_client(unlaunched).get("/classes/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    page = response.content.decode()
    assert response.status_code == 503
    assert '<html lang="es">' in page
    assert f"El portal de clientes de {unlaunched.name} abre pronto" in page
    assert f"<title>{unlaunched.name}: abre pronto</title>" in page
    assert "La inscripción en línea aún no está abierta." in page
    assert "¿Preguntas? Escriba a" in page
    assert "opening soon" not in page and "Online registration" not in page
    api = client_for(unlaunched)
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    answer = api.get("/api/v1/portal")
    assert answer.status_code == 503
    assert answer.json() == {
        "code": "portal_not_launched",
        "message": f"El portal de clientes de {unlaunched.name} abre pronto.",
        "fields": {},
    }
