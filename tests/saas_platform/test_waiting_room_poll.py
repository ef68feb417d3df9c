"""Status polls answered before sessions, authentication and DRF
(saas_platform/waiting_room_poll.py): the same answers as through the whole stack, no SQL at
all once warm (not even a signed-in browser's session), the errors, Spanish, and everything
else left to the ordinary stack."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from portal.config.services import portal_settings_update
from portal_api.views.openings import OpeningQueueApi
from tests.helpers import assert_error, client_for, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def family_web(family_a):
    family_a.web = signed_in(family_a.tenant, family_a.guardian.email)
    return family_a


def _sql(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SET ")]


def test_app_poll_by_ticket_skips_drf_and_runs_no_sql(opening, family_a):
    url = f"/api/v1/openings/{opening.pk}/queue"
    joined = family_a.client().post(url).json()
    assert joined["state"] == "before_opening" and joined["poll_seconds"] == 10
    ticket = joined["ticket"]
    through_drf = family_a.client().get(url).json()  # bearer token: the whole stack
    anonymous = client_for(family_a.tenant)
    anonymous.get(url, HTTP_X_WAITING_ROOM_TICKET=ticket)  # warms this process's copies
    connection.set_schema_to_public()
    with (
        mock.patch.object(OpeningQueueApi, "get", side_effect=AssertionError("DRF reached")),
        CaptureQueriesContext(connection) as ctx,
    ):
        polled = anonymous.get(url, HTTP_X_WAITING_ROOM_TICKET=ticket)
    assert polled.status_code == 200, polled.content
    assert polled["Cache-Control"] == "no-store"
    assert _sql(ctx) == []
    body = polled.json()
    assert body == {**through_drf, "seconds_to_open": body["seconds_to_open"]}
    assert body["state"] == "before_opening" and body["poll_seconds"] == 10


def test_app_poll_errors_are_the_apis(opening, family_a, tenant_b):
    url = f"/api/v1/openings/{opening.pk}/queue"
    ticket = family_a.client().post(url).json()["ticket"]
    anonymous = client_for(family_a.tenant)
    assert_error(anonymous.get(url, HTTP_X_WAITING_ROOM_TICKET="forged"), 400, "invalid_ticket")
    spanish = anonymous.get(url, HTTP_X_WAITING_ROOM_TICKET="forged", HTTP_ACCEPT_LANGUAGE="es")
    assert_error(spanish, 400, "invalid_ticket", "Este pase de la fila no es válido aquí.")
    assert_error(
        anonymous.get("/api/v1/openings/999999/queue", HTTP_X_WAITING_ROOM_TICKET=ticket),
        404,
        "opening_not_found",
    )
    # Another tenant's host: the ticket names another schema.
    connection.set_tenant(tenant_b)
    other = RegistrationOpening.objects.create(name="Beta day", opens_at=timezone.now())
    connection.set_schema_to_public()
    cross = client_for(tenant_b).get(
        f"/api/v1/openings/{other.pk}/queue", HTTP_X_WAITING_ROOM_TICKET=ticket
    )
    assert_error(cross, 400, "invalid_ticket")
    connection.set_tenant(tenant_b)
    waiting_room.queue_clear(opening=other)
    connection.set_schema_to_public()


def test_a_switched_off_portal_gets_its_usual_answer(opening, family_a):
    url = f"/api/v1/openings/{opening.pk}/queue"
    ticket = family_a.client().post(url).json()["ticket"]
    connection.set_tenant(family_a.tenant)
    portal_settings_update(portal_enabled=False)
    connection.set_schema_to_public()
    off = client_for(family_a.tenant).get(url, HTTP_X_WAITING_ROOM_TICKET=ticket)
    assert_error(off, 503, "portal_disabled")


def test_web_poll_by_cookie_needs_no_session_even_when_signed_in(opening, family_web):
    family_web.web.post(f"/waiting-room/{opening.pk}/join/")
    poll = f"/waiting-room/{opening.pk}/status.json"
    assert family_web.web.get(poll).json()["state"] == "before_opening"  # warm
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as ctx:
        answer = family_web.web.get(poll, HTTP_ACCEPT_LANGUAGE="es")
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert _sql(ctx) == []  # the signed-in browser's session and user are not loaded
    body = answer.json()
    assert "orden aleatorio" in body["message"] and body["poll_seconds"] == 10
    assert answer["Content-Language"] == "es" and answer["X-Frame-Options"] == "DENY"


def test_anything_else_goes_through_the_stack(opening, family_web):
    poll = f"/waiting-room/{opening.pk}/status.json"
    # No ticket cookie: the view's own answer.
    assert_error(client_for(family_web.tenant).get(poll), 400, "invalid_ticket")
    # Not the poll's path: the API's own not-found answer.
    ticket = family_web.client().post(f"/api/v1/openings/{opening.pk}/queue").json()["ticket"]
    other = client_for(family_web.tenant).get(
        f"/api/v1/openings/{opening.pk}/queue/x", HTTP_X_WAITING_ROOM_TICKET=ticket
    )
    assert_error(other, 404, "not_found")
