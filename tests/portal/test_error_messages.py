"""Service refusal messages speak the family's language: every static message the
family-facing services raise has a Spanish translation in the catalog, and an
``ApplicationError`` raised while Spanish is active carries it (pages and API alike)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import polib
import pytest
from django.utils import translation

from kernel.errors import ApplicationError
from tests.factories import PASSWORD
from tests.helpers import signed_in

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    "portal/enrollment", "portal/requests", "portal/orders", "portal/store", "portal/accounts",
    "portal/billing/services.py", "portal/catalog/filters.py", "portal/photos.py",
]  # fmt: skip
RAISERS = {"ApplicationError", "_refuse", "_field", "_invalid", "refuse", "_bad_photo"}


def _static_messages() -> dict[str, str]:
    """English sentences passed as literals to the services' error builders."""
    found: dict[str, str] = {}
    for source in SOURCES:
        base = ROOT / source
        paths = [base] if base.suffix == ".py" else sorted(base.rglob("*.py"))
        for path in paths:
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in RAISERS:
                    continue
                for arg in node.args[1:3]:
                    value = arg.value if isinstance(arg, ast.Constant) else None
                    if isinstance(value, str) and " " in value and value[:1].isupper():
                        found.setdefault(value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_static_service_message_is_translated():
    messages = _static_messages()
    assert len(messages) > 60  # the scan finds the services' messages
    catalog = {
        e.msgid: e
        for e in polib.pofile(str(ROOT / "locale/es/LC_MESSAGES/django.po"))
        if not e.obsolete
    }
    missing = {
        message: where
        for message, where in messages.items()
        if message not in catalog
        or not catalog[message].msgstr
        or "fuzzy" in catalog[message].flags
    }
    assert missing == {}, "mark them in portal/error_messages.py and translate them"


def test_an_error_raised_in_spanish_reads_in_spanish():
    with translation.override("es"):
        error = ApplicationError(
            "phone_invalid", "Enter a phone number.", fields={"phone": ["Enter a phone number."]}
        )
    assert error.message == "Escriba un número de teléfono."
    assert error.fields == {"phone": ["Escriba un número de teléfono."]}
    with translation.override("en"):
        english = ApplicationError("phone_invalid", "Enter a phone number.")
    assert english.message == "Enter a phone number."


@pytest.mark.django_db
def test_refusals_on_the_api_and_the_pages_follow_the_language(family_a):
    response = family_a.client().post(
        "/api/v1/account/email",
        data=json.dumps({"new_email": "not-an-address", "password": PASSWORD}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    body = response.json()
    assert response.status_code == 400 and body["code"] == "email_invalid"
    assert body["message"] == "Escriba un correo electrónico válido."
    assert body["fields"] == {"new_email": ["Escriba un correo electrónico válido."]}
    web = signed_in(family_a.tenant, family_a.guardian.email)
    web.cookies["django_language"] = "es"
    page = web.post("/family/contacts/add/", {"name": "Abuela", "phone": "abc"})
    assert page.status_code == 400
    text = page.content.decode()
    assert "Escriba un número de teléfono." in text and "Enter a phone number." not in text
