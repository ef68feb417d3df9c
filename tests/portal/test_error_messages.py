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


GETTEXT = {"_", "gettext", "gettext_noop", "gettext_lazy"}


def _service_sources():
    for source in SOURCES:
        base = ROOT / source
        for path in [base] if base.suffix == ".py" else sorted(base.rglob("*.py")):
            where = str(path.relative_to(ROOT))
            if "migrations" not in path.parts:
                yield where, ast.parse(path.read_text())


def _prose(node: ast.AST) -> bool:
    """An f-string (or ``"...".format``/``+``) with words in it: a sentence, not a code."""
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(part, ast.Constant) and " " in str(part.value) for part in node.values
        )
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "format":
        return True
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)


def test_no_refusal_is_built_with_an_f_string():
    """A sentence built with an f-string cannot be translated: the services write
    ``_("... %(name)s ...") % {...}`` (dates through ``portal.formats``) instead."""
    found = []
    for where, tree in _service_sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in RAISERS:
                continue
            args = [*node.args[1:3], *(k.value for k in node.keywords if k.arg == "message")]
            found += [f"{where}:{node.lineno}" for arg in args if _prose(arg)]
    assert found == [], "untranslatable refusal messages"


def _formatted_messages() -> dict[str, str]:
    """Every sentence the family-facing services translate with placeholders."""
    found: dict[str, str] = {}
    for where, tree in [*_service_sources(), ("portal/formats.py", ast.parse(
        (ROOT / "portal/formats.py").read_text()))]:  # fmt: skip
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in GETTEXT
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and "%(" in str(node.args[0].value)
            ):
                found.setdefault(node.args[0].value, f"{where}:{node.lineno}")
    return found


def test_every_formatted_service_message_is_translated():
    messages = _formatted_messages()
    assert len(messages) > 50  # the scan finds the sentences with placeholders
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
    assert missing == {}, "run make messages and translate them in locale/es"


def test_a_refusal_with_a_date_reads_in_the_families_language():
    """Names, numbers and dates go into the Spanish sentence; the date in Spanish's own format,
    never ISO or English month names."""
    from datetime import date

    from portal.accounts.models import Student
    from portal.catalog.models import Offering
    from portal.enrollment.eligibility import check_student

    mia = Student(first_name="Mia", date_of_birth=date(2022, 3, 1), is_active=True)
    ninja = Offering(name="Ninja Skills", start_date=date(2027, 1, 5), min_age=6)
    with translation.override("es"), pytest.raises(ApplicationError) as spanish:
        check_student(mia, ninja)
    assert spanish.value.code == "too_young"
    assert spanish.value.message == (
        "Mia tendrá 4 años el 5 de enero de 2027; Ninja Skills es para edades desde 6 años."
    )
    with translation.override("en"), pytest.raises(ApplicationError) as english:
        check_student(mia, ninja)
    assert english.value.message == (
        "Mia will be 4 on Jan. 5, 2027; Ninja Skills is for ages 6 and up."
    )
