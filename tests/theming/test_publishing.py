"""Branding through the staff API: the contrast check and its one-click fix, removing images,
rolling back to an earlier version, which changes need a new app build, and uploaded images
served at /media/ on the business's own host (local files and S3) and nowhere else."""

from __future__ import annotations

import io
import re

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image

from tenants.models import Tenant
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, make_actor
from theming.models import BINARY_FIELDS, Brand, ThemeVersion

pytestmark = pytest.mark.django_db
API = "/api/v1"
LOW_CONTRAST = {"text": "#9ca3af", "primary": "#fde68a"}


@pytest.fixture
def staff(in_tenant_a):
    actor = make_actor(in_tenant_a, email="brand-designer@alpha.test", role="manager")
    connection.set_tenant(in_tenant_a)
    return actor


def png(width: int, height: int, colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def upload(staff, field: str, data: bytes, name: str):
    return staff.client().post(
        f"{API}/staff/theme/draft/images/{field}",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )


# --- contrast ------------------------------------------------------------------------------


def test_the_contrast_check_names_the_colour_each_fix_changes(staff):
    assert staff.client().get(f"{API}/staff/theme/contrast").json() == {
        "passes": True,
        "failures": [],
    }
    staff.client().patch(f"{API}/staff/theme/draft", LOW_CONTRAST, format="json")
    body = staff.client().get(f"{API}/staff/theme/contrast").json()
    assert body["passes"] is False
    by_pair = {f["pair"]: f for f in body["failures"]}
    assert by_pair["text on background"]["field"] == "text"
    assert by_pair["primary on background"]["field"] == "primary"
    assert by_pair["text on background"]["ratio"] < 4.5 <= by_pair["text on background"]["required"]


def test_one_click_applies_every_suggestion_and_the_draft_then_publishes(staff):
    staff.client().patch(f"{API}/staff/theme/draft", LOW_CONTRAST, format="json")
    response = staff.client().post(f"{API}/staff/theme/contrast/fix", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["contrast"] == {"passes": True, "failures": []}
    brand = Brand.objects.get()
    assert brand.text != "#9ca3af" and brand.primary != "#fde68a"
    assert body["draft"]["text"] == brand.text
    assert brand.background == "#ffffff"  # the background is the business's choice
    assert staff.client().post(f"{API}/staff/theme/publish").status_code == 201


def test_a_fix_can_be_limited_to_one_colour(staff):
    staff.client().patch(f"{API}/staff/theme/draft", LOW_CONTRAST, format="json")
    body = (
        staff.client()
        .post(f"{API}/staff/theme/contrast/fix", {"fields": ["text"]}, format="json")
        .json()
    )
    assert [f["field"] for f in body["contrast"]["failures"]] == ["primary"]
    assert Brand.objects.get().primary == "#fde68a"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"fields": ["background"]}, "unknown_field"),
        ({"fields": ["sparkles"]}, "unknown_field"),
        ({"fields": "text"}, "invalid_input"),
        ({"fields": [["text"]]}, "invalid_input"),
    ],
)
def test_a_bad_fix_request_changes_nothing(staff, body, code):
    staff.client().patch(f"{API}/staff/theme/draft", LOW_CONTRAST, format="json")
    before = Brand.objects.get().updated_at
    response = staff.client().post(f"{API}/staff/theme/contrast/fix", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert Brand.objects.get().updated_at == before


# --- images --------------------------------------------------------------------------------


def test_an_image_is_removed_from_the_draft_and_the_next_version(staff):
    assert upload(staff, "logo", png(400, 120), "logo.png").status_code == 200
    assert staff.client().post(f"{API}/staff/theme/publish").status_code == 201
    response = staff.client().delete(f"{API}/staff/theme/draft/images/logo")
    assert response.status_code == 200 and response.json()["logo"] == ""
    assert ThemeVersion.objects.get(number=2).snapshot["logo"]  # published stays until publish
    published = staff.client().post(f"{API}/staff/theme/publish").json()
    assert "logo" in published["changed_fields"]
    assert ThemeVersion.objects.get(number=3).snapshot["logo_url"] == ""
    assert_error(staff.client().delete(f"{API}/staff/theme/draft/images/banner"), 400,
                 "unknown_field")  # fmt: skip


# --- rollback ------------------------------------------------------------------------------


def test_rolling_back_publishes_the_earlier_version_again_and_resets_the_draft(staff):
    staff.client().patch(f"{API}/staff/theme/draft", {"primary": "#7c3aed"}, format="json")
    assert staff.client().post(f"{API}/staff/theme/publish").status_code == 201
    response = staff.client().post(f"{API}/staff/theme/versions/1/rollback")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == 3 and body["rolled_back_to"] == 1
    assert body["changed_fields"] == ["primary"] and body["needs_app_build"] is True
    assert ThemeVersion.objects.get(number=3).snapshot["primary"] == "#1d4ed8"
    assert Brand.objects.get().primary == "#1d4ed8"
    assert "#1d4ed8" in client_for(staff.tenant).get("/theme.css").content.decode()


def test_rolling_back_to_another_businesss_version_finds_nothing(staff, tenant_b):
    other = make_actor(tenant_b, email="brand-b@beta.test", role="owner")
    for colour in ("#7c3aed", "#0f766e"):
        other.client().patch(f"{API}/staff/theme/draft", {"primary": colour}, format="json")
        assert other.client().post(f"{API}/staff/theme/publish").status_code == 201
    connection.set_tenant(staff.tenant)
    # B has a version 3; A does not, and B's versions mean nothing on A's host.
    response = staff.client().post(f"{API}/staff/theme/versions/3/rollback")
    assert_error(response, 404, "theme_version_not_found")
    assert_error(staff.client().post(f"{API}/staff/theme/versions/0/rollback"), 404,
                 "theme_version_not_found")  # fmt: skip
    assert staff.client().post(f"{API}/staff/theme/versions/x/rollback").status_code == 404
    with tenant_context(staff.tenant):
        assert ThemeVersion.objects.count() == 1
    assert_cross_tenant_denied(
        credentials_client=other.client(),
        target=staff.tenant,
        method="post",
        path=f"{API}/staff/theme/versions/1/rollback",
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 201), ("manager", 201), ("front_desk", 403), ("coach", 403)],
)
def test_rollback_is_for_those_who_publish(in_tenant_a, role, status):
    actor = make_actor(in_tenant_a, email=f"rollback-{role}@alpha.test", role=role)
    connection.set_tenant(in_tenant_a)
    assert actor.client().post(f"{API}/staff/theme/versions/1/rollback").status_code == status


# --- which changes need a new app build ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "needs_build"),
    [
        ({"primary": "#6d28d9"}, True),  # the Android launcher icon's background
        ({"background": "#fffbeb"}, True),  # the splash screen's background
        ({"secondary": "#6d28d9"}, False),
        ({"accent": "#9a3412"}, False),
        ({"text": "#000000"}, False),
        ({"font": "nunito", "corner_radius": 4}, False),
    ],
)
def test_publishing_says_when_a_new_app_binary_is_needed(staff, changes, needs_build):
    staff.client().patch(f"{API}/staff/theme/draft", changes, format="json")
    body = staff.client().post(f"{API}/staff/theme/publish").json()
    assert body["needs_app_build"] is needs_build
    assert body["binary_changes"] == sorted(set(changes) & BINARY_FIELDS)
    assert set(body["runtime_changes"]) == set(changes)


def test_a_new_logo_is_the_splash_screens_artwork(staff):
    assert upload(staff, "logo", png(400, 120), "logo.png").status_code == 200
    body = staff.client().post(f"{API}/staff/theme/publish").json()
    assert body["needs_app_build"] is True and body["binary_changes"] == ["logo"]
    assert upload(staff, "favicon", png(64, 64), "fav.png").status_code == 200
    assert staff.client().post(f"{API}/staff/theme/publish").json()["needs_app_build"] is False


def test_publishing_records_the_logos_pixel_size_and_the_portal_prints_it(staff):
    """The header's <img> gets the logo's width and height, so nothing shifts while it loads
    (Lighthouse's unsized-images and CLS); a rollback keeps the size it recorded."""
    assert upload(staff, "logo", png(400, 120), "logo.png").status_code == 200
    staff.client().post(f"{API}/staff/theme/publish")
    version = ThemeVersion.objects.get(number=2)
    assert (version.snapshot["logo_width"], version.snapshot["logo_height"]) == (400, 120)
    assert version.changed_fields == ["logo"]  # the size changes with the logo
    page = client_for(staff.tenant).get("/").content.decode()
    logo = re.search(r'<img class="brand__logo"[^>]*>', page).group(0)
    assert 'width="400"' in logo and 'height="120"' in logo

    assert upload(staff, "logo", png(96, 96), "square.png").status_code == 200
    staff.client().post(f"{API}/staff/theme/publish")
    assert ThemeVersion.objects.get(number=3).snapshot["logo_width"] == 96
    assert staff.client().post(f"{API}/staff/theme/versions/2/rollback").status_code == 201
    rolled = ThemeVersion.objects.get(number=4)
    assert rolled.rolled_back_to == 2
    assert (rolled.snapshot["logo_width"], rolled.snapshot["logo_height"]) == (400, 120)


def test_a_logo_whose_size_cannot_be_read_still_shows_at_the_header_height(staff, monkeypatch):
    from theming import services

    assert upload(staff, "logo", png(400, 120), "logo.png").status_code == 200
    monkeypatch.setattr(services.default_storage, "open", _unreadable)
    assert staff.client().post(f"{API}/staff/theme/publish").status_code == 201
    assert "logo_width" not in ThemeVersion.objects.get(number=2).snapshot
    page = client_for(staff.tenant).get("/").content.decode()
    logo = re.search(r'<img class="brand__logo"[^>]*>', page).group(0)
    assert 'height="48"' in logo and "width=" not in logo


def _unreadable(*args, **kwargs):
    raise OSError("storage unavailable")


# --- media on the business's host -----------------------------------------------------------


def test_the_published_logo_is_served_on_the_businesss_host_only(staff, tenant_b):
    data = png(400, 120)
    assert upload(staff, "logo", data, "logo.png").status_code == 200
    staff.client().post(f"{API}/staff/theme/publish")
    logo_url = ThemeVersion.objects.get(number=2).snapshot["logo_url"]
    path = Brand.objects.get().logo
    assert path.startswith(f"{staff.tenant.schema_name}/brand/logo-")
    assert logo_url == staff.tenant.url(f"/media/{path}")
    assert Tenant.objects.get(pk=staff.tenant.pk).logo_url == logo_url
    assert client_for(staff.tenant).get("/api/v1/portal").json()["theme"]["logo_url"] == logo_url
    response = client_for(staff.tenant).get(f"/media/{path}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png" and b"".join(response.streaming_content) == data
    assert "immutable" in response["Cache-Control"]
    assert client_for(staff.tenant).head(f"/media/{path}").status_code == 200
    # Another business's host never serves it, nor anything but brand images and photos.
    assert client_for(tenant_b).get(f"/media/{path}").status_code == 404
    for bad in (
        f"/media/{staff.tenant.schema_name}/brand/nothing.png",
        f"/media/{staff.tenant.schema_name}/brand/../brand/{path.rsplit('/', 1)[1]}",
        f"/media/{staff.tenant.schema_name}/apps/bundle.zip",
        f"/media/{staff.tenant.schema_name}/brand/x.html",
        "/media/brand/logo.png",
        "/media/",
    ):
        assert client_for(staff.tenant).get(bad).status_code == 404, bad
    assert client_for(staff.tenant).post(f"/media/{path}").status_code == 405


def test_staff_photos_are_stored_under_the_business_and_served(in_tenant_a, tenant_b):
    from portal.catalog.models import StaffProfile
    from portal.config.selectors import portal_settings_get

    settings_row = portal_settings_get()
    settings_row.staff_bios_visible = True
    settings_row.save()
    profile = StaffProfile.objects.create(display_name="Coach Remy", bio="Ten years of vault.")
    profile.photo.save("remy.png", SimpleUploadedFile("remy.png", png(160, 160)))
    assert profile.photo.name.startswith(f"{in_tenant_a.schema_name}/staff/remy")
    assert profile.photo.url == f"/media/{profile.photo.name}"
    response = client_for(in_tenant_a).get(profile.photo.url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert client_for(tenant_b).get(profile.photo.url).status_code == 404


@pytest.mark.s3
def test_on_s3_media_is_a_redirect_to_a_presigned_link_under_the_tenant_prefix(
    staff, s3_storage, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"],
                    "BACKEND": "kernel.storage.MediaS3Storage"},
    }  # fmt: skip
    data = png(400, 120, colour=(10, 90, 200))
    assert upload(staff, "logo", data, "logo.png").status_code == 200
    staff.client().post(f"{API}/staff/theme/publish")
    path = Brand.objects.get().logo
    assert path in s3_storage.object_keys() and path.startswith(f"{staff.tenant.schema_name}/")
    logo_url = ThemeVersion.objects.get(number=2).snapshot["logo_url"]
    assert logo_url == staff.tenant.url(f"/media/{path}")  # never the bucket's own URL
    # The bucket itself is private: the plain object URL is refused.
    plain = f"{s3_storage.server.endpoint}/{s3_storage.name}/{path}"
    assert requests.get(plain, timeout=10).status_code in (401, 403)
    response = client_for(staff.tenant).get(f"/media/{path}")
    assert response.status_code == 302
    fetched = requests.get(response["Location"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == data
    assert client_for(None).get(f"/media/{path}").status_code == 404


def test_the_versions_list_newest_first_and_bounded(in_tenant_a):
    from theming.services import theme_publish, theme_version_list

    for _ in range(3):
        theme_publish(published_by="owner@alpha.test")
    numbers = [v.number for v in theme_version_list(limit=20)]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) >= 3
    assert [v.number for v in theme_version_list(limit=2)] == numbers[:2]
