"""The API docs pages render in a browser from our own static files, under the production CSP:
no request leaves the origin and the browser reports no CSP violation."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("API_DOCS_SHOTS")  # a folder to keep screenshots in (reviewing by eye)


@pytest.mark.parametrize("width", [390, 768, 1280])
def test_the_family_api_docs_render_offline_under_the_csp(e2e_tenant, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    loaded, problems = [], []
    page.on("requestfinished", lambda req: loaded.append(req.url))
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        response = page.goto(e2e_tenant("/api/v1/docs"))
        assert "script-src 'self'" in response.headers["content-security-policy"]
        # Redoc fetched the schema and drew the operations.
        page.get_by_text("Customer portal platform API").first.wait_for(timeout=20000)
        page.get_by_text("offerings_search").first.wait_for(state="attached", timeout=20000)
        page.wait_for_load_state("networkidle")
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"api-docs-{width}.png"))
        origin = urlsplit(e2e_tenant()).netloc
        # Everything loaded came from the portal itself (the bundle, the schema).
        assert {urlsplit(url).netloc for url in loaded if url.startswith("http")} == {origin}
        assert any(url.endswith("/redoc.standalone.js") for url in loaded)
        # The one thing the CSP refuses is the "API docs by Redocly" badge, an image the
        # bundle hard-codes from its CDN (Redoc hides it when it does not load).
        refused = [p for p in problems if "Content Security Policy" in p]
        assert all("cdn.redoc.ly/redoc/logo-mini.svg" in p for p in refused), refused
    finally:
        context.close()
