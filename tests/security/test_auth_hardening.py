"""Authentication hardening: sign-in lockout per tenant and address on every sign-in door,
password validators, Argon2, session fixation, CSRF, CORS only on the widget endpoints, the
Content-Security-Policy and clickjacking protection."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client, override_settings
from django_tenants.utils import schema_context, tenant_context
from rest_framework.test import APIClient

from kernel import login_guard
from kernel.users.models import User
from tests.factories import PASSWORD, GuardianFactory
from tests.helpers import assert_error, host_of

pytestmark = pytest.mark.django_db

PROD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def fresh_ip() -> str:
    """A client address of its own, so counters in Redis never leak between tests."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 6
    settings.LOGIN_LOCKOUT_SECONDS = 600
    return settings


def api(tenant, ip: str) -> APIClient:
    return APIClient(HTTP_HOST=host_of(tenant), REMOTE_ADDR=ip)


def token_login(client, email, password):
    return client.post("/api/v1/auth/token", {"email": email, "password": password}, format="json")


@pytest.fixture
def parent_a(tenant_a):
    with tenant_context(tenant_a):
        guardian = GuardianFactory(email=f"lock-{secrets.token_hex(4)}@alpha.test")
    connection.set_schema_to_public()
    return guardian


# -- lockout ----------------------------------------------------------------------------------


def test_api_login_locks_after_the_limit_even_with_the_right_password(limits, tenant_a, parent_a):
    ip = fresh_ip()
    client = api(tenant_a, ip)
    for _ in range(2):
        assert_error(token_login(client, parent_a.email, "wrong"), 401, "invalid_credentials")
    body = assert_error(token_login(client, parent_a.email, "wrong"), 429, "login_locked")
    assert "Try again in 10 minutes" in body["message"]
    locked = token_login(client, parent_a.email, PASSWORD)
    assert_error(locked, 429, "login_locked")
    assert 590 <= int(locked["Retry-After"]) <= 600
    # Another address is not locked out of the account (an attacker cannot lock the owner out).
    assert token_login(api(tenant_a, fresh_ip()), parent_a.email, PASSWORD).status_code == 200
    # Staff (or support) can lift it.
    with tenant_context(tenant_a):
        login_guard.login_guard_reset(ip=ip, username=parent_a.email)
    assert token_login(client, parent_a.email, PASSWORD).status_code == 200


def test_a_correct_password_resets_the_account_counter(limits, tenant_a, parent_a):
    client = api(tenant_a, fresh_ip())
    for _ in range(2):
        token_login(client, parent_a.email, "wrong")
    assert token_login(client, parent_a.email, PASSWORD).status_code == 200
    for _ in range(2):
        assert_error(token_login(client, parent_a.email, "wrong"), 401, "invalid_credentials")


def test_password_spraying_from_one_address_locks_the_address(limits, tenant_a, parent_a):
    client = api(tenant_a, fresh_ip())
    for n in range(5):
        assert_error(token_login(client, f"nobody{n}@alpha.test", "x"), 401, "invalid_credentials")
    assert_error(token_login(client, "nobody-else@alpha.test", "x"), 429, "login_locked")
    assert_error(token_login(client, parent_a.email, PASSWORD), 429, "login_locked")


def test_a_lockout_on_tenant_a_does_not_touch_tenant_b(limits, tenant_a, tenant_b, parent_a):
    email = parent_a.email
    with tenant_context(tenant_b):
        GuardianFactory(email=email)  # the same address is another account on B
    connection.set_schema_to_public()
    ip = fresh_ip()
    for _ in range(3):
        token_login(api(tenant_a, ip), email, "wrong")
    assert_error(token_login(api(tenant_a, ip), email, PASSWORD), 429, "login_locked")
    assert token_login(api(tenant_b, ip), email, PASSWORD).status_code == 200
    for _ in range(2):
        assert_error(token_login(api(tenant_b, ip), email, "wrong"), 401, "invalid_credentials")


def test_web_login_locks_with_429_and_retry_after(limits, tenant_a, parent_a):
    ip = fresh_ip()
    client = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR=ip)
    for _ in range(2):
        response = client.post("/login/", {"email": parent_a.email, "password": "wrong"})
        assert response.status_code == 401
    response = client.post("/login/", {"email": parent_a.email, "password": PASSWORD})
    assert response.status_code == 302  # under the limit, and it resets the counter
    client = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR=ip)
    for _ in range(3):
        response = client.post("/login/", {"email": parent_a.email, "password": "wrong"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in response.content.decode()
    response = client.post("/login/", {"email": parent_a.email, "password": PASSWORD})
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_tenant_admin_login_locks(limits, tenant_a):
    with tenant_context(tenant_a):
        User.objects.create_user(email="desk@alpha.test", password=PASSWORD, is_staff=True)
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR=fresh_ip())
    form = {"username": "desk@alpha.test", "password": "wrong", "next": "/admin/"}
    assert client.post("/admin/login/", form).status_code == 200  # the form, with its error
    client.post("/admin/login/", form)
    locked = client.post("/admin/login/", form)
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in locked.content.decode()
    right = client.post("/admin/login/", {**form, "password": PASSWORD})
    assert right.status_code == 429 and "_auth_user_id" not in client.session


def platform_admin_tenant_host():
    from tests.helpers import session_tenant

    return session_tenant("a")


def test_platform_token_and_platform_admin_login_lock(limits, platform_admin):
    ip = fresh_ip()
    client = APIClient(HTTP_HOST=host_of(None), REMOTE_ADDR=ip)
    body = {"email": platform_admin.user.email, "password": "wrong", "device": "cli"}
    for _ in range(2):
        assert_error(client.post("/api/platform/v1/auth/token", body, format="json"), 401,
                     "invalid_credentials")  # fmt: skip
    locked = client.post("/api/platform/v1/auth/token", body, format="json")
    assert_error(locked, 429, "login_locked")
    assert "Retry-After" in locked
    web = Client(HTTP_HOST=host_of(None), REMOTE_ADDR=ip)
    response = web.post(
        "/admin/login/",
        {"username": platform_admin.user.email, "password": "correct horse battery"},
    )
    assert response.status_code == 429
    # The platform's lock is its own: the same address on a tenant host is not locked.
    assert_error(token_login(api(platform_admin_tenant_host(), ip), "x@alpha.test", "wrong"),
                 401, "invalid_credentials")  # fmt: skip


def test_redis_down_fails_open(limits, tenant_a, parent_a, monkeypatch):
    class DownCache:
        def __getattr__(self, name):
            def broken(*args, **kwargs):
                raise ConnectionError("redis is down")

            return broken

    monkeypatch.setattr(login_guard, "cache", DownCache())
    monkeypatch.setattr(login_guard, "redis_client", DownCache)
    client = api(tenant_a, fresh_ip())
    for _ in range(4):
        assert_error(token_login(client, parent_a.email, "wrong"), 401, "invalid_credentials")
    assert token_login(client, parent_a.email, PASSWORD).status_code == 200


# -- client addresses behind the proxies we ship ---------------------------------------------

PROXY = "10.0.0.2"  # Caddy / the ingress: REMOTE_ADDR of every request that comes through it


def via_proxy(tenant, client_ip: str, forged: str | None = None) -> APIClient:
    """A request as Caddy forwards it: REMOTE_ADDR is Caddy, which appends the address it saw
    to whatever X-Forwarded-For the client sent."""
    xff = f"{forged}, {client_ip}" if forged else client_ip
    return APIClient(HTTP_HOST=host_of(tenant), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff)


@pytest.fixture
def behind_caddy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_CIDRS = []
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_IP_FAILURE_LIMIT = 30
    settings.LOGIN_LOCKOUT_SECONDS = 900
    return settings


def test_thirty_wrong_passwords_from_one_client_lock_only_that_client(
    behind_caddy, tenant_a, parent_a
):
    attacker, owner = fresh_ip(), fresh_ip()
    for n in range(30):
        # The attacker rotates the header it controls; only the proxy's entry is believed.
        client = via_proxy(tenant_a, attacker, forged=f"192.0.2.{n + 1}")
        response = token_login(client, parent_a.email, "wrong")
        assert response.status_code in (401, 429)
    assert_error(token_login(via_proxy(tenant_a, attacker), parent_a.email, PASSWORD), 429,
                 "login_locked")  # fmt: skip
    # The same account, through the same proxy, from the owner's own address: not locked.
    assert token_login(via_proxy(tenant_a, owner), parent_a.email, PASSWORD).status_code == 200
    # And nobody else on this business is locked out either.
    assert_error(token_login(via_proxy(tenant_a, fresh_ip()), "someone@alpha.test", "x"), 401,
                 "invalid_credentials")  # fmt: skip


def test_without_trusted_proxies_the_forwarding_header_is_ignored(limits, tenant_a, parent_a):
    ip = fresh_ip()
    for n in range(3):
        client = APIClient(
            HTTP_HOST=host_of(tenant_a), REMOTE_ADDR=ip, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        )
        token_login(client, parent_a.email, "wrong")
    assert_error(token_login(api(tenant_a, ip), parent_a.email, PASSWORD), 429, "login_locked")


@pytest.fixture
def three_a_minute(monkeypatch):
    from kernel.api import throttling

    rates = {"portal-auth": "3/minute", "platform-token": "3/minute"}
    monkeypatch.setattr(throttling.ScopedRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(throttling.SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.mark.parametrize("trusted_proxies", [0, 1])
@pytest.mark.parametrize("door", ["api-reset", "api-signup", "web-reset"])
def test_rotating_x_forwarded_for_does_not_beat_the_reset_and_signup_limits(
    settings, three_a_minute, tenant_a, trusted_proxies, door
):
    settings.TRUSTED_PROXY_COUNT = trusted_proxies
    client_ip = fresh_ip()

    def headers(n: int, ip: str = client_ip) -> dict:
        """The client forges a new X-Forwarded-For each time; behind the proxy, the proxy
        appends the address it saw."""
        if trusted_proxies:
            return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"198.18.{n}.1, {ip}"}
        return {"REMOTE_ADDR": ip, "HTTP_X_FORWARDED_FOR": f"198.18.{n}.1"}

    signup = {"first_name": "A", "last_name": "B", "email": "s@alpha.test", "password": "x"}
    if door == "web-reset":
        web = Client(HTTP_HOST=host_of(tenant_a))

        def send(n, ip=client_ip):
            return web.post("/account/password-reset/", {"email": "x@alpha.test"}, **headers(n, ip))
    else:
        api_client = APIClient(HTTP_HOST=host_of(tenant_a))
        path, body = (
            ("/api/v1/auth/password-reset", {"email": "x@alpha.test"})
            if door == "api-reset"
            else ("/api/v1/auth/signup", signup)
        )

        def send(n, ip=client_ip):
            return api_client.post(path, body, format="json", **headers(n, ip))

    for n in range(3):
        assert send(n).status_code in (200, 202, 302, 400)
    refused = send(9)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # Another client behind the same proxy is not affected.
    assert send(10, fresh_ip()).status_code in (200, 202, 302, 400)


def test_the_platform_wide_ceiling_per_client_spans_tenants(
    settings, tenant_a, tenant_b, parent_a, platform_admin
):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 4  # per tenant: never reached below
    settings.LOGIN_PLATFORM_FAILURE_LIMIT = 6
    ip = fresh_ip()
    for n in range(3):
        assert_error(token_login(api(tenant_a, ip), f"a{n}@alpha.test", "x"), 401,
                     "invalid_credentials")  # fmt: skip
    for n in range(2):
        assert_error(token_login(api(tenant_b, ip), f"b{n}@beta.test", "x"), 401,
                     "invalid_credentials")  # fmt: skip
    platform = APIClient(HTTP_HOST=host_of(None), REMOTE_ADDR=ip)
    body = {"email": "nobody@platform.test", "password": "x", "device": "cli"}
    # The sixth failure anywhere reaches the ceiling: the address is locked on every host.
    assert_error(platform.post("/api/platform/v1/auth/token", body, format="json"), 429,
                 "login_locked")  # fmt: skip
    assert_error(token_login(api(tenant_a, ip), parent_a.email, PASSWORD), 429, "login_locked")
    assert_error(token_login(api(tenant_b, ip), "b0@beta.test", "x"), 429, "login_locked")
    # Other clients are untouched, on every tenant.
    assert token_login(api(tenant_a, fresh_ip()), parent_a.email, PASSWORD).status_code == 200
    # Support can lift it.
    login_guard.login_guard_reset(ip=ip)
    assert token_login(api(tenant_a, ip), parent_a.email, PASSWORD).status_code == 200


# -- passwords --------------------------------------------------------------------------------


def test_password_validators_apply_at_signup_and_reset(
    tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    client = api(tenant_a, fresh_ip())
    signup = {"first_name": "Ana", "last_name": "Lopez", "email": "ana-pw@alpha.test"}
    assert_error(client.post("/api/v1/auth/signup", {**signup, "password": "short"},
                             format="json"), 400, "password_too_weak")  # fmt: skip
    assert_error(client.post("/api/v1/auth/signup", {**signup, "password": "password123"},
                             format="json"), 400, "password_too_common")  # fmt: skip
    assert_error(client.post("/api/v1/auth/signup", {**signup, "password": "98127364501"},
                             format="json"), 400, "password_too_weak")  # fmt: skip
    assert_error(client.post("/api/v1/auth/signup", {**signup, "password": "ana-pw@alpha.test"},
                             format="json"), 400, "password_too_weak")  # fmt: skip
    with tenant_context(tenant_a):
        assert not User.objects.filter(email="ana-pw@alpha.test").exists()
        guardian = GuardianFactory(email="reset-pw@alpha.test")
    connection.set_schema_to_public()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/auth/password-reset", {"email": guardian.email},
                               format="json")  # fmt: skip
    assert response.status_code == 202
    uid, token = re.search(r"/account/reset/([^/]+)/([^/]+)/", mailoutbox[-1].body).groups()
    confirm = {"uid": uid, "token": token}
    assert_error(client.post("/api/v1/auth/password-reset/confirm",
                             {**confirm, "password": "qwerty123"}, format="json"),
                 400, "password_too_common")  # fmt: skip
    assert_error(client.post("/api/v1/auth/password-reset/confirm",
                             {**confirm, "password": "Zx9"}, format="json"),
                 400, "password_too_weak")  # fmt: skip
    with tenant_context(tenant_a):
        assert User.objects.get(pk=guardian.user_id).check_password(PASSWORD)


_SETTINGS_SCRIPT = """
import json, saas_platform.settings as s
print(json.dumps({"hashers": s.PASSWORD_HASHERS, "backends": s.AUTHENTICATION_BACKENDS,
                  "middleware": s.MIDDLEWARE}))
"""


def test_production_settings_hash_with_argon2():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(SECRET_KEY="prod-key", PLATFORM_DOMAIN="portals.example.com")
    out = subprocess.run(
        [sys.executable, "-c", _SETTINGS_SCRIPT], env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    prod = json.loads(out.stdout)
    assert prod["hashers"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "django.contrib.auth.hashers.MD5PasswordHasher" not in prod["hashers"]
    assert prod["backends"][0] == "kernel.login_guard.LockoutModelBackend"
    middleware = prod["middleware"]
    assert middleware.index("kernel.csp.ContentSecurityPolicyMiddleware") < (
        middleware.index("django.middleware.clickjacking.XFrameOptionsMiddleware")
    )
    assert "kernel.login_guard.LoginLockoutMiddleware" in middleware


def test_an_old_pbkdf2_hash_is_upgraded_to_argon2_on_sign_in(tenant_a):
    with override_settings(PASSWORD_HASHERS=PROD_HASHERS):
        with tenant_context(tenant_a):
            guardian = GuardianFactory(email="legacy@alpha.test")
            legacy = make_password(PASSWORD, hasher="pbkdf2_sha256")
            User.objects.filter(pk=guardian.user_id).update(password=legacy)
        connection.set_schema_to_public()
        response = token_login(api(tenant_a, fresh_ip()), "legacy@alpha.test", PASSWORD)
        assert response.status_code == 200, response.content
        with tenant_context(tenant_a):
            stored = User.objects.get(pk=guardian.user_id).password
        assert stored.startswith("argon2$argon2id$"), stored
        with tenant_context(tenant_a):
            assert User.objects.get(pk=guardian.user_id).check_password(PASSWORD)


# -- sessions and CSRF ------------------------------------------------------------------------


def planted_session(tenant, client) -> str:
    """A session an attacker created on the tenant and planted in the victim's browser."""
    from django.contrib.sessions.backends.db import SessionStore

    with tenant_context(tenant):
        session = SessionStore()
        session["planted"] = "by-an-attacker"
        session.save()
    connection.set_schema_to_public()
    client.cookies["sessionid"] = session.session_key
    return session.session_key


def test_web_login_cycles_the_session_key(tenant_a, parent_a):
    client = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR=fresh_ip())
    before = planted_session(tenant_a, client)
    response = client.post("/login/", {"email": parent_a.email, "password": PASSWORD})
    assert response.status_code == 302
    after = client.cookies["sessionid"].value
    assert after and after != before
    with tenant_context(tenant_a):
        from django.contrib.sessions.models import Session

        assert not Session.objects.filter(session_key=before).exists()


def test_admin_login_cycles_the_session_key(tenant_a):
    with tenant_context(tenant_a):
        User.objects.create_user(email="desk2@alpha.test", password=PASSWORD, is_staff=True)
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR=fresh_ip())
    before = planted_session(tenant_a, client)
    response = client.post("/admin/login/?next=/admin/",
                           {"username": "desk2@alpha.test", "password": PASSWORD})  # fmt: skip
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != before
    with tenant_context(tenant_a):
        from django.contrib.sessions.models import Session

        assert not Session.objects.filter(session_key=before).exists()


def test_a_web_form_post_without_csrf_token_is_refused(tenant_a, parent_a):
    client = Client(HTTP_HOST=host_of(tenant_a), enforce_csrf_checks=True, REMOTE_ADDR=fresh_ip())
    response = client.post("/login/", {"email": parent_a.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    # With the token from the form, the same post works.
    page = client.get("/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login/", {"email": parent_a.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_api_token_auth_is_csrf_exempt_but_session_writes_need_the_token(tenant_a, family_a):
    # A bearer token: no cookie, no CSRF token needed.
    client = APIClient(HTTP_HOST=host_of(tenant_a), enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {family_a.token}")
    response = client.post(
        "/api/v1/family/emergency-contacts", {"name": "Gran", "phone": "555-0199"}, format="json"
    )
    assert response.status_code == 201, response.content
    # A browser session (cookie) must send the CSRF token on writes.
    browser = APIClient(HTTP_HOST=host_of(tenant_a), enforce_csrf_checks=True)
    connection.set_tenant(tenant_a)
    browser.force_login(family_a.guardian.user)
    connection.set_schema_to_public()
    assert browser.get("/api/v1/family").status_code == 200  # reads are fine
    response = browser.post(
        "/api/v1/family/emergency-contacts", {"name": "Gramps", "phone": "555-0198"}, format="json"
    )
    assert_error(response, 403, "permission_denied")
    assert "CSRF" in response.json()["message"]
    with tenant_context(tenant_a):
        assert not family_a.family.emergency_contacts.filter(name="Gramps").exists()


# -- CORS, CSP, framing -----------------------------------------------------------------------

ORIGIN = "https://attacker.example"
NON_EMBED_PATHS = [
    "/", "/login/", "/classes/", "/signup/", "/theme.css", "/admin/login/",
    "/api/v1/portal", "/api/v1/offerings", "/api/v1/auth/token", "/api/v1/family",
    "/api/v1/family/export", "/api/v1/schema", "/api/v1/theme/tokens.json",
]  # fmt: skip


def test_only_the_widget_endpoints_answer_cross_origin(tenant_a, family_a):
    client = APIClient(HTTP_HOST=host_of(tenant_a))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {family_a.token}")
    for path in NON_EMBED_PATHS:
        for method in ("get", "options"):
            response = getattr(client, method)(path, HTTP_ORIGIN=ORIGIN)
            assert "Access-Control-Allow-Origin" not in response, (method, path)
            assert "Access-Control-Allow-Credentials" not in response, (method, path)
    platform = APIClient(HTTP_HOST=host_of(None))
    for path in ("/", "/api/platform/v1/directory", "/admin/login/"):
        assert "Access-Control-Allow-Origin" not in platform.get(path, HTTP_ORIGIN=ORIGIN)
    for path in ("/embed.js", "/embed/offerings.json"):
        response = client.get(path, HTTP_ORIGIN=ORIGIN)
        assert response["Access-Control-Allow-Origin"] == "*", path
        assert "Access-Control-Allow-Credentials" not in response


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_pages_carry_a_csp_that_allows_stripe_and_nothing_else_third_party(tenant_a, settings):
    settings.STRIPE_JS_URL = "http://127.0.0.1:8420/js.stripe.com/v3/"
    response = Client(HTTP_HOST=host_of(tenant_a)).get("/login/")
    csp = _directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["form-action"] == ["'self'"] and csp["base-uri"] == ["'self'"]
    nonce = [v for v in csp["script-src"] if v.startswith("'nonce-")]
    assert len(nonce) == 1 and len(nonce[0]) > 20
    assert "https://js.stripe.com" in csp["script-src"]
    assert "http://127.0.0.1:8420" in csp["script-src"]  # STRIPE_JS_URL's origin (localstripe)
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "https://api.stripe.com" in csp["connect-src"]
    assert {"https://js.stripe.com", "https://hooks.stripe.com"} <= set(csp["frame-src"])
    allowed_hosts = {"js.stripe.com", "*.js.stripe.com", "hooks.stripe.com", "api.stripe.com",
                     "*.stripe.com", "127.0.0.1:8420"}  # fmt: skip
    for values in csp.values():
        for value in values:
            if "://" in value:
                assert value.split("://", 1)[1] in allowed_hosts, value
    # A new nonce for every response.
    again = Client(HTTP_HOST=host_of(tenant_a)).get("/login/")["Content-Security-Policy"]
    assert nonce[0] not in again
    api_response = APIClient(HTTP_HOST=host_of(tenant_a)).get("/api/v1/portal")
    assert "frame-ancestors 'none'" in api_response["Content-Security-Policy"]


def test_inline_scripts_carry_the_nonce(tenant_a, rf):
    from django.template.loader import render_to_string
    from django.utils import timezone

    request = rf.get("/")
    request.csp_nonce = "n0nce-value"
    html = render_to_string(
        "portal_web/_countdown.html",
        {"expires_at": timezone.now(), "seconds_left": 120},
        request=request,
    )
    assert '<script nonce="n0nce-value">' in html
    # Every <script> in the portal's templates has a nonce attribute.
    from pathlib import Path

    import portal_web

    root = Path(portal_web.__file__).parent / "templates"
    for template in root.rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", template.read_text()):
            assert 'nonce="{{ request.csp_nonce }}"' in tag, (template.name, tag)


def test_clickjacking_protection_everywhere_but_the_widget(tenant_a):
    client = Client(HTTP_HOST=host_of(tenant_a))
    for path in ("/", "/login/", "/admin/login/", "/api/v1/portal"):
        response = client.get(path)
        assert response["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], path
    platform = Client(HTTP_HOST=host_of(None)).get("/admin/login/")
    assert platform["X-Frame-Options"] == "DENY"
    for path in ("/embed.js", "/embed/offerings.json"):
        response = client.get(path)
        assert "X-Frame-Options" not in response, path
        assert "frame-ancestors" not in response.get("Content-Security-Policy", ""), path


def test_login_guard_keys_are_per_schema(tenant_a, tenant_b):
    from django.core.cache import cache

    with schema_context(tenant_a.schema_name):
        key_a = cache.make_key("login-guard:ip:1.2.3.4")
    with schema_context(tenant_b.schema_name):
        key_b = cache.make_key("login-guard:ip:1.2.3.4")
    assert key_a != key_b
