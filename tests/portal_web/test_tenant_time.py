"""The web portal shows times in the business's zone (docs/tenancy.md, "Time"): a registration
window set for 8:00 in Chicago reads 8 a.m. with its zone, in winter and summer, in English and
Spanish; the cart's "held until" is the business's clock time."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation

from portal.enrollment.models import Hold
from tests.helpers import tenant_in_zone, web_client
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
YEAR = timezone.now().year + 1


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize(
    ("utc", "english", "spanish"),
    [
        (
            f"{YEAR}-01-11T14:00:00+00:00",
            f"Jan. 11, {YEAR}, 8 a.m. CST",
            f"11 de enero de {YEAR} a las 08:00 CST",
        ),
        (
            f"{YEAR}-07-12T13:00:00+00:00",
            f"July 12, {YEAR}, 8 a.m. CDT",
            f"12 de julio de {YEAR} a las 08:00 CDT",
        ),
    ],
)
def test_the_registration_window_reads_8_am_in_chicago(in_tenant_a, utc, english, spanish):
    tenant = tenant_in_zone(in_tenant_a, "America/Chicago")
    opens = datetime.fromisoformat(utc)
    offering = make_offering(name="Ninja Zone", registration_opens_at=opens)
    client = web_client(tenant)
    page = html(client.get(f"/classes/{offering.pk}/"))
    assert "Registration opens" in page
    local = timezone.localtime(opens, CHICAGO).isoformat()
    assert f'<time datetime="{local}">{english}</time>' in page
    page = html(client.get(f"/classes/{offering.pk}/", HTTP_ACCEPT_LANGUAGE="es"))
    assert "La inscripción abre" in page
    assert f"{spanish}</time>" in page


def test_a_window_in_the_past_is_not_shown(in_tenant_a):
    tenant = tenant_in_zone(in_tenant_a, "America/Chicago")
    offering = make_offering(name="Ninja Zone", registration_opens_at=timezone.now())
    page = html(web_client(tenant).get(f"/classes/{offering.pk}/"))
    assert "Ninja Zone" in page and "Registration opens" not in page


def test_the_cart_says_held_until_in_the_business_clock(family_web):
    tenant_in_zone(family_web.tenant, "America/Chicago")
    offering = make_offering(name="Beam Basics")
    response = family_web.web.post(
        "/cart/add/", {"offering": offering.pk, "student": family_web.student.pk}
    )
    assert response.status_code == 302
    hold = Hold.objects.get(family=family_web.family, status="active")
    local = timezone.localtime(hold.expires_at, CHICAGO)
    page = html(family_web.web.get("/cart/"))
    shown = re.search(r'held until <time datetime="([^"]+)">([^<]+)</time>', page)
    assert shown is not None, page
    with translation.override("en"):
        clock = formats.time_format(local, "TIME_FORMAT")
    assert shown.groups() == (local.isoformat(), clock)
    utc = formats.time_format(hold.expires_at, "TIME_FORMAT")
    assert utc != clock  # six or five hours apart: the page is not in UTC
