"""Branding in the console: the page with its live preview, colours saved to the draft,
images uploaded and removed (wrong type, too large, a bomb refused), the contrast fix in one
click, publishing (with the app-build warning) and rolling back; roles, bad input and another
business's session."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context
from PIL import Image

from kernel.users.models import User
from portal.staff.services import staff_role_set
from tests.factories import PASSWORD
from tests.helpers import host_of
from theming.models import Brand, ThemeVersion

pytestmark = pytest.mark.django_db
PAGE = "/console/settings/branding/"


def signed_in(tenant, email: str, role: str) -> Client:
    with tenant_context(tenant):
        user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
        staff_role_set(user=user, role=role)
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


def text(response) -> str:
    return response.content.decode()


def png(width: int, height: int, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 80, 160)).save(buffer, fmt)
    return buffer.getvalue()


def bomb() -> bytes:
    """A few bytes of PNG claiming 100,000 x 100,000 pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )  # fmt: skip

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )  # fmt: skip


@pytest.fixture
def manager(in_tenant_a):
    return signed_in(in_tenant_a, "brand-manager@alpha.test", "manager")


def test_the_page_shows_colours_preview_contrast_and_versions(manager):
    response = manager.get(PAGE)
    assert response.status_code == 200
    body = text(response)
    assert 'id="colour-primary"' in body and 'value="#1d4ed8"' in body
    assert 'id="brand-preview"' in body and "--p-primary:#1d4ed8" in body
    assert 'id="contrast-ok"' in body
    assert "Families see version 1" in body and "The draft is what families see." in body
    assert 'action="/console/settings/branding/publish"' in body
    assert 'href="/console/settings/branding/"' in body  # in the navigation
    assert f'nonce="{response.wsgi_request.csp_nonce}"' in body


def test_colours_are_saved_and_a_bad_one_changes_nothing(manager):
    ok = manager.post(f"{PAGE}colours", {"primary": "#7C3AED", "accent": "#9a3412"})
    assert ok.status_code == 302 and ok["Location"] == PAGE
    brand = Brand.objects.get()
    assert (brand.primary, brand.accent) == ("#7c3aed", "#9a3412")
    assert "The draft differs in:" in text(manager.get(PAGE))
    bad = manager.post(f"{PAGE}colours", {"primary": "purple", "text": "#000000"})
    assert bad.status_code == 400
    assert "“purple” is not a colour; use #rrggbb." in text(bad)
    assert 'value="purple"' in text(bad) and 'aria-invalid="true"' in text(bad)
    brand.refresh_from_db()
    assert (brand.primary, brand.text) == ("#7c3aed", "#111827")
    assert manager.post(f"{PAGE}colours", {}).status_code == 400


def test_images_are_uploaded_checked_and_removed(manager, in_tenant_a):
    def send(field, data, name):
        return manager.post(f"{PAGE}images/{field}", {"file": SimpleUploadedFile(name, data)})

    assert send("logo", png(400, 120), "logo.png").status_code == 302
    logo = Brand.objects.get().logo
    assert logo.startswith(f"{in_tenant_a.schema_name}/brand/logo-")
    assert f'src="/media/{logo}"' in text(manager.get(PAGE))
    refusals = [
        (send("logo", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg"), "SVG images"),
        (send("logo", png(300, 100, "JPEG"), "logo.png"), "is a JPEG image but is named .png"),
        (send("logo", bomb(), "bomb.png"), "4000"),
        (send("logo", b"x" * (5 * 1024 * 1024 + 1), "big.png"), "at most 5 MB"),
        (send("app_icon", png(512, 512), "icon.png"), "exactly 1024x1024"),
        (send("banner", png(64, 64), "x.png"), "is not a brand image"),
        (manager.post(f"{PAGE}images/logo", {}), "Choose an image file"),
    ]
    for response, message in refusals:
        assert response.status_code == 400, message
        assert message in text(response)
    assert Brand.objects.get().logo == logo  # nothing changed
    assert manager.post(f"{PAGE}images/logo/remove").status_code == 302
    assert Brand.objects.get().logo == ""
    assert manager.post(f"{PAGE}images/banner/remove").status_code == 400


def test_the_contrast_fix_is_one_click_and_then_the_draft_publishes(manager):
    manager.post(f"{PAGE}colours", {"text": "#9ca3af", "primary": "#fde68a"})
    page = text(manager.get(PAGE))
    assert 'id="apply-fixes"' in page and "text on background" in page
    refused = manager.post(f"{PAGE}publish")
    assert refused.status_code == 400 and "hard to read" in text(refused)
    assert ThemeVersion.objects.count() == 1
    assert manager.post(f"{PAGE}contrast-fix").status_code == 302
    assert 'id="contrast-ok"' in text(manager.get(PAGE))
    published = manager.post(f"{PAGE}publish", follow=True)
    assert "Version 2 is published" in text(published)
    # The primary colour is the launcher icon's background: the page says a build is needed.
    assert "change on phones only with a new app build" in text(published)
    assert ThemeVersion.objects.get(number=2).needs_app_build is True
    assert manager.post(f"{PAGE}contrast-fix", {"field": "background"}).status_code == 400


def test_rolling_back_from_the_page(manager):
    manager.post(f"{PAGE}colours", {"secondary": "#6d28d9"})
    manager.post(f"{PAGE}publish")
    back = manager.post(f"{PAGE}versions/1/rollback", follow=True)
    assert "Version 1 is published again as version 3." in text(back)
    assert ThemeVersion.objects.get(number=3).snapshot["secondary"] == "#0f766e"
    missing = manager.post(f"{PAGE}versions/42/rollback")
    assert missing.status_code == 404 and "no published version" in text(missing)
    assert ThemeVersion.objects.count() == 3


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("manager", 200),
                                               ("front_desk", 403), ("coach", 403)])  # fmt: skip
def test_branding_is_for_owners_and_managers(in_tenant_a, role, status):
    client = signed_in(in_tenant_a, f"brand-{role}@alpha.test", role)
    assert client.get(PAGE).status_code == status
    response = client.post(f"{PAGE}colours", {"primary": "#000000"})
    assert response.status_code == (302 if status == 200 else 403)
    assert client.post(f"{PAGE}publish").status_code == (302 if status == 200 else 403)


def test_anonymous_visitors_and_another_businesss_staff_get_nothing(manager, in_tenant_a, tenant_b):
    anonymous = Client(HTTP_HOST=host_of(in_tenant_a))
    response = anonymous.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    assert anonymous.post(f"{PAGE}publish").status_code == 302
    # A's session replayed on B's host is nobody there.
    manager.defaults["HTTP_HOST"] = host_of(tenant_b)
    assert manager.get(PAGE).status_code == 302
    assert manager.post(f"{PAGE}colours", {"primary": "#000000"}).status_code == 302
    with tenant_context(tenant_b):
        assert Brand.objects.get_or_create(id=1)[0].primary == "#1d4ed8"
        assert ThemeVersion.objects.count() == 1
