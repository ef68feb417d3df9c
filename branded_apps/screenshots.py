"""Store screenshots rendered from the business's real catalog and brand: the family app's web
build (saas_platform.app_web, the business baked in like a branded build) in Chromium, against
the business's live API, at the sizes the stores ask for.

- App Store: iPhone 6.9" 1290x2796 (430x932 points at 3x); iPad 13" 2064x2752 (1032x1376 at 2x)
  when the app supports tablets.
- Google Play: phone 1080x1920 (360x640 at 3x), at least two.

``screenshots_render`` saves them to the default storage under the tenant's prefix and records
them on the app (``BrandedApp.screenshots``: path and SHA-256 per locale and device); the next
build freezes those references and puts the images in the bundle
(``fastlane/screenshots/<locale>/`` for the App Store,
``fastlane/metadata/android/<locale>/images/phoneScreenshots/`` for Google Play).
Run by ``manage.py branded_app_screenshots <slug>`` where Chromium is installed."""

from __future__ import annotations

import hashlib
import os

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

DEVICES = {
    "iphone69": {"viewport": {"width": 430, "height": 932}, "scale": 3, "size": (1290, 2796)},
    "ipad13": {"viewport": {"width": 1032, "height": 1376}, "scale": 2, "size": (2064, 2752)},
    "android": {"viewport": {"width": 360, "height": 640}, "scale": 3, "size": (1080, 1920)},
}
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def _shots(page, app_url: str) -> list[tuple[str, bytes]]:
    """The screens a store listing shows: the business's welcome, its classes, one class."""
    shots = []
    page.goto(app_url)
    page.get_by_role("button", name="Sign in").first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    shots.append(("1-welcome", page.screenshot()))
    search = page.get_by_role("button", name="Search classes")
    if search.count():
        search.click()
        page.get_by_role("link").first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        shots.append(("2-classes", page.screenshot()))
        page.get_by_role("link").first.click()
        page.get_by_role("heading", level=1).first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        shots.append(("3-class", page.screenshot()))
    return shots


def screenshots_render(
    *, platform_url: str, supports_tablet: bool = False, loopback: bool = False, browser=None
) -> dict:
    """Render and store this tenant's screenshots; returns {device: [{path, sha256}]}.
    ``loopback``: every host name resolves to 127.0.0.1 (a server on this machine, as in the
    demo and the tests); otherwise only ``*.localhost`` does. ``browser``: a Playwright
    Chromium already running in this thread (tests), else one is started."""
    from playwright.sync_api import sync_playwright

    from saas_platform.app_web import serve, web_export

    tenant = connection.tenant
    baked = {"slug": tenant.schema_name, "name": tenant.name, "apiBaseUrl": tenant.url("/api/v1/")}
    server = serve(platform_url=platform_url, tenant=baked, dist=web_export())
    app_url = f"http://127.0.0.1:{server.server_port}/"
    devices = [d for d in DEVICES if supports_tablet or d != "ipad13"]
    saved: dict[str, list[dict]] = {}
    try:
        if browser is not None:
            _render_all(browser, devices, app_url, saved)
            return saved
        with sync_playwright() as playwright:
            rule = "MAP * 127.0.0.1" if loopback else "MAP *.localhost 127.0.0.1"
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=[*ARGS, f"--host-resolver-rules={rule}"]
            )
            try:
                _render_all(browser, devices, app_url, saved)
            finally:
                browser.close()
    finally:
        server.shutdown()
    return saved


def _render_all(browser, devices: list[str], app_url: str, saved: dict) -> None:
    tenant = connection.tenant
    for device in devices:
        spec = DEVICES[device]
        context = browser.new_context(
            viewport=spec["viewport"], device_scale_factor=spec["scale"],
            locale="en-US",
        )  # fmt: skip
        page = context.new_page()
        saved[device] = []
        for name, data in _shots(page, app_url):
            path = f"{tenant.schema_name}/branded-apps/screenshots/{device}-{name}.png"
            if default_storage.exists(path):
                default_storage.delete(path)
            stored = default_storage.save(path, ContentFile(data))
            saved[device].append({"path": stored, "sha256": hashlib.sha256(data).hexdigest()})
        context.close()
