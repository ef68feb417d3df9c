"""Production settings: security headers and cookies, allowed hosts (wildcard and custom
domains), JSON logs with tenant and request id, optional Sentry, email by URL."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.test import override_settings
from django.urls import path
from django.utils import timezone

from kernel import observability
from saas_platform.settings import email_url_settings as parse_email_url
from tenants.models import Domain
from tests.helpers import assert_error, client_for

logger = logging.getLogger("tests.production")
pytestmark = pytest.mark.django_db

# -- importing the settings with a given environment --------------------------------------------

_CLEARED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "EMAIL_URL",
    "EMAIL_BACKEND",
    "SENTRY_DSN",
    "LOG_FORMAT",
    "AWS_STORAGE_BUCKET_NAME",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "DJANGO_SETTINGS_MODULE",
}
_NAMES = [
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "X_FRAME_OPTIONS",
    "STORAGES",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "LOG_FORMAT",
    "MIDDLEWARE",
]
_SCRIPT = """
import json, sys
import saas_platform.settings as s
out = {name: getattr(s, name) for name in json.loads(sys.argv[1])}
import sentry_sdk
out["sentry_active"] = sentry_sdk.get_client().is_active()
out["sentry_dsn"] = sentry_sdk.get_client().dsn
out["log_handler"] = s.LOGGING["handlers"]["console"]
print(json.dumps(out, default=str))
"""


def settings_with(**env) -> dict:
    full = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    full.update(env)
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(_NAMES)],
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout)


PRODUCTION = {"SECRET_KEY": "prod-key", "PLATFORM_DOMAIN": "portals.example.com"}


def test_production_defaults_are_secure():
    s = settings_with(**PRODUCTION)
    assert s["ALLOWED_HOSTS"] == ["portals.example.com", ".portals.example.com"]
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31_536_000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_HSTS_PRELOAD"] is False
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert s["SECURE_REFERRER_POLICY"] == "strict-origin-when-cross-origin"
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    assert s["X_FRAME_OPTIONS"] == "DENY"
    assert s["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert s["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert s["LOG_FORMAT"] == "json"
    assert s["log_handler"]["formatter"] == "json" and s["log_handler"]["filters"] == ["context"]
    assert s["sentry_active"] is False
    middleware = s["MIDDLEWARE"]
    assert middleware[:8] == [
        "kernel.observability.RequestIdMiddleware",
        # Writes the process's kept token uses when due, after the answer is made.
        "kernel.api.token_use.TokenUseFlushMiddleware",
        "saas_platform.health.HealthCheckMiddleware",
        "saas_platform.allowed_hosts.AllowedHostsMiddleware",
        # NUL characters anywhere in the request: 400 before any view or query sees them.
        "saas_platform.input_guard.BadInputMiddleware",
        # gzip for text answers; everything above only adds headers or answers on its own.
        "saas_platform.compression.TextGZipMiddleware",
        # CORS preflights of the app's web build are answered before any tenant lookup.
        "saas_platform.app_cors.AppWebCorsMiddleware",
        "tenants.routing.TenantRoutingMiddleware",
    ]
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in middleware


def test_debug_relaxes_what_local_development_needs():
    s = settings_with(DEBUG="1")
    assert s["ALLOWED_HOSTS"] == ["*"]
    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SECURE_HSTS_SECONDS"] == 0
    assert s["SESSION_COOKIE_SECURE"] is False
    assert s["LOG_FORMAT"] == "plain"
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_security_settings_come_from_the_environment():
    s = settings_with(
        **PRODUCTION,
        ALLOWED_HOSTS="portals.example.com,.portals.example.com,web.internal",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_PRELOAD="1",
        SECURE_SSL_REDIRECT="0",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Scheme",
        SECURE_REFERRER_POLICY="same-origin",
        LOG_FORMAT="plain",
    )
    assert s["ALLOWED_HOSTS"][-1] == "web.internal"
    assert s["SECURE_HSTS_SECONDS"] == 600 and s["SECURE_HSTS_PRELOAD"] is True
    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_SCHEME", "https"]
    assert s["SECURE_REFERRER_POLICY"] == "same-origin"
    assert s["LOG_FORMAT"] == "plain"
    assert (
        settings_with(**PRODUCTION, SECURE_PROXY_SSL_HEADER="")["SECURE_PROXY_SSL_HEADER"] is None
    )


def test_media_goes_to_s3_when_a_bucket_is_set():
    s = settings_with(
        **PRODUCTION, AWS_STORAGE_BUCKET_NAME="media", AWS_S3_ENDPOINT_URL="http://s3:8333"
    )
    default = s["STORAGES"]["default"]
    assert default["BACKEND"] == "kernel.storage.MediaS3Storage"
    assert default["OPTIONS"]["bucket_name"] == "media"
    assert default["OPTIONS"]["endpoint_url"] == "http://s3:8333"


def test_backups_get_a_private_encrypted_bucket_of_their_own():
    s3 = {"AWS_STORAGE_BUCKET_NAME": "media", "AWS_S3_ENDPOINT_URL": "http://s3:8333"}
    s = settings_with(**PRODUCTION, **s3, TENANT_BACKUP_BUCKET="platform-backups")
    backups = s["STORAGES"]["backups"]
    assert backups["BACKEND"] == "storages.backends.s3.S3Storage"
    options = backups["OPTIONS"]
    assert (
        options["bucket_name"]
        == "platform-backups"
        != s["STORAGES"]["default"]["OPTIONS"]["bucket_name"]
    )
    assert options["default_acl"] == "private" and options["querystring_auth"] is True
    assert options["custom_domain"] is None and options["endpoint_url"] == "http://s3:8333"
    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}
    kms = settings_with(
        **PRODUCTION, **s3, TENANT_BACKUP_BUCKET="b", TENANT_BACKUP_SSE="aws:kms",
        TENANT_BACKUP_KMS_KEY_ID="key-1",
    )  # fmt: skip
    assert kms["STORAGES"]["backups"]["OPTIONS"]["object_parameters"] == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "key-1",
    }
    # Without a bucket: a local folder outside MEDIA_ROOT, owner-only; never the media storage.
    local = settings_with(**PRODUCTION, **s3)["STORAGES"]["backups"]
    assert local["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert local["OPTIONS"]["file_permissions_mode"] == 0o600
    with pytest.raises(RuntimeError, match="must not be the media bucket"):
        settings_with(**PRODUCTION, **s3, TENANT_BACKUP_BUCKET="media")
    with pytest.raises(RuntimeError, match="TENANT_BACKUP_SSE must be"):
        settings_with(**PRODUCTION, TENANT_BACKUP_SSE="none")
    with pytest.raises(RuntimeError, match="must not be inside MEDIA_ROOT"):
        settings_with(**PRODUCTION, MEDIA_ROOT="/srv/media", TENANT_BACKUP_ROOT="/srv/media/b")


def test_bad_values_are_clear_errors():
    with pytest.raises(RuntimeError, match="LOG_FORMAT must be json or plain"):
        settings_with(**PRODUCTION, LOG_FORMAT="xml")
    with pytest.raises(RuntimeError, match="SECURE_HSTS_SECONDS must be an integer"):
        settings_with(**PRODUCTION, SECURE_HSTS_SECONDS="a year")
    with pytest.raises(RuntimeError, match="EMAIL_URL must start with one of"):
        settings_with(**PRODUCTION, EMAIL_URL="sendmail://localhost")
    with pytest.raises(RuntimeError, match="SENTRY_TRACES_SAMPLE_RATE must be a number"):
        settings_with(**PRODUCTION, SENTRY_DSN="", SENTRY_TRACES_SAMPLE_RATE="lots")


# -- Sentry --------------------------------------------------------------------------------------


def test_sentry_is_on_only_with_a_dsn():
    dsn = "https://public@o0.ingest.sentry.io/42"
    s = settings_with(**PRODUCTION, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="staging")
    assert s["sentry_active"] is True
    assert s["sentry_dsn"] == dsn
    assert settings_with(**PRODUCTION)["sentry_active"] is False


def test_sentry_events_are_tagged_with_tenant_and_request_id(tenant_a, in_tenant_a):
    observability.set_request_id("req-42")
    try:
        event = observability._sentry_before_send({"message": "boom"}, {})
    finally:
        observability.set_request_id(None)
    assert event["tags"] == {"request_id": "req-42", "tenant": tenant_a.schema_name}


# -- email by URL --------------------------------------------------------------------------------


def test_email_url_smtp_with_starttls_and_encoded_credentials():
    config = parse_email_url("smtp://mailer%40example.com:p%40ss:w@smtp.example.com:587/?tls=1")
    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer@example.com",
        "EMAIL_HOST_PASSWORD": "p@ss:w",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }


def test_email_url_smtps_defaults_and_timeout():
    config = parse_email_url("smtps://u:p@mail.example.com?timeout=7.5")
    assert config["EMAIL_USE_SSL"] is True and config["EMAIL_USE_TLS"] is False
    assert config["EMAIL_PORT"] == 465
    assert config["EMAIL_TIMEOUT"] == 7.5
    assert parse_email_url("smtp://localhost")["EMAIL_PORT"] == 25


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("console://", "django.core.mail.backends.console.EmailBackend"),
        ("locmem://", "django.core.mail.backends.locmem.EmailBackend"),
        ("dummy://", "django.core.mail.backends.dummy.EmailBackend"),
    ],
)
def test_email_url_other_backends(url, backend):
    assert parse_email_url(url) == {"EMAIL_BACKEND": backend}


def test_email_url_file_backend_and_errors():
    assert parse_email_url("file:///var/mail/outbox") == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/var/mail/outbox",
    }
    with pytest.raises(ImproperlyConfigured, match="needs a folder"):
        parse_email_url("file://")
    with pytest.raises(ImproperlyConfigured, match="both tls"):
        parse_email_url("smtp://h/?tls=1&ssl=1")
    with pytest.raises(ImproperlyConfigured, match="tls must be a boolean"):
        parse_email_url("smtp://h/?tls=maybe")
    with pytest.raises(ImproperlyConfigured, match="invalid port"):
        parse_email_url("smtp://h:notaport/")


def test_email_url_in_the_environment_configures_the_backend():
    s = settings_with(**PRODUCTION, EMAIL_URL="smtp://apikey:secret@smtp.sendgrid.net:587/?tls=1")
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"]) == ("smtp.sendgrid.net", 587)
    assert (s["EMAIL_HOST_USER"], s["EMAIL_HOST_PASSWORD"]) == ("apikey", "secret")
    assert s["EMAIL_USE_TLS"] is True and s["EMAIL_USE_SSL"] is False
    assert settings_with(**PRODUCTION, EMAIL_URL="console://")["EMAIL_BACKEND"].endswith(
        "console.EmailBackend"
    )


# -- requests: ids, logs, hosts and headers -------------------------------------------------------


def _log_view(request):
    logger.warning("enrollment page viewed")
    return JsonResponse({"host": request.get_host(), "request_id": request.request_id})


urlpatterns = [path("probe", _log_view)]
PROBE_URLS = override_settings(ROOT_URLCONF=__name__)


@pytest.fixture
def json_log():
    """The project's JSON formatter and context filter, writing to a buffer."""
    formatter_cfg = settings.LOGGING["formatters"]["json"]
    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        JsonFormatter(fmt=formatter_cfg["fmt"], rename_fields=formatter_cfg["rename_fields"])
    )
    handler.addFilter(observability.ContextFilter())
    logger.addHandler(handler)
    logging.getLogger("django.request").addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logging.getLogger("django.request").removeHandler(handler)


@PROBE_URLS
def test_request_id_is_kept_from_the_proxy_and_logged_with_the_tenant(tenant_a, json_log):
    response = client_for(tenant_a).get("/probe", HTTP_X_REQUEST_ID="edge-7f3a.1")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "edge-7f3a.1"
    assert response.json()["request_id"] == "edge-7f3a.1"
    [line] = [line for line in json_log() if line["message"] == "enrollment page viewed"]
    assert line["tenant"] == tenant_a.schema_name
    assert line["request_id"] == "edge-7f3a.1"
    assert line["level"] == "WARNING" and line["logger"] == "tests.production"
    assert "time" in line
    assert observability.current_request_id() is None  # cleared when the response closed


@PROBE_URLS
def test_a_missing_or_unsafe_request_id_is_replaced(tenant_b, json_log):
    first = client_for(tenant_b).get("/probe")
    second = client_for(tenant_b).get("/probe", HTTP_X_REQUEST_ID="bad id\nInjected: yes")
    ids = {first["X-Request-ID"], second["X-Request-ID"]}
    assert len(ids) == 2
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)
    lines = [line for line in json_log() if line["message"] == "enrollment page viewed"]
    assert {line["request_id"] for line in lines} == ids
    assert {line["tenant"] for line in lines} == {tenant_b.schema_name}


def test_django_not_found_lines_carry_the_request_id(json_log):
    response = client_for(None).get("/no-such-page/", HTTP_X_REQUEST_ID="rid-404")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "rid-404"
    [line] = [line for line in json_log() if line["logger"] == "django.request"]
    assert line["request_id"] == "rid-404" and line["tenant"] == "public"


def test_health_checks_get_a_request_id_too():
    response = client_for(None).get("/healthz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200
    assert len(response["X-Request-ID"]) == 32


def test_tasks_carry_the_request_id_of_the_request_that_sent_them():
    observability.set_request_id("rid-task")
    headers: dict = {}
    observability._before_task_publish(headers=headers)
    assert headers == {"request_id": "rid-task"}
    observability.set_request_id(None)

    class _Task:
        class request:  # mimics celery's Task.request
            request_id = "rid-task"

    observability._task_prerun(task=_Task())
    assert observability.current_request_id() == "rid-task"
    observability._task_postrun()
    assert observability.current_request_id() is None


def test_the_allowed_hosts_in_tests_are_the_production_ones():
    assert settings.DEBUG is False
    assert settings.PLATFORM_DOMAIN in settings.ALLOWED_HOSTS
    assert f".{settings.PLATFORM_DOMAIN}" in settings.ALLOWED_HOSTS
    assert "*" not in settings.ALLOWED_HOSTS


@PROBE_URLS
def test_a_verified_custom_domain_passes_the_host_check(
    tenant_a, django_capture_on_commit_callbacks
):
    client = client_for(tenant_a)
    client.defaults["HTTP_HOST"] = "classes.alpha-gym.example:443"
    assert_error(client.get("/probe", HTTP_ACCEPT="application/json"), 404, "unknown_host")
    with django_capture_on_commit_callbacks(execute=True):
        Domain.objects.create(
            domain="classes.alpha-gym.example",
            tenant=tenant_a,
            is_primary=False,
            is_custom=True,
            verified_at=timezone.now(),
        )
    response = client.get("/probe")
    assert response.status_code == 200
    assert response.json()["host"] == "classes.alpha-gym.example:443"


def test_an_unverified_custom_domain_and_unknown_hosts_get_the_routing_404(
    tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        Domain.objects.create(
            domain="claimed.alpha-gym.example", tenant=tenant_a, is_primary=False, is_custom=True
        )
    for host in ["claimed.alpha-gym.example", "evil.example.com", "nope.testserver.local", ""]:
        client = client_for(None)
        client.defaults["HTTP_HOST"] = host
        assert_error(client.get("/api/v1/anything"), 404, "unknown_host")
        response = client.get("/")
        assert response.status_code == 404 and b"No portal here" in response.content


@PROBE_URLS
@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=600)
def test_http_is_redirected_and_https_gets_security_headers(tenant_a):
    client = client_for(tenant_a)
    plain = client.get("/probe")
    assert plain.status_code == 301
    assert plain["Location"] == f"https://{tenant_a.primary_host}/probe"
    # Behind the proxy: TLS ended there, it says so in X-Forwarded-Proto.
    secure = client.get("/probe", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
    assert secure["X-Content-Type-Options"] == "nosniff"
    assert secure["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert secure["X-Frame-Options"] == "DENY"
    assert secure["Cross-Origin-Opener-Policy"] == "same-origin"
    # Probes talk plain HTTP to the pod and are never redirected.
    assert client.get("/healthz").status_code == 200


def test_session_cookie_flags_follow_the_settings():
    s = settings_with(**PRODUCTION)
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert settings_with(**PRODUCTION, SESSION_COOKIE_SECURE="0")["SESSION_COOKIE_SECURE"] is False


@pytest.fixture(autouse=True)
def _no_leftover_request_id():
    yield
    observability.set_request_id(None)
