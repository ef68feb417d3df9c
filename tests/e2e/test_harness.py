"""The browser harness itself: a live server routed by host, theme and logo on the page, axe on
every page, and the website widget rendering on a foreign site without cookies."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.data import catalog_create

pytestmark = pytest.mark.e2e


@pytest.fixture
def school_site():
    """The business's own website: another origin, served by a plain HTTP server (on loopback
    like the portal here, so Chromium's private-network rules treat both alike)."""
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield pages, f"http://www.example-school-site.test:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_home_is_branded_and_accessible(e2e_tenant, page, axe):
    page.goto(e2e_tenant("/"))
    assert "Kestrel Gymnastics" in page.title()
    theme = page.evaluate(
        """async () => {
            const r = await fetch('/theme.css');
            return {status: r.status, type: r.headers.get('content-type'), text: await r.text()};
        }"""
    )
    assert theme["status"] == 200 and theme["type"].startswith("text/css")
    assert "--color-primary" in theme["text"]
    stylesheets = page.eval_on_selector_all(
        "link[rel=stylesheet]", "links => links.map(l => l.getAttribute('href'))"
    )
    assert any(href.startswith("/theme.css") for href in stylesheets), stylesheets
    axe.check(page)
    # Keyboard: the first Tab reaches the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    axe.assert_every_page_checked()


def test_unknown_host_is_a_404_page(live_server_url, page, axe, committed):
    response = page.goto(f"http://nobody-here.testserver.local:{live_server_url}/")
    assert response.status == 404
    axe.check(page)


def test_embed_widget_renders_on_a_foreign_site_and_opens_the_portal(
    e2e_tenant, page, axe, school_site
):
    offerings = catalog_create(e2e_tenant.tenant)
    snippet = f'<script src="{e2e_tenant("/embed.js")}" data-program="Gymnastics" async></script>'
    html = (
        "<!doctype html><html lang='en'><head><title>Our school</title></head><body>"
        f"<main><h1>Classes</h1>{snippet}</main></body></html>"
    )
    pages, site = school_site
    pages["/classes.html"] = html.encode()
    json_requests = []
    page.on(
        "request",
        lambda req: json_requests.append(req) if "/embed/offerings.json" in req.url else None,
    )
    page.goto(f"{site}/classes.html")
    items = page.locator(".cp-embed__item")
    items.first.wait_for()
    assert items.count() == 2
    assert "Guppies" not in page.inner_text("main")
    assert json_requests and "cookie" not in json_requests[0].all_headers()
    assert not page.context.cookies()  # nothing set on either site
    axe.check(page, context="(host page with the widget)")
    page.get_by_role("link", name="Enroll").first.click()
    page.wait_for_url(e2e_tenant(f"/classes/{offerings['free'].pk}/"))
    page.get_by_role("heading", name="Tumble Tots Trial").wait_for()
    axe.check(page)
    axe.assert_every_page_checked()
