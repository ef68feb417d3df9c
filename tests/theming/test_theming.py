import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image

from tenants.models import Tenant
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, make_actor
from theming import emitters
from theming.colors import contrast
from theming.models import Brand, ThemeVersion
from theming.tokens import build_tokens, colour_hex

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"
API = "/api/v1"
SNAPSHOT = {
    "primary": "#1d4ed8", "secondary": "#0f766e", "accent": "#c2410c", "background": "#ffffff",
    "surface": "#f3f4f6", "text": "#111827", "error": "#b91c1c",
    "dark_primary": "#93c5fd", "dark_secondary": "#5eead4", "dark_accent": "#fdba74",
    "dark_background": "#0b1120", "dark_surface": "#1f2937", "dark_text": "#f9fafb",
    "dark_error": "#fca5a5", "font": "inter", "header_style": "centered",
    "class_list_layout": "grid", "corner_radius": 12, "density": "comfortable", "logo": "",
    "favicon": "", "app_icon": "", "logo_url": "", "favicon_url": "",
}  # fmt: skip


@pytest.fixture
def staff(in_tenant_a):
    actor = make_actor(in_tenant_a, email="designer@alpha.test", role="manager")
    connection.set_tenant(in_tenant_a)
    return actor


def png(width, height, mode="RGB", fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def upload(staff, field, data, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return staff.client().post(
        f"{API}/staff/theme/draft/images/{field}",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )


# --- tokens and emitters -----------------------------------------------------------------


def test_tokens_are_a_dtcg_document_with_readable_on_colours():
    tokens = build_tokens(SNAPSHOT)
    assert tokens["color"]["$type"] == "color"
    primary = tokens["color"]["primary"]["$value"]
    assert primary["colorSpace"] == "srgb" and primary["hex"] == "#1d4ed8" and primary["alpha"] == 1
    assert all(0 <= c <= 1 for c in primary["components"])
    assert tokens["component"]["button"]["background"]["$value"] == "{color.primary}"
    colours = colour_hex(tokens)
    for role in ("primary", "secondary", "accent", "background", "surface", "error"):
        assert contrast(colours[f"on-{role}"], colours[role]) >= 4.5, role
    dark = colour_hex(tokens, "color-dark")
    assert contrast(dark["on-background"], dark["background"]) >= 4.5


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("theme.css", lambda t: emitters.css(t, 3)),
        ("colors.xml", emitters.android_colors_xml),
        ("colors-night.xml", emitters.android_night_colors_xml),
        (
            "app-config.json",
            lambda t: json.dumps(emitters.app_config(t, 3), indent=2, sort_keys=True) + "\n",
        ),
        (
            "ios-colorsets.json",
            lambda t: json.dumps(emitters.ios_colorsets(t), indent=2, sort_keys=True) + "\n",
        ),
        ("tokens.json", lambda t: json.dumps(t, indent=2, sort_keys=True) + "\n"),
    ],
)
def test_emitters_match_their_golden_files(name, render):
    produced = render(build_tokens(SNAPSHOT))
    golden = GOLDEN / name
    assert produced == golden.read_text(), f"{name} changed; review it and update {golden}"


def test_exports_are_valid_for_their_platforms():
    tokens = build_tokens(SNAPSHOT)
    root = ET.fromstring(emitters.android_colors_xml(tokens))  # noqa: S314 (our own output)
    assert root.tag == "resources"
    assert all(re.fullmatch(r"#FF[0-9A-F]{6}", c.text) for c in root.findall("color"))
    assert root.find("color[@name='brand_on_primary']") is not None
    for path, text in emitters.ios_colorsets(tokens).items():
        assert re.fullmatch(r"Brand[A-Za-z]+\.colorset/Contents\.json", path)
        contents = json.loads(text)
        for entry in contents["colors"]:
            values = entry["color"]["components"]
            assert all(0 <= float(values[k]) <= 1 for k in ("red", "green", "blue"))
        assert any(e.get("appearances") for e in contents["colors"])  # dark appearance
    config = emitters.app_config(tokens, 1)
    assert re.fullmatch(r"#[0-9a-f]{6}", config["primaryColor"])
    assert all(
        re.fullmatch(r"#[0-9a-f]{6}", v) for v in config["extra"]["theme"]["colors"].values()
    )


# --- serving ------------------------------------------------------------------------------


def test_every_business_starts_with_a_published_theme_served_as_css(in_tenant_a):
    version = ThemeVersion.objects.get()
    assert version.number == 1
    client = client_for(in_tenant_a)
    response = client.get(f"/theme.css?v={version.number}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    assert "--color-primary: #1d4ed8;" in response.content.decode()
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    again = client.get(f"/theme.css?v={version.number}", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    tokens = client.get(f"{API}/theme/tokens.json")
    assert tokens.json()["color"]["primary"]["$value"]["hex"] == "#1d4ed8"
    assert (
        client.get(f"{API}/theme/tokens.json", HTTP_IF_NONE_MATCH=tokens["ETag"]).status_code == 304
    )
    portal = client.get(f"{API}/portal").json()
    assert portal["theme"]["version"] == 1
    assert portal["theme"]["css_url"] == "http://alpha.testserver.local/theme.css?v=1"
    assert client.get(f"{API}/theme/app-config.json").json()["themeVersion"] == 1


def test_draft_edits_preview_and_publish(staff, in_tenant_a):
    response = staff.client().patch(
        f"{API}/staff/theme/draft",
        {
            "primary": "#7C3AED",
            "font": "nunito",
            "class_list_layout": "calendar",
            "corner_radius": 16,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["primary"] == "#7c3aed"
    client = client_for(in_tenant_a)
    assert "#1d4ed8" in client.get("/theme.css").content.decode()  # still the published one
    with tenant_context(in_tenant_a):
        client.force_login(staff.user)
    assert "#7c3aed" in client.get("/theme.css?preview=1").content.decode()
    published = staff.client().post(f"{API}/staff/theme/publish")
    assert published.status_code == 201
    body = published.json()
    # The primary colour is also baked into the branded app's launcher icon.
    assert body["number"] == 2 and body["needs_app_build"] is True
    assert body["binary_changes"] == ["primary"]
    assert set(body["runtime_changes"]) >= {"primary", "font", "class_list_layout", "corner_radius"}
    assert "#7c3aed" in client_for(in_tenant_a).get("/theme.css").content.decode()
    assert ThemeVersion.objects.get(number=1).snapshot["primary"] == "#1d4ed8"  # immutable


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"primary": "blue"}, "primary", "invalid_colour"),
        ({"text": "#12345"}, "text", "invalid_colour"),
        ({"font": "Comic Sans"}, "font", "font_not_offered"),
        ({"corner_radius": 40}, "corner_radius", "radius_out_of_range"),
        ({"corner_radius": "8"}, "corner_radius", "radius_out_of_range"),
        ({"density": "cosy"}, "density", "invalid_choice"),
        ({"sparkles": True}, "sparkles", "unknown_field"),
        ({"dark_primary": "#000000"}, "dark_primary", "dark_scheme_incomplete"),
    ],
)
def test_bad_draft_values_name_the_field_and_change_nothing(changes, field, code, staff):
    response = staff.client().patch(f"{API}/staff/theme/draft", changes, format="json")
    body = assert_error(response, 400, code)
    assert field in body["fields"]
    assert Brand.objects.get().primary == "#1d4ed8"


def test_a_low_contrast_palette_is_refused_and_the_suggestion_fixes_it(staff):
    staff.client().patch(
        f"{API}/staff/theme/draft", {"text": "#9ca3af", "primary": "#fde68a"}, format="json"
    )
    response = staff.client().post(f"{API}/staff/theme/publish")
    body = assert_error(response, 400, "contrast_failed")
    failures = [json.loads(item) for item in body["fields"]["colours"]]
    by_pair = {f["pair"]: f for f in failures}
    assert by_pair["text on background"]["ratio"] < 4.5
    assert by_pair["primary on background"]["required"] == 3.0
    assert ThemeVersion.objects.count() == 1
    fix = {
        "text": by_pair["text on background"]["suggestion"],
        "primary": by_pair["primary on background"]["suggestion"],
    }
    surface = by_pair.get("text on surface")
    if surface:
        fix["text"] = surface["suggestion"]
    staff.client().patch(f"{API}/staff/theme/draft", fix, format="json")
    assert staff.client().post(f"{API}/staff/theme/publish").status_code == 201


def test_images_are_checked_for_what_they_really_are(staff, tenant_a):
    ok = upload(staff, "logo", png(400, 120), "logo.png")
    assert ok.status_code == 200, ok.content
    assert ok.json()["logo"].startswith("alpha/brand/logo-")
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'
    assert_error(upload(staff, "logo", svg, "logo.svg"), 400, "image_type_unsupported")
    assert_error(
        upload(staff, "logo", png(300, 100, fmt="JPEG"), "logo.png"), 400, "image_type_mismatch"
    )
    assert_error(upload(staff, "logo", b"x" * (6 * 1024 * 1024), "big.png"), 400, "image_too_large")
    assert_error(upload(staff, "app_icon", png(512, 512), "icon.png"), 400, "image_size_invalid")
    assert_error(upload(staff, "favicon", png(64, 32), "fav.png"), 400, "image_size_invalid")
    assert_error(upload(staff, "banner", png(64, 64), "x.png"), 400, "unknown_field")
    published = staff.client().post(f"{API}/staff/theme/publish").json()
    assert "logo" in published["runtime_changes"]
    logo_url = Tenant.objects.get(pk=tenant_a.pk).logo_url
    assert logo_url.endswith(".png")
    directory = client_for(None).get("/api/platform/v1/directory?q=alpha").json()["results"]
    assert directory[0]["logo_url"] == logo_url


def test_a_new_app_icon_needs_a_new_app_build(staff):
    assert upload(staff, "app_icon", png(1024, 1024), "icon.png").status_code == 200
    body = staff.client().post(f"{API}/staff/theme/publish").json()
    assert body["needs_app_build"] is True and body["binary_changes"] == ["app_icon"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"{API}/staff/theme/draft"),
        ("patch", f"{API}/staff/theme/draft"),
        ("post", f"{API}/staff/theme/publish"),
        ("get", f"{API}/staff/theme/versions"),
    ],
)
def test_theme_staff_endpoints_are_for_this_businesss_staff(method, path, family_a, tenant_b):
    assert_error(getattr(family_a.client(), method)(path), 403, "permission_denied")
    other = make_actor(tenant_b, email="designer@beta.test", staff=True)
    assert_cross_tenant_denied(
        credentials_client=other.client(), target=family_a.tenant, method=method, path=path, data={}
    )


def test_each_business_serves_its_own_theme(staff, tenant_b):
    staff.client().patch(f"{API}/staff/theme/draft", {"primary": "#7c3aed"}, format="json")
    staff.client().post(f"{API}/staff/theme/publish")
    assert "#7c3aed" not in client_for(tenant_b).get("/theme.css").content.decode()


def _png_claiming(width: int, height: int) -> bytes:
    """A few bytes of PNG whose header claims ``width`` x ``height`` (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(100_000, 100_000), (5000, 5000), (4001, 4000), (70_000, 1)])
def test_images_claiming_huge_dimensions_are_refused_before_decoding(staff, size):
    from theming.models import Brand

    before = Brand.objects.filter(logo__gt="").count()
    response = upload(staff, "logo", _png_claiming(*size), "bomb.png")
    assert_error(response, 400, "image_size_invalid")
    assert Brand.objects.filter(logo__gt="").count() == before


@pytest.mark.parametrize(
    "body",
    [
        {"font": [1]},
        {"font": {"a": 1}},
        {"header_style": ["x"]},
        {"density": {"x": 1}},
        {"primary": [1]},
        {"dark_primary": {"x": "#000"}},
        {"corner_radius": [4]},
    ],
)
def test_wrong_types_inside_fields_are_a_400(staff, body):
    response = staff.client().patch(f"{API}/staff/theme/draft", body, format="json")
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"]
