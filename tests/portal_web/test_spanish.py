"""Spanish complete where the family reads it: statuses and request types come from the
models' choices and are translated like the templates."""

from __future__ import annotations

import pytest

from portal.requests import services as request_services
from tests.portal.enrollment_helpers import enroll, make_offering

pytestmark = pytest.mark.django_db


def test_request_types_and_statuses_read_in_spanish(family_web):
    offering = make_offering(name="Rec Gym", capacity=5)
    enrollment = enroll(family_web.family, family_web.student, offering)
    request_services.absence_request(
        family=family_web.family,
        enrollment_id=enrollment.pk,
        meeting_date=offering.meetings()[1],
    )
    family_web.web.cookies["django_language"] = "es"
    page = family_web.web.get("/requests/").content.decode()
    assert "Ausencia" in page and ">Absence<" not in page
    assert "Aprobado" in page or "Pendiente" in page
    enrollments = family_web.web.get("/enrollments/").content.decode()
    assert ">Enrolled<" not in enrollments


def test_the_statement_pdf_embeds_a_unicode_font_and_reads_in_spanish(family_web):
    from portal.billing.models import LedgerEntry

    LedgerEntry.objects.create(
        family=family_web.family, kind="charge", description="Rec Gym — Mia (niña)",
        amount=4200, currency="usd", source_key="t:statement-es",
    )  # fmt: skip
    family_web.web.cookies["django_language"] = "es"
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    response = family_web.web.get("/billing/statement/", {"from": "2020-01-01", "to": today})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"DejaVu" in response.content  # every character renders (no "?" for the dash)
