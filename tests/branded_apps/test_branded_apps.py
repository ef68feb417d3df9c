import hashlib
import io
import json
import math
import xml.etree.ElementTree as ET
import zipfile

import pytest
import requests
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from branded_apps import rules, services
from branded_apps.bundle import bundle_render
from branded_apps.models import AppBuild, BrandedApp
from portal.config.models import PortalSettings
from tenants.models import Tenant
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, make_actor
from theming.models import ThemeVersion

from .conftest import API, icon_png, make_ready, upload
from .helpers import APP, download, request_build

pytestmark = pytest.mark.django_db


# --- store rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, ok",
    [
        ("com.acme.app", True),
        ("app.acme2.portal", True),
        ("com.acme_gym.app", False),
        ("com.acme-gym.app", False),
        ("acme", False),
        ("com.1acme.app", False),
        ("Com.Acme.App", False),
        ("com.new.app", False),  # a Java keyword segment
    ],
)
def test_one_identifier_form_valid_on_both_stores(value, ok):
    assert (rules.check_app_id(value, "ios_bundle_id") == []) is ok


def test_store_text_limits():
    assert rules.check_text("x" * 30, "name", rules.NAME_MAX) == []
    assert rules.check_text("x" * 31, "name", rules.NAME_MAX)[0].code == "text_too_long"
    assert rules.check_keywords("a" * 100) == []
    # 100 characters but 101 bytes: the limit is in bytes.
    assert rules.check_keywords("é" + "a" * 99)[0].code == "keywords_too_long"
    assert rules.check_keywords("gym,ok,dance")[0].code == "keyword_too_short"
    assert rules.check_text("<b>Hi</b>", "description", 4000, plain=True)[0].code == (
        "text_not_plain"
    )
    assert rules.check_https_url("http://a.example/p", "privacy_url")[0].code == "url_not_https"


# --- the record ------------------------------------------------------------------------------


def test_record_starts_with_suggested_identifiers(app_staff, tenant_a):
    body = app_staff.client().get(APP).json()
    assert body["display_name"] == tenant_a.name
    assert body["ios_bundle_id"] == body["android_package"] == "app.alpha.portal"
    assert body["identifiers_locked"] is False
    assert body["build_needed"] == {
        "needed": True,
        "reasons": ["no_build_yet"],
        "last_ready_build": None,
    }


@pytest.mark.parametrize(
    "changes, field, code",
    [
        ({"ios_bundle_id": "com.alpha_gym.app"}, "ios_bundle_id", "app_id_invalid"),
        ({"android_package": "com.alpha-gym.app"}, "android_package", "app_id_invalid"),
        ({"display_name": "A" * 31}, "display_name", "text_too_long"),
        ({"display_name": "  "}, "display_name", "name_missing"),
        ({"privacy_url": "http://alpha.example/privacy"}, "privacy_url", "url_not_https"),
        ({"scheme": "Alpha-Gym"}, "scheme", "scheme_invalid"),
        ({"version": "1.0"}, "version", "version_invalid"),
        ({"colour": "red"}, "colour", "unknown_field"),
        ({"display_name": 5}, "display_name", "invalid_input"),
    ],
)
def test_bad_record_values_are_refused_per_field(app_staff, changes, field, code):
    before = app_staff.client().get(APP).json()
    body = assert_error(app_staff.client().patch(APP, changes, format="json"), 400, code)
    assert field in body["fields"]
    assert app_staff.client().get(APP).json() == before


def test_several_bad_values_are_all_named(app_staff):
    response = app_staff.client().patch(
        APP,
        {"display_name": "B" * 40, "ios_bundle_id": "bad_id", "support_url": "ftp://x"},
        format="json",
    )
    body = assert_error(response, 400, "invalid_fields")
    assert set(body["fields"]) == {"display_name", "ios_bundle_id", "support_url"}


def test_listing_limits_and_locales(app_staff):
    client = app_staff.client()
    listing = client.put(
        f"{APP}/listings/es-MX", {"description": "Clases y campamentos."}, format="json"
    )
    assert listing.status_code == 200, listing.content
    assert [item["locale"] for item in client.get(f"{APP}/listings").json()] == ["en-US", "es-MX"]
    body = assert_error(
        client.put(f"{APP}/listings/es-MX", {"keywords": "a" * 101}, format="json"),
        400,
        "keywords_too_long",
    )
    assert "keywords" in body["fields"]
    assert_error(
        client.put(f"{APP}/listings/es-MX", {"subtitle": "s" * 31}, format="json"),
        400,
        "text_too_long",
    )
    assert_error(
        client.put(f"{APP}/listings/es-MX", {"play_short_description": "s" * 81}, format="json"),
        400,
        "text_too_long",
    )
    assert_error(
        client.put(f"{APP}/listings/not_a_locale", {"subtitle": "x"}, format="json"),
        400,
        "locale_invalid",
    )
    assert client.get(f"{APP}/listings/es-MX").json()["keywords"] == ""
    assert_error(client.delete(f"{APP}/listings/en-US"), 409, "primary_locale_required")
    assert client.delete(f"{APP}/listings/es-MX").status_code == 204
    assert_error(client.get(f"{APP}/listings/es-MX"), 404, "listing_not_found")


# --- pre-flight ------------------------------------------------------------------------------


def codes(problems):
    return {problem["code"] for problem in problems}


def test_preflight_lists_every_blocking_problem(app_staff, tenant_a):
    connection.set_tenant(tenant_a)
    PortalSettings.objects.update(mobile_app_enabled=False)
    from kernel.process_cache import tenant_config

    tenant_config.clear()
    report = app_staff.client().get(f"{APP}/preflight").json()
    assert report["ready"] is False
    assert {
        "app_icon_missing",
        "privacy_url_missing",
        "support_url_missing",
        "description_missing",
        "short_description_missing",
        "no_active_offerings",
        "mobile_app_disabled",
    } <= codes(report["blocking"])
    assert "keywords_missing" in codes(report["warnings"])
    assert_error(app_staff.client().post(f"{APP}/builds"), 400, "preflight_failed")
    connection.set_tenant(tenant_a)
    assert not AppBuild.objects.exists()


def test_preflight_refuses_an_icon_with_transparency_and_a_failing_theme(ready_app, tenant_a):
    assert upload(ready_app, "app_icon", icon_png(alpha=True), "icon.png").status_code == 200
    assert ready_app.client().post(f"{API}/staff/theme/publish").status_code == 201
    connection.set_tenant(tenant_a)
    # A theme published before today's contrast rules: its text no longer reads.
    version = ThemeVersion.objects.order_by("-number").first()
    version.snapshot = {**version.snapshot, "text": "#d1d5db"}
    version.save()
    report = ready_app.client().get(f"{APP}/preflight").json()
    assert {"app_icon_has_alpha", "theme_contrast_failed"} <= codes(report["blocking"])
    failing = [p for p in report["blocking"] if p["code"] == "theme_contrast_failed"]
    assert "text on background" in failing[0]["message"] and "try #" in failing[0]["message"]


def test_a_ready_business_passes_preflight(ready_app):
    report = ready_app.client().get(f"{APP}/preflight").json()
    assert report["ready"] is True, report
    assert report["blocking"] == []


# --- builds ----------------------------------------------------------------------------------


def test_a_build_goes_from_queued_to_a_complete_bundle(
    ready_app, tenant_a, django_capture_on_commit_callbacks
):
    queued = request_build(ready_app, django_capture_on_commit_callbacks)
    assert queued["number"] == 1
    detail, data = download(ready_app, 1)
    assert detail["progress"] == 100 and detail["attempts"] == 1
    assert hashlib.sha256(data).hexdigest() == detail["bundle_sha256"]
    assert len(data) == detail["bundle_bytes"]
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names == sorted(names)

    def image(path):
        return Image.open(io.BytesIO(archive.read(path)))

    # iOS: one 1024x1024 icon without alpha, and its Contents.json.
    ios_icon = image("native/ios/AppIcon.appiconset/AppIcon-1024.png")
    assert (ios_icon.format, ios_icon.size, ios_icon.mode) == ("PNG", (1024, 1024), "RGB")
    contents = json.loads(archive.read("native/ios/AppIcon.appiconset/Contents.json"))
    assert contents["images"][0] == {
        "filename": "AppIcon-1024.png",
        "idiom": "universal",
        "platform": "ios",
        "size": "1024x1024",
    }
    # Android legacy mipmaps and adaptive layers with the artwork inside the safe zone.
    res = "native/android/app/src/main/res"
    for density, size in {"mdpi": 48, "hdpi": 72, "xhdpi": 96, "xxhdpi": 144,
                          "xxxhdpi": 192}.items():  # fmt: skip
        assert image(f"{res}/mipmap-{density}/ic_launcher.png").size == (size, size)
    for density, size in {"mdpi": 108, "hdpi": 162, "xhdpi": 216, "xxhdpi": 324,
                          "xxxhdpi": 432}.items():  # fmt: skip
        foreground = image(f"{res}/mipmap-{density}/ic_launcher_foreground.png")
        background = image(f"{res}/mipmap-{density}/ic_launcher_background.png")
        assert foreground.size == background.size == (size, size)
        assert background.mode == "RGB"
        alpha = foreground.getchannel("A")
        safe_radius = size * 33 / 108
        centre = (size - 1) / 2
        for x in range(0, size, max(1, size // 27)):
            for y in range(0, size, max(1, size // 27)):
                if math.hypot(x - centre, y - centre) > safe_radius + 1:
                    assert alpha.getpixel((x, y)) == 0, (density, x, y)
        assert alpha.getpixel((size // 2, size // 2)) == 255
    ET.fromstring(archive.read(f"{res}/mipmap-anydpi-v26/ic_launcher.xml"))  # noqa: S314
    colours = ET.fromstring(archive.read(f"{res}/values/colors.xml"))  # noqa: S314
    primary = colours.find("color[@name='brand_primary']").text
    assert len(primary) == 9 and primary.startswith("#FF")
    # Google Play store images (no alpha on the feature graphic).
    play = "fastlane/metadata/android/en-US"
    assert image(f"{play}/images/icon.png").size == (512, 512)
    feature = image(f"{play}/images/featureGraphic.png")
    assert (feature.size, feature.mode) == ((1024, 500), "RGB")
    # iOS colour sets: sRGB components 0..1.
    colorset = json.loads(
        archive.read("native/ios/BrandColors.xcassets/BrandPrimary.colorset/Contents.json")
    )
    components = colorset["colors"][0]["color"]["components"]
    assert all(0 <= float(components[c]) <= 1 for c in ("red", "green", "blue"))
    # The Expo app config.
    config = json.loads(archive.read("app.config.json"))["expo"]
    assert config["name"] == "Alpha Gym"
    assert (
        config["ios"]["bundleIdentifier"] == config["android"]["package"] == ("com.alphagym.portal")
    )
    assert config["ios"]["buildNumber"] == "1" and config["android"]["versionCode"] == 1
    assert config["slug"] == "alpha" and config["scheme"] == "alpha"
    assert config["extra"]["apiBaseUrl"] == tenant_a.url("/api/v1/")
    connection.set_tenant(tenant_a)
    assert config["extra"]["themeVersion"] == ThemeVersion.objects.order_by("-number")[0].number
    for colour in (config["primaryColor"], config["splash"]["backgroundColor"],
                   config["android"]["adaptiveIcon"]["backgroundColor"]):  # fmt: skip
        assert len(colour) == 7 and colour.startswith("#")
    for path in (config["icon"], config["splash"]["image"],
                 config["android"]["adaptiveIcon"]["foregroundImage"]):  # fmt: skip
        assert path.removeprefix("./") in names
    assert image("assets/splash.png").size == (1024, 1024)
    assert image("assets/splash.png").mode == "RGB"
    # DTCG tokens and the fastlane metadata of both stores.
    tokens = json.loads(archive.read("tokens.json"))
    assert tokens["color"]["primary"]["$value"]["colorSpace"] == "srgb"
    ios_meta = "fastlane/metadata/en-US"
    assert archive.read(f"{ios_meta}/name.txt") == b"Alpha Gym\n"
    assert archive.read(f"{ios_meta}/privacy_url.txt") == b"https://alpha.example/privacy\n"
    assert archive.read(f"{ios_meta}/keywords.txt") == b"gymnastics,classes,kids,camps\n"
    assert archive.read(f"{play}/title.txt") == b"Alpha Gym\n"
    assert archive.read(f"{play}/short_description.txt").startswith(b"Enroll, pay")
    assert archive.read(f"{play}/changelogs/1.txt") == b"First release.\n"
    # The manifest lists every other file with its SHA-256.
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest == detail["manifest"]
    listed = {item["path"]: item for item in manifest["files"]}
    assert set(listed) == set(names) - {"manifest.json"}
    for path, item in listed.items():
        assert hashlib.sha256(archive.read(path)).hexdigest() == item["sha256"]


def test_same_inputs_give_byte_identical_bundles(ready_app, django_capture_on_commit_callbacks):
    request_build(ready_app, django_capture_on_commit_callbacks)
    connection.set_tenant(ready_app.tenant)
    build = AppBuild.objects.get(number=1)
    sources = services._sources(build)
    again = bundle_render(build.inputs, sources)
    assert again.sha256 == build.bundle_sha256
    assert bundle_render(build.inputs, sources).data == again.data
    changed = json.loads(json.dumps(build.inputs))
    changed["app"]["display_name"] = "Alpha Gymnastics"
    assert bundle_render(changed, sources).sha256 != build.bundle_sha256


def test_a_second_concurrent_build_is_refused(ready_app, tenant_a):
    # Not committed: the first build stays queued, as it does until a worker takes it.
    first = ready_app.client().post(f"{APP}/builds")
    assert first.status_code == 202
    assert_error(ready_app.client().post(f"{APP}/builds"), 409, "build_in_progress")
    connection.set_tenant(tenant_a)
    assert AppBuild.objects.count() == 1
    assert_error(ready_app.client().post(f"{APP}/builds/1/retry"), 409, "build_not_retryable")


def test_identifiers_lock_after_the_first_build(ready_app):
    ready_app.client().post(f"{APP}/builds")
    body = assert_error(
        ready_app.client().patch(APP, {"ios_bundle_id": "com.other.app"}, format="json"),
        400,
        "identifiers_locked",
    )
    assert "ios_bundle_id" in body["fields"]
    assert ready_app.client().get(APP).json()["identifiers_locked"] is True
    # The name is not an identifier: it can change (it needs a new binary).
    assert (
        ready_app.client().patch(APP, {"display_name": "Alpha"}, format="json").status_code == 200
    )


def test_a_failed_upload_leaves_the_build_retryable_and_never_ready(
    ready_app, tenant_a, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    def broken_save(*args, **kwargs):
        raise ConnectionError("the object store is unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(default_storage, "save", broken_save)
        request_build(ready_app, django_capture_on_commit_callbacks)
    detail = ready_app.client().get(f"{APP}/builds/1").json()
    assert detail["status"] == "failed" and detail["retryable"] is True
    assert detail["failure_code"] == "upload_failed"
    assert "unreachable" in detail["failure_reason"]
    assert detail["download"] is None
    assert_error(ready_app.client().post(f"{APP}/builds/1/retry/"), 404, "not_found")
    with django_capture_on_commit_callbacks(execute=True):
        retry = ready_app.client().post(f"{APP}/builds/1/retry")
    assert retry.status_code == 202, retry.content
    detail, data = download(ready_app, 1)
    assert detail["attempts"] == 2
    connection.set_tenant(tenant_a)
    build = AppBuild.objects.get(number=1)
    assert bundle_render(build.inputs, services._sources(build)).data == data


def test_a_stalled_build_can_be_retried(ready_app, tenant_a):
    ready_app.client().post(f"{APP}/builds")
    connection.set_tenant(tenant_a)
    from django.utils import timezone

    AppBuild.objects.update(
        status="rendering", heartbeat_at=timezone.now() - services.STALLED_AFTER * 2
    )
    assert ready_app.client().post(f"{APP}/builds/1/retry").status_code == 202
    connection.set_tenant(tenant_a)
    assert AppBuild.objects.get().status == "queued"


def test_a_duplicate_task_delivery_does_nothing(
    ready_app, tenant_a, django_capture_on_commit_callbacks
):
    request_build(ready_app, django_capture_on_commit_callbacks)
    connection.set_tenant(tenant_a)
    build = AppBuild.objects.get()
    again = services.build_run(build.pk)
    assert (again.status, again.attempts, again.bundle_sha256) == (
        "ready",
        1,
        build.bundle_sha256,
    )


def test_a_suspended_business_cannot_build(ready_app, tenant_a, platform_admin):
    connection.set_schema_to_public()
    Tenant.objects.filter(pk=tenant_a.pk).update(status=Tenant.Status.SUSPENDED)
    response = platform_admin.client(None).post(
        f"/api/platform/v1/tenants/{tenant_a.slug}/app/builds"
    )
    assert_error(response, 409, "tenant_not_active")
    connection.set_tenant(Tenant.objects.get(pk=tenant_a.pk))
    assert not AppBuild.objects.exists()


def test_local_download_links_expire_and_are_bound_to_the_build(
    ready_app, tenant_a, tenant_b, settings, django_capture_on_commit_callbacks
):
    request_build(ready_app, django_capture_on_commit_callbacks)
    url = ready_app.client().get(f"{APP}/builds/1").json()["download"]["url"]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    assert client_for(tenant_a).get(path).status_code == 200
    assert_error(
        client_for(tenant_a).get(path.replace("builds/1/", "builds/2/")), 404, "link_invalid"
    )
    assert_error(client_for(tenant_a).get(path + "x"), 404, "link_invalid")
    # The same link on another business's host is worth nothing.
    assert_error(client_for(tenant_b).get(path), 404, "link_invalid")
    settings.BRANDED_APP_DOWNLOAD_TTL = -1
    assert_error(client_for(tenant_a).get(path), 410, "link_expired")


# --- runtime configuration -------------------------------------------------------------------


def test_runtime_changes_need_no_new_build_but_binary_ones_do(
    ready_app, django_capture_on_commit_callbacks
):
    request_build(ready_app, django_capture_on_commit_callbacks)
    client = ready_app.client()
    portal = client.get(f"{API}/portal").json()
    assert portal["app"] == {"latest_build": 1, "latest_version": "1.0.0"}
    assert client.get(APP).json()["build_needed"]["needed"] is False
    # Colours the binary does not bake reach installed apps through GET /api/v1/portal: no
    # build needed.
    client.patch(f"{API}/staff/theme/draft", {"secondary": "#7c3aed"}, format="json")
    published = client.post(f"{API}/staff/theme/publish").json()
    assert published["needs_app_build"] is False and published["binary_changes"] == []
    assert client.get(f"{API}/portal").json()["theme"]["version"] == published["number"]
    assert client.get(APP).json()["build_needed"]["needed"] is False
    # The primary colour is the Android launcher icon's background: the running app repaints
    # at once, the launcher waits for a build, and both answers say so.
    client.patch(f"{API}/staff/theme/draft", {"primary": "#6d28d9"}, format="json")
    published = client.post(f"{API}/staff/theme/publish").json()
    assert published["needs_app_build"] is True and published["binary_changes"] == ["primary"]
    assert "primary" in published["runtime_changes"]
    assert client.get(APP).json()["build_needed"] == {
        "needed": True, "reasons": ["launcher_background"], "last_ready_build": 1,
    }  # fmt: skip
    # A new icon and a new name only reach families in a new binary.
    new_icon = Image.new("RGB", (1024, 1024), (15, 118, 110))
    buffer = io.BytesIO()
    new_icon.save(buffer, "PNG")
    assert upload(ready_app, "app_icon", buffer.getvalue(), "icon2.png").status_code == 200
    assert client.post(f"{API}/staff/theme/publish").json()["needs_app_build"] is True
    client.patch(APP, {"display_name": "Alpha Gym Club"}, format="json")
    needed = client.get(APP).json()["build_needed"]
    assert needed == {"needed": True, "reasons": ["display_name", "app_icon",
                      "launcher_background"], "last_ready_build": 1}  # fmt: skip


# --- permissions and isolation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", APP),
        ("patch", APP),
        ("get", f"{APP}/listings"),
        ("put", f"{APP}/listings/en-US"),
        ("get", f"{APP}/preflight"),
        ("get", f"{APP}/builds"),
        ("post", f"{APP}/builds"),
        ("get", f"{APP}/builds/1"),
        ("post", f"{APP}/builds/1/retry"),
    ],
)
def test_app_endpoints_are_for_this_businesss_staff(method, path, family_a, tenant_a, tenant_b):
    assert_error(getattr(family_a.client(), method)(path), 403, "permission_denied")
    assert getattr(client_for(tenant_a), method)(path).status_code == 401
    other = make_actor(tenant_b, email="apps@beta.test", staff=True)
    assert_cross_tenant_denied(
        credentials_client=other.client(), target=tenant_a, method=method, path=path
    )


def test_platform_admins_build_any_business_and_nobody_else_can(
    ready_app, tenant_a, platform_admin, staff_b
):
    platform = platform_admin.client(None)
    base = f"/api/platform/v1/tenants/{tenant_a.slug}/app"
    assert platform.get(f"{base}/preflight").json()["ready"] is True
    response = platform.post(f"{base}/builds")
    assert response.status_code == 202, response.content
    assert response.json()["requested_by"] == "platform:root@platform.test"
    assert platform.get(f"{base}/builds/1").json()["status"] == "queued"
    assert [b["number"] for b in platform.get(f"{base}/builds").json()] == [1]
    assert_error(
        platform.get("/api/platform/v1/tenants/nobody/app/builds"), 404, "tenant_not_found"
    )
    assert_error(platform.get(f"{base}/builds/9"), 404, "build_not_found")
    # A business's staff token means nothing on the platform host.
    for client in (ready_app.client(None), staff_b.client(None)):
        assert client.post(f"{base}/builds").status_code in (401, 403)


# --- the command line ------------------------------------------------------------------------


def test_cli_builds_with_a_progress_bar(ready_app, tenant_a):
    out = io.StringIO()
    call_command("branded_app_build", tenant_a.slug, stdout=out)
    text = out.getvalue()
    assert "Build 1 of Alpha Gymnastics queued." in text
    assert "100%" in text and "Build 1 ready" in text and "token=" in text
    connection.set_tenant(tenant_a)
    assert AppBuild.objects.get().status == "ready"


def test_cli_preflight_lists_problems(app_staff, tenant_a):
    out = io.StringIO()
    with pytest.raises(CommandError, match="blocking problem"):
        call_command("branded_app_build", tenant_a.slug, "--preflight", stdout=out)
    assert "BLOCKING privacy_url" in out.getvalue()
    with pytest.raises(CommandError, match="No business"):
        call_command("branded_app_build", "nobody")
    with pytest.raises(CommandError, match="preflight_failed"):
        call_command("branded_app_build", tenant_a.slug, stdout=io.StringIO(), stderr=io.StringIO())
    connection.set_tenant(tenant_a)
    assert BrandedApp.objects.get().identifiers_locked is False


# --- object storage --------------------------------------------------------------------------


def test_bundle_goes_to_s3_under_the_tenant_prefix_with_an_expiring_link(
    s3_storage, app_staff, tenant_a, settings, django_capture_on_commit_callbacks
):
    make_ready(app_staff, tenant_a)  # the brand images go to the bucket too
    request_build(app_staff, django_capture_on_commit_callbacks)
    detail, data = download(app_staff, 1)
    assert hashlib.sha256(data).hexdigest() == detail["bundle_sha256"]
    keys = s3_storage.object_keys(prefix=f"{tenant_a.slug}/branded-apps/")
    assert keys == [f"{tenant_a.slug}/branded-apps/builds/1/alpha-1.0.0-1.zip"]
    url = detail["download"]["url"]
    assert "X-Amz-Expires=900" in url and "X-Amz-Signature=" in url
    tampered = url.replace("builds/1/", "builds/2/")
    assert requests.get(tampered, timeout=10).status_code == 403
    # Expired links are refused by the object store itself.
    settings.BRANDED_APP_DOWNLOAD_TTL = 1
    short = app_staff.client().get(f"{APP}/builds/1").json()["download"]["url"]
    import time

    time.sleep(2.5)
    assert requests.get(short, timeout=10).status_code == 403


# --- the demo businesses ---------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["acme", "zen"])
def test_each_demo_business_builds_a_ready_bundle_on_s3(
    slug, s3_storage, app_staff, tenant_a, django_capture_on_commit_callbacks
):
    from demo.branding import APPS, app_demo, brand_demo
    from demo.data import seed_business
    from tests.factories import PASSWORD

    connection.set_tenant(tenant_a)
    seed_business(slug=slug, password=PASSWORD, family_emails=[])
    brand_demo(slug)
    app_demo(slug)
    assert app_staff.client().get(f"{APP}/preflight").json()["ready"] is True
    request_build(app_staff, django_capture_on_commit_callbacks)
    _detail, data = download(app_staff, 1)
    archive = zipfile.ZipFile(io.BytesIO(data))
    config = json.loads(archive.read("app.config.json"))["expo"]
    assert config["name"] == APPS[slug]["record"]["display_name"]
    icon = Image.open(io.BytesIO(archive.read("native/ios/AppIcon.appiconset/AppIcon-1024.png")))
    assert (icon.size, icon.mode) == ((1024, 1024), "RGB")
    for locale in APPS[slug]["listings"]:
        # Each store's own spelling of the locale (Google Play has es-419, not es-MX).
        from branded_apps.project import app_store_locale, play_locale

        apple, google = app_store_locale(locale), play_locale(locale)
        assert f"fastlane/metadata/{apple}/description.txt" in archive.namelist()
        assert f"fastlane/metadata/android/{google}/full_description.txt" in archive.namelist()


def test_builds_run_on_their_own_queue():
    from saas_platform.celery import app

    route = app.amqp.router.route({}, "branded_apps.build_run")
    assert route["queue"].name == "builds"
