"""English and Spanish: the language switch, the cookie and the browser's language all give
Spanish pages; the committed catalog is complete, keeps its placeholders, and its .mo is
compiled from the current .po."""

from __future__ import annotations

import re

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from portal_web.management.commands.compile_translations import catalogs, stale
from tests.helpers import web_client

pytestmark = pytest.mark.django_db
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def html(response) -> str:
    return response.content.decode()


def spanish_po() -> polib.POFile:
    [path] = [p for p in catalogs() if p.parts[-3] == "es"]
    return polib.pofile(str(path))


def test_the_spanish_catalog_is_complete_and_keeps_placeholders():
    po = spanish_po()
    assert len(po) > 100
    keys = [(entry.msgctxt, entry.msgid) for entry in po]
    assert len(keys) == len(set(keys)), "duplicate entries (msgfmt and makemessages refuse them)"
    for entry in po:
        assert "fuzzy" not in entry.flags, entry.msgid
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(0), entry.msgstr_plural.get(1)]
            assert all(forms), entry.msgid
            assert set(PLACEHOLDER.findall(entry.msgid_plural)) == set(
                PLACEHOLDER.findall(forms[1])
            ), entry.msgid
        else:
            assert entry.msgstr, f"untranslated: {entry.msgid!r}"
            assert set(PLACEHOLDER.findall(entry.msgid)) == set(
                PLACEHOLDER.findall(entry.msgstr)
            ), entry.msgid


def test_the_compiled_catalogs_match_their_sources():
    assert settings.LOCALE_PATHS
    for path in catalogs():
        assert not stale(path), f"{path}: run `manage.py compile_translations`"
    call_command("compile_translations", "--check")


def test_the_language_cookie_gives_spanish_pages(family_web):
    family_web.web.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    page = html(family_web.web.get("/family/"))
    assert '<html lang="es">' in page
    assert "Ir al contenido principal" in page and "Mi familia" in page
    assert "Estudiantes" in page and "Contactos de emergencia" in page
    assert "Skip to main content" not in page


def test_the_browsers_language_gives_spanish_pages(in_tenant_a):
    page = html(web_client(in_tenant_a).get("/classes/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9"))
    assert "Buscar clases" in page and "Solo clases con lugares disponibles" in page
    assert "lunes" in page


def test_the_language_switch(in_tenant_a):
    client = web_client(in_tenant_a)
    assert "Sign in" in html(client.get("/login/"))
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    page = html(client.get("/login/"))
    assert "Iniciar sesión" in page and "¿Olvidó su contraseña?" in page
    assert '<option value="es" lang="es" selected>' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Forgot your password?" in html(client.get("/login/"))


def test_spanish_state_pages_and_field_errors(in_tenant_a):
    client = web_client(in_tenant_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    page = html(client.get("/classes/find/?born=ayer"))
    assert "no es una fecha; use AAAA-MM-DD." in page
    assert "Corrija lo siguiente:" in page
    page = html(client.get("/cart/", follow=True))
    assert "Inicie sesión para continuar." in page


TRANSLATE = re.compile(r"""{%\s*translate\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
BLOCK = re.compile(r"{%\s*blocktranslate\b[^%]*%}(.*?){%\s*endblocktranslate\s*%}", re.S)
VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")


def marked_strings() -> set[tuple[str, ...]]:
    """Every string portal_web marks for translation: {% translate %} and {% blocktranslate %}
    in its templates (as Django turns them into msgids), and _()/gettext() calls in its code."""
    import ast
    from pathlib import Path

    root = Path(settings.BASE_DIR) / "portal_web"
    found: set[tuple[str, ...]] = set()
    for path in root.rglob("*.html"):
        source = path.read_text()
        for double, single in TRANSLATE.findall(source):
            found.add((double or single,))
        for body in BLOCK.findall(source):
            forms = re.split(r"{%\s*plural\s*%}", body)
            found.add(tuple(VARIABLE.sub(r"%(\1)s", form) for form in forms))
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in {"_", "gettext", "gettext_lazy"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add((node.args[0].value,))
    return found


def test_every_string_portal_web_marks_is_translated():
    po = spanish_po()
    known = {(e.msgid,) if not e.msgid_plural else (e.msgid, e.msgid_plural) for e in po}
    translated = {e.msgid for e in po if e.msgstr or e.msgstr_plural.get(0)}
    marked = marked_strings()
    assert len(marked) > 100
    missing = sorted(m for m in marked if m not in known or m[0] not in translated)
    assert not missing, f"not in locale/es (run `make messages`, then translate): {missing[:20]}"
