"""The branded bundle is a whole Expo project: the app's source at the frozen version, the
business's branding, eas.json, a build README, store locales the stores accept, privacy answers
and the App Review account; Expo's own tooling (`expo config`, `expo prebuild --no-install`)
accepts it as it is."""

from __future__ import annotations

import io
import json
import os
import plistlib
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from branded_apps import project
from branded_apps.models import AppListing
from kernel.users.models import User
from tests.branded_apps.helpers import download, request_build

pytestmark = pytest.mark.django_db
APP_SOURCE = Path(__file__).resolve().parents[2] / "mobile"


@pytest.fixture
def bundle(ready_app, tenant_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a):
        AppListing.objects.create(
            app=ready_app_record(), locale="es-MX", name="Alpha Gimnasia",
            description="Clases de gimnasia.", play_short_description="Clases de gimnasia.",
        )  # fmt: skip
    connection.set_schema_to_public()
    request_build(ready_app, django_capture_on_commit_callbacks)
    _, data = download(ready_app, 1)
    return zipfile.ZipFile(io.BytesIO(data))


def ready_app_record():
    from branded_apps.models import BrandedApp

    return BrandedApp.objects.get()


def test_the_bundle_holds_the_app_source_branding_and_store_files(bundle, tenant_a):
    names = set(bundle.namelist())
    for name in ("package.json", "package-lock.json", "app.config.ts", "index.ts", "eas.json",
                 "branding.json", "BUILD.md", "store/privacy.json", "src/App.tsx"):  # fmt: skip
        assert name in names, name
        if (APP_SOURCE / name).exists() and name not in ("branding.json",):
            assert bundle.read(name) == (APP_SOURCE / name).read_bytes(), name
    assert not any(n.startswith(("node_modules/", "__tests__/", "dist-web/")) for n in names)
    assert not any(n.startswith(("ios/", "android/")) for n in names)  # prebuild writes those
    branding = json.loads(bundle.read("branding.json"))
    assert branding["tenant"]["apiBaseUrl"] == tenant_a.url("/api/v1/")
    assert branding["iosBundleIdentifier"] and branding["androidPackage"]
    eas = json.loads(bundle.read("eas.json"))
    assert eas["build"]["production"]["android"]["buildType"] == "app-bundle"
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["format"] == 2
    # Spanish for Latin America: es-MX on the App Store, es-419 on Google Play (no es-MX).
    assert "fastlane/metadata/es-MX/name.txt" in names
    assert "fastlane/metadata/android/es-419/title.txt" in names
    assert not any(n.startswith("fastlane/metadata/android/es-MX/") for n in names)
    privacy = json.loads(bundle.read("store/privacy.json"))
    assert privacy["app_store"]["tracking"] is False
    assert {d["type"] for d in privacy["app_store"]["data_linked_to_you"]} >= {"EMAIL_ADDRESS"}
    assert privacy["google_play"]["deletion_request_mechanism"] is True
    # The App Review account works: a family of the business with a student.
    user = bundle.read("fastlane/metadata/review_information/demo_user.txt").decode().strip()
    password = bundle.read("fastlane/metadata/review_information/demo_password.txt").decode()
    with tenant_context(tenant_a):
        account = User.objects.get(email=user)
        assert account.check_password(password.strip())
        assert account.guardian.family.students.count() == 1


def test_a_source_change_refuses_a_retry_with_other_bytes(settings, tmp_path):
    ref = project.source_ref()
    assert project.source_for(ref)["package.json"] == (APP_SOURCE / "package.json").read_bytes()
    copy = tmp_path / "mobile"
    for name in project.SOURCE_FILES:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((APP_SOURCE / name).read_bytes())
    (copy / "src").mkdir()
    (copy / "src" / "App.tsx").write_text("export default null;\n")
    settings.FAMILY_APP_SOURCE = str(copy)
    from kernel.errors import ApplicationError

    with pytest.raises(ApplicationError) as excinfo:
        project.source_for(ref)
    assert excinfo.value.code == "app_source_changed"


@pytest.mark.integration
def test_expo_config_and_prebuild_accept_the_bundle(bundle, tmp_path):
    """Expo's own tooling on the unpacked bundle: the app config resolves to the business's
    identifiers, and prebuild generates both native projects (offline, no install: the
    packages are the app's own, from the same lockfile)."""
    bin_dir = APP_SOURCE / "node_modules" / ".bin"
    if not (bin_dir / "expo").exists():
        pytest.fail("mobile/node_modules is missing: run `npm ci` in mobile/ (make test does).")
    bundle.extractall(tmp_path)
    assert json.loads((tmp_path / "package-lock.json").read_text()) == json.loads(
        (APP_SOURCE / "package-lock.json").read_text()
    )
    (tmp_path / "node_modules").symlink_to(APP_SOURCE / "node_modules")
    branding = json.loads((tmp_path / "branding.json").read_text())
    env = {**os.environ, "EXPO_OFFLINE": "1", "CI": "1", "EXPO_NO_TELEMETRY": "1"}
    config = subprocess.run(
        [str(bin_dir / "expo"), "config", "--json", "--type", "public"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert config.returncode == 0, config.stderr[-3000:]
    resolved = json.loads(config.stdout)
    assert resolved["name"] == branding["name"]
    assert resolved["ios"]["bundleIdentifier"] == branding["iosBundleIdentifier"]
    assert resolved["android"]["package"] == branding["androidPackage"]
    assert resolved["extra"]["tenant"]["apiBaseUrl"] == branding["tenant"]["apiBaseUrl"]
    prebuild = subprocess.run(
        [str(bin_dir / "expo"), "prebuild", "--no-install", "--platform", "all"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert prebuild.returncode == 0, prebuild.stdout[-3000:] + prebuild.stderr[-3000:]
    gradle = (tmp_path / "android" / "app" / "build.gradle").read_text()
    package = re.escape(branding["androidPackage"])
    assert re.search(rf"applicationId ['\"]{package}['\"]", gradle), gradle[:2000]
    plists = list((tmp_path / "ios").glob("*/Info.plist"))
    assert plists, "prebuild wrote no iOS project"
    info = plistlib.loads(plists[0].read_bytes())
    assert info["CFBundleDisplayName"] == branding["name"]
