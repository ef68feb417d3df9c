"""Store screenshots rendered from a business's real catalog and brand, at the sizes the stores
ask for, recorded for the next build and checked by pre-flight."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image

from branded_apps.models import BrandedApp
from branded_apps.preflight import preflight_run
from branded_apps.screenshots import screenshots_render
from branded_apps.services import app_get, app_screenshots_record, build_inputs
from demo.data import seed_business

pytestmark = [pytest.mark.e2e]


def test_screenshots_at_store_sizes_from_the_catalog(e2e_tenant, live_server_url, browser):
    tenant = e2e_tenant.tenant
    with tenant_context(tenant):
        seed_business(slug="zen", password="demo-pass-2026", family_emails=[])
        app_get()
        BrandedApp.objects.update(supports_tablet=True)
        codes = {p["code"] for p in preflight_run()["warnings"]}
        assert "screenshots_missing" in codes
        from django.conf import settings
        from django.test import override_settings

        with override_settings(PLATFORM_URL_PORT=str(live_server_url)):
            shots = screenshots_render(
                platform_url=f"http://{settings.PLATFORM_DOMAIN}:{live_server_url}",
                supports_tablet=True,
                browser=browser,
            )
        sizes = {
            device: {Image.open(io.BytesIO(default_storage.open(r["path"]).read())).size
                     for r in refs}
            for device, refs in shots.items()
        }  # fmt: skip
        assert sizes == {
            "iphone69": {(1290, 2796)},
            "ipad13": {(2064, 2752)},
            "android": {(1080, 1920)},
        }
        assert all(len(refs) == 3 for refs in shots.values())  # welcome, classes, one class
        app_screenshots_record(screenshots=shots)
        assert "screenshots_missing" not in {p["code"] for p in preflight_run()["warnings"]}
        keys = [k for k in build_inputs(build_number=1)["images"] if k.startswith("screenshot/")]
        assert len(keys) == 9 and "screenshot/android/1" in keys
    connection.set_schema_to_public()
