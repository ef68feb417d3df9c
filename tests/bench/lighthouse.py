"""Lighthouse on the family pages, served as in production (issue 20's Done-when).

``make lighthouse`` (or ``BENCH_ONLY=lighthouse make bench``). Lighthouse 12.2.3 from the npm
registry (the root package.json; ``make browser-deps`` installs it) drives Debian's chromium
(``CHROME_PATH``, /usr/bin/chromium) in its default mobile preset with its simulated
throttling (a mid-range phone on slow 4G, computed from one unthrottled load, so the shared
machine's CPU noise moves the figures less than real throttling would).

What is served: the demo businesses (``manage.py demo_seed``) in a database of this script's own
(created and dropped here), static files collected and compressed by WhiteNoise as the
container image does, gunicorn with ``saas_platform/gunicorn_conf.py`` and ``DEBUG`` off on
127.0.0.1. Chromium reaches Acme Gymnastics at ``acme.localhost:<port>`` (``*.localhost`` is
loopback). There is no TLS proxy here, so the server is told it is on plain http
(``SECURE_SSL_REDIRECT=0``, ``SESSION_COOKIE_SECURE=0``, ``PLATFORM_URL_SCHEME=http`` and the
port): everything else is the production configuration.

A demo family signs in through the real sign-in page, holds a seat in a class (so the cart has
something in it), and Lighthouse gets its session cookie through ``--extra-headers``. Pages:
home, class list, class detail, cart, account, each signed in. Each page (and /robots.txt, which
Lighthouse's SEO audit fetches with a 2 s timeout) is first asked for twice per gunicorn worker,
so what is measured is a warm server, not a worker's first request. Each page is measured
``LIGHTHOUSE_RUNS`` times (3) and the median score of each category is reported, with the
median metrics behind the performance score. Targets: every category >= 95 on every page.
``LIGHTHOUSE_OUT`` (a temporary folder) keeps the JSON reports.

Prints a table; exits 1 when a page misses a target and ``LIGHTHOUSE_STRICT=1``.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LIGHTHOUSE_VERSION = "12.2.3"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGET = 95
METRICS = (
    ("first-contentful-paint", "FCP", "ms"),
    ("largest-contentful-paint", "LCP", "ms"),
    ("total-blocking-time", "TBT", "ms"),
    ("cumulative-layout-shift", "CLS", ""),
    ("speed-index", "SI", "ms"),
)
BENCH_DB = os.environ.get("LIGHTHOUSE_DATABASE_NAME", "saas_platform_lighthouse")
HOST_SLUG = "acme"
FAMILY_EMAIL = "parent@acme.example"


def _environment(workdir: Path, port: int) -> dict[str, str]:
    """The production settings the server and the seeding run with."""
    from saas_platform import devservices

    base, _, _ = devservices.database_url().rpartition("/")
    return {
        "DATABASE_URL": f"{base}/{BENCH_DB}",
        "DJANGO_SETTINGS_MODULE": "saas_platform.settings",
        "DEBUG": "0",
        "SECRET_KEY": "lighthouse-bench-only-" + "x" * 40,
        "PLATFORM_DOMAIN": "localhost",
        "PLATFORM_URL_SCHEME": "http",
        "PLATFORM_URL_PORT": str(port),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "STATIC_ROOT": str(workdir / "static"),
        "MEDIA_ROOT": str(workdir / "media"),
        "TENANT_BACKUP_ROOT": str(workdir / "backups"),
        "CACHE_KEY_PREFIX": f"lighthouse-{os.getpid()}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": "memory://localhost/",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        # No Stripe key: the checkout pages say that cards are not taken online yet; none of
        # the measured pages loads Stripe.js.
        "STRIPE_SECRET_KEY": "",
        "STRIPE_PUBLISHABLE_KEY": "",
    }


def _recreate_database(url: str, *, create: bool = True) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"], "dbname": "postgres"}
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def _manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=os.environ.copy(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare() -> None:
    """Migrate, seed the demo and collect the static files, as a deploy would."""
    print("Seeding the demo businesses and collecting static files…", file=sys.stderr)
    _manage("migrate_schemas", "--noinput", "-v", "0")
    _manage("tenant_template_refresh")
    _manage("demo_seed")
    _manage("collectstatic", "--noinput", "-v", "0")


class Family:
    """A demo family signed in through the real sign-in page, with a seat held in its cart."""

    def __init__(self, port: int, host: str) -> None:
        import requests

        # Python's resolver does not map *.localhost to loopback as Chromium does: connect to
        # 127.0.0.1 and name the host in the header.
        self.origin = f"http://127.0.0.1:{port}"
        self.host = host
        self.http = requests.Session()
        self.http.headers["Host"] = host
        self.cookies: dict[str, str] = {}

    def _csrf(self, path: str) -> str:
        page = self.http.get(self.origin + path, timeout=30)
        page.raise_for_status()
        self._keep(page)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if not found:
            raise RuntimeError(f"no CSRF token on {path}")
        return found.group(1)

    def _keep(self, response) -> None:
        # requests' cookie jar would file them under 127.0.0.1: keep them by hand.
        for history in [*response.history, response]:
            for cookie in history.cookies:
                self.cookies[cookie.name] = cookie.value or ""
        self.http.headers["Cookie"] = self.cookie_header()

    def _post(self, path: str, data: dict) -> object:
        token = self._csrf(path if path.endswith("/login/") else "/classes/")
        response = self.http.post(
            self.origin + path,
            data={"csrfmiddlewaretoken": token, **data},
            allow_redirects=False,
            timeout=30,
        )
        self._keep(response)
        if response.status_code == 302:
            # Read the page it leads to, so its flash message is shown (and gone) now.
            self._keep(self.http.get(self.origin + response.headers["Location"], timeout=30))
        return response

    def cookie_header(self, names: tuple[str, ...] | None = None) -> str:
        return "; ".join(
            f"{name}={value}"
            for name, value in self.cookies.items()
            if names is None or name in names
        )

    def warm_up(self, paths: list[str], *, rounds: int) -> None:
        """Ask for each page a few times per worker first, so Lighthouse measures a server in
        its steady state (templates compiled, connections open), not a worker's first
        request."""
        for _ in range(rounds):
            for path in paths:
                self.http.get(self.origin + path, timeout=30).raise_for_status()

    def sign_in(self, email: str, password: str) -> None:
        response = self._post("/login/", {"email": email, "password": password})
        if response.status_code != 302 or "sessionid" not in self.cookies:  # type: ignore[attr-defined]
            raise RuntimeError(f"sign-in failed: {response.status_code}")  # type: ignore[attr-defined]

    def accept_policies(self) -> None:
        """Sign what the business asks before enrolling (the billing authorization, waivers)."""
        page = self.http.get(self.origin + "/family/", timeout=30)
        page.raise_for_status()
        ticks = re.findall(r'name="accept" value="([^"]+)"', page.text)
        if ticks:
            response = self._post("/family/policies/", {"accept": ticks, "signature": "Parent"})
            if response.status_code != 302:  # type: ignore[attr-defined]
                raise RuntimeError(f"accepting the policies: {response.status_code}")  # type: ignore[attr-defined]

    def hold_a_seat(self, pairs: list[tuple[int, int]]) -> int:
        """Add the first (student, offering) pair the cart takes; return the offering."""
        refused: list[str] = []
        for student_id, offering_id in pairs:
            response = self._post("/cart/add/", {"student": student_id, "offering": offering_id})
            location = response.headers.get("Location", "")  # type: ignore[attr-defined]
            if response.status_code == 302 and location.endswith("/cart/"):  # type: ignore[attr-defined]
                return offering_id
            main = response.text.split("<main", 1)[-1].split("</main>", 1)[0]  # type: ignore[attr-defined]
            reason = " ".join(re.sub(r"<[^>]+>", " ", main).split())[:200]
            refused.append(f"{offering_id}: {response.status_code} {reason}")  # type: ignore[attr-defined]
        raise RuntimeError(f"no class in the demo held a seat for the family ({refused[:5]})")


def _candidates() -> list[tuple[int, int]]:
    """(student, offering) pairs to try for the cart: the family's students, open classes."""
    from django_tenants.utils import tenant_context

    from portal.accounts.models import Student
    from portal.catalog.models import Offering
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(schema_name=HOST_SLUG)):
        students = list(
            Student.objects.filter(family__guardians__user__email=FAMILY_EMAIL).values_list(
                "id", flat=True
            )
        )
        offerings = list(Offering.objects.order_by("id").values_list("id", flat=True)[:40])
    return [(s, o) for o in offerings for s in students]


def lighthouse_bin() -> Path:
    path = ROOT / "node_modules" / ".bin" / "lighthouse"
    if not path.exists():
        raise SystemExit("Lighthouse is not installed: run `make browser-deps` (npm ci).")
    return path


def run_lighthouse(url: str, headers: dict[str, str], out: Path) -> dict:
    """One Lighthouse run (mobile preset, simulated throttling); returns the JSON report."""
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    cmd = [
        str(lighthouse_bin()),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=" + ",".join(CATEGORIES),
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
        "--extra-headers=" + json.dumps(headers),
        "--max-wait-for-load=60000",
    ]
    subprocess.run(cmd, env=env, check=True, timeout=300)
    return json.loads(out.read_text())


def summarize(reports: list[dict]) -> dict:
    """Median score (0-100) of each category and median of each metric over the runs."""
    scores = {
        category: statistics.median(
            round((r["categories"][category]["score"] or 0) * 100) for r in reports
        )
        for category in CATEGORIES
    }
    metrics = {
        key: statistics.median(r["audits"][key]["numericValue"] for r in reports)
        for key, _label, _unit in METRICS
    }
    failing: dict[str, set[str]] = {}
    for r in reports:
        for category in CATEGORIES:
            for ref in r["categories"][category]["auditRefs"]:
                audit = r["audits"][ref["id"]]
                if ref.get("weight") and audit.get("score") is not None and audit["score"] < 0.9:
                    failing.setdefault(category, set()).add(ref["id"])
    return {"scores": scores, "metrics": metrics, "failing": failing}


def report(results: dict[str, dict], runs: int, seconds: float) -> bool:
    width = max(len(name) for name in results) + 2
    print()
    print(
        f"Lighthouse {LIGHTHOUSE_VERSION} (mobile preset, simulated throttling; median of {runs} "
        f"runs per page; gunicorn, DEBUG off, WhiteNoise; {seconds:.0f} s)"
    )
    head = "".join(f"{c:>16}" for c in CATEGORIES)
    print(f"  {'page':<{width}}{head}   " + "  ".join(label for _k, label, _u in METRICS))
    ok = True
    for name, summary in results.items():
        cells = ""
        for category in CATEGORIES:
            score = summary["scores"][category]
            ok = ok and score >= TARGET
            cells += f"{score:>15.0f}{'' if score >= TARGET else '!'}"
            cells += " " if score >= TARGET else ""
        metrics = "  ".join(
            f"{summary['metrics'][key]:.2f}" if not unit else f"{summary['metrics'][key]:.0f}"
            for key, _label, unit in METRICS
        )
        print(f"  {name:<{width}}{cells}   {metrics}")
        for category, audits in sorted(summary["failing"].items()):
            print(f"  {'':<{width}}  {category}: below 0.9 in a run: {', '.join(sorted(audits))}")
    print(f"  target: every category >= {TARGET} on every page: {'met' if ok else 'MISSED'}")
    return ok


def main() -> int:
    runs = int(os.environ.get("LIGHTHOUSE_RUNS", "3"))
    lighthouse_bin()
    out_dir = Path(os.environ.get("LIGHTHOUSE_OUT") or tempfile.mkdtemp(prefix="lighthouse-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="lighthouse-serve-"))
    import load

    server = load.Server(workdir)
    os.environ.update(_environment(workdir, server.port))
    _recreate_database(os.environ["DATABASE_URL"])
    try:
        prepare()
        server.start()
        origin = f"http://{HOST_SLUG}.localhost:{server.port}"
        family = Family(server.port, f"{HOST_SLUG}.localhost:{server.port}")
        import django

        django.setup()
        from demo.management.commands.demo_seed import DEMO_PASSWORD

        family.sign_in(FAMILY_EMAIL, DEMO_PASSWORD)
        family.accept_policies()
        offering = family.hold_a_seat(_candidates())
        pages = {
            "home": "/",
            "class list": "/classes/",
            "class detail": f"/classes/{offering}/",
            "cart": "/cart/",
            "account": "/account/",
        }
        # The signed-in session only (no flash-message cookie, shown once above).
        headers = {"Cookie": family.cookie_header(("sessionid", "csrftoken"))}
        family.warm_up([*pages.values(), "/robots.txt"], rounds=2 * server.workers)
        started = time.monotonic()
        results: dict[str, dict] = {}
        for name, path in pages.items():
            reports = []
            for i in range(runs):
                slug = name.replace(" ", "-")
                reports.append(run_lighthouse(origin + path, headers, out_dir / f"{slug}-{i}.json"))
                print(f"  {name} run {i + 1}/{runs}", file=sys.stderr)
            results[name] = summarize(reports)
        ok = report(results, runs, time.monotonic() - started)
        print(f"  reports: {out_dir}")
    finally:
        server.stop()
        import django.db

        django.db.connections.close_all()
        _recreate_database(os.environ["DATABASE_URL"], create=False)
    return 0 if ok or os.environ.get("LIGHTHOUSE_STRICT") != "1" else 1


if __name__ == "__main__":
    sys.exit(main())
