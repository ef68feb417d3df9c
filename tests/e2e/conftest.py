"""Browser tests: Playwright driving Debian's Chromium against a live server.

- The server is Django's threaded live server (a real HTTP server in this process) serving the
  whole tenant-routed app. It reads the test database through its own connections, so the data
  a test sets up must be committed: tests provision their own business (``e2e_tenant``), and
  ``committed`` drops its schema afterwards.
- Tenants live at ``<slug>.<PLATFORM_DOMAIN>``; Chromium resolves every host name to 127.0.0.1
  (``--host-resolver-rules``), so the browser sends the tenant's host name and the server routes
  it like production.
- Chromium comes from Debian (``/usr/bin/chromium``); ``playwright install`` is never run.
  Without the browser the tests fail (CI must run them, never skip them); ``.ci/run`` and
  ``make test`` install it.
- axe-core (``node_modules/axe-core``, from the npm registry via ``npm ci``) runs on every page
  a test visits; a serious or critical violation fails the test.
- A failing test leaves a full-page screenshot in ``tests/e2e/screenshots/`` (gitignored).
"""

from __future__ import annotations

import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from tests.e2e.watch import watch

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * 127.0.0.1",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
_slugs = itertools.count(1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A screenshot of every open page when a test fails (setup, call or teardown)."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    console = getattr(item, "_e2e_console", [])
    if console:
        report.sections.append(("e2e browser console", "\n".join(console[-50:])))
    browser_pages = getattr(item, "_e2e_pages", [])
    if not browser_pages:
        return
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])
    for index, page in enumerate(browser_pages):
        try:
            target = SCREENSHOTS / f"{name}-{report.when}-{index}.png"
            page.screenshot(path=str(target), full_page=True)
            report.sections.append(("e2e screenshot", f"{target} ({page.url})"))
        except Exception as exc:  # the page may be gone; the failure itself matters more
            report.sections.append(("e2e screenshot", f"could not save: {exc}"))


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker):
    """Django's threaded live server on 127.0.0.1 (random port), with static files."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    # Links a cache may keep (the website widget, paginated search) carry the configured port,
    # never the Host header's (kernel.hosts.public_origin): here, the live server's, as
    # `make demo` sets PLATFORM_URL_PORT to its own.
    from django.conf import settings

    previous_port = settings.PLATFORM_URL_PORT
    settings.PLATFORM_URL_PORT = str(thread.port)
    yield thread.port
    settings.PLATFORM_URL_PORT = previous_port
    thread.terminate()
    # A request thread still holding a keep-alive socket may keep its database connection;
    # end such sessions so the test database can be dropped.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`apt-get install -y chromium`; `make test` and .ci/run install it)."
        )
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` (make test does).")
    from playwright.sync_api import expect, sync_playwright

    # `expect(...)` retries until its timeout: a page reached by a click (a form posting back to
    # its own URL, where `wait_for_url` returns at once) is read when it has arrived, not before.
    # Same patience as the contexts' default timeout, for a loaded CI machine.
    expect.set_options(timeout=15_000)

    # Playwright's sync API keeps an event loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told it is safe (it is: the calls are plain sync code).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class AxeChecker:
    """Runs axe-core on a page; remembers which URLs were checked and which were visited, so a
    test can prove it checked every page it saw."""

    checked: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def check(self, page, *, context: str = "", exclude: tuple[str, ...] = ()) -> list[dict]:
        """``exclude``: CSS selectors of third-party markup left out (say why at the call)."""
        page.wait_for_load_state("load")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE_JS))
        result = page.evaluate(
            "async ([tags, exclude]) => await axe.run("
            "exclude.length ? {exclude: exclude.map((s) => [s])} : document,"
            " {runOnly: {type: 'tag', values: tags}})",
            [AXE_TAGS, list(exclude)],
        )
        bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        self.checked.append(_path(page.url))
        assert not bad, f"axe found serious/critical violations on {page.url} {context}:\n" + (
            json.dumps(
                [
                    {
                        "id": v["id"],
                        "impact": v["impact"],
                        "help": v["help"],
                        "nodes": [n["target"] for n in v["nodes"]][:5],
                    }
                    for v in bad
                ],
                indent=2,
            )
        )
        return result["violations"]

    def assert_every_page_checked(self) -> None:
        missing = sorted({u for u in self.visited if u not in set(self.checked)})
        assert not missing, f"pages visited but not checked with axe: {missing}"


def _path(url: str) -> str:
    """A page's identity for the every-page check: path and query, no fragment."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def axe():
    return AxeChecker()


def _new_page(request, browser, axe, viewport):
    # bypass_csp: axe-core is injected as an inline script, which the portal's CSP forbids.
    context = browser.new_context(viewport=viewport, locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on(
        "framenavigated",
        lambda frame: (
            axe.visited.append(_path(frame.url))
            if frame == page.main_frame and frame.url.startswith("http")
            else None
        ),
    )
    watch(request, page)
    return context, page


@pytest.fixture
def page(request, browser, axe):
    """A desktop-sized page; ``page_for(viewport)`` in tests that need another size."""
    context, page = _new_page(request, browser, axe, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(request, browser, axe):
    context, page = _new_page(request, browser, axe, PHONE)
    yield page
    context.close()


@dataclass
class E2ETenant:
    tenant: object
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.tenant.primary_host}:{self.port}"

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture
def e2e_tenant(committed, live_server_url):
    """A business of its own, committed (the live server reads it through other connections)
    and dropped afterwards."""
    from tenants.services import tenant_provision

    slug = f"etoe{os.getpid() % 10000}x{next(_slugs)}"
    committed.append(slug)
    tenant = tenant_provision(
        slug=slug, name="Kestrel Gymnastics", owner_email="owner@kestrel.test", launched=True
    ).tenant
    connection.set_schema_to_public()
    return E2ETenant(tenant=tenant, port=live_server_url)
