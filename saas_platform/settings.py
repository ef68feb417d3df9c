"""Process settings, all read from the environment (documented in README.md, "Configuration").

Per-tenant behaviour lives in the tenant's portal settings (portal.config), never here.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


_EMAIL_SCHEMES = ("smtp", "smtps", "console", "locmem", "dummy", "file")


def _email_flag(options: dict[str, list[str]], name: str) -> bool | None:
    if name not in options:
        return None
    value = options[name][-1].strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"EMAIL_URL option {name} must be a boolean, got {value!r}.")


def email_url_settings(url: str) -> dict[str, object]:
    """The EMAIL_* settings for an EMAIL_URL (README, "Configuration"), parsed by dj-email-url.

    Around it, what the README promises and dj-email-url does not do: refuse what it would
    silently ignore (an unknown scheme, a boolean option that is not one, tls with ssl, a bad
    port, a file:// without a folder); ``locmem://`` (its ``memory://``); ``smtps://`` as
    implicit TLS on port 465 (its ``smtps`` means STARTTLS) and 587 for STARTTLS; an absolute
    ``file:///path`` (it drops the path's first slash); a fractional ``timeout``; and no
    settings for the parts a URL leaves out."""
    import dj_email_url

    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _EMAIL_SCHEMES:
        known = ", ".join(f"{name}://" for name in _EMAIL_SCHEMES)
        raise ImproperlyConfigured(f"EMAIL_URL must start with one of {known}; got {url!r}.")
    if scheme == "file":
        if not parts.path:
            raise ImproperlyConfigured("EMAIL_URL file:// needs a folder, e.g. file:///tmp/mail.")
        parsed = dj_email_url.parse(f"file:///{parts.path}")
        return {key: parsed[key] for key in ("EMAIL_BACKEND", "EMAIL_FILE_PATH")}
    if scheme not in {"smtp", "smtps"}:
        parsed = dj_email_url.parse("memory://" if scheme == "locmem" else f"{scheme}://")
        return {"EMAIL_BACKEND": parsed["EMAIL_BACKEND"]}
    options = parse_qs(parts.query, keep_blank_values=True)
    tls, ssl = _email_flag(options, "tls"), _email_flag(options, "ssl")
    if tls and ssl:
        raise ImproperlyConfigured("EMAIL_URL cannot turn on both tls (STARTTLS) and ssl.")
    if ssl is None and scheme == "smtps" and not tls:
        ssl = True
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"EMAIL_URL has an invalid port: {url!r}.") from None
    query = "ssl=1" if ssl else "tls=1" if tls else ""
    parsed = dj_email_url.parse(urlunsplit(("smtp", parts.netloc, "/", query, "")))
    config: dict[str, object] = {
        "EMAIL_BACKEND": parsed["EMAIL_BACKEND"],
        "EMAIL_HOST": parsed["EMAIL_HOST"],
        "EMAIL_PORT": port or (465 if ssl else 587 if tls else 25),
        "EMAIL_HOST_USER": parsed["EMAIL_HOST_USER"] or "",
        "EMAIL_HOST_PASSWORD": parsed["EMAIL_HOST_PASSWORD"] or "",
        "EMAIL_USE_TLS": parsed["EMAIL_USE_TLS"],
        "EMAIL_USE_SSL": parsed["EMAIL_USE_SSL"],
    }
    if "timeout" in options:
        try:
            config["EMAIL_TIMEOUT"] = float(options["timeout"][-1])
        except ValueError:
            raise ImproperlyConfigured("EMAIL_URL option timeout must be a number.") from None
    return config


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not env_bool("ALLOW_INSECURE_SECRET_KEY", False):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (production) or DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-dev-only-key-never-use-in-production"  # noqa: S105

# The domain every tenant portal lives under: <slug>.<PLATFORM_DOMAIN>. The bare domain serves
# the platform site and the platform API.
PLATFORM_DOMAIN = env_str("PLATFORM_DOMAIN", "localhost").lower().strip(".")
# Scheme and port used when the platform builds absolute links (set-password emails, API URLs).
PLATFORM_URL_SCHEME = env_str("PLATFORM_URL_SCHEME", "http" if DEBUG else "https")
PLATFORM_URL_PORT = os.environ.get("PLATFORM_URL_PORT", "")
# The public IPv4 address of the platform's ingress: the A record a business creates for an
# apex custom domain (a subdomain uses a CNAME to <slug>.<PLATFORM_DOMAIN> instead). Empty:
# the platform console tells the business to ask the operator for it.
PLATFORM_INGRESS_IPV4 = env_str("PLATFORM_INGRESS_IPV4", "")
# The platform's own host names. Tenants' custom domains are not listed: they pass because the
# routing table serves them (saas_platform.allowed_hosts.AllowedHostsMiddleware); any other
# host gets the routing's 404. With DEBUG every host is accepted.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*" if DEBUG else f"{PLATFORM_DOMAIN},.{PLATFORM_DOMAIN}")

_database_url = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/saas_platform")
try:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgres://...).")
# django-tenants' backend, remembering the connection's search_path across requests so a
# request in the schema the connection is already in sends no SET (kernel/db_backend/base.py).
DATABASES["default"]["ENGINE"] = "kernel.db_backend"
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
# A connection pool per process (Django's psycopg pool): at most DATABASE_POOL_MAX_SIZE
# connections however many threads serve requests; a request that finds none free waits up to
# DATABASE_POOL_TIMEOUT seconds instead of PostgreSQL answering "too many clients". Size it so
# processes x max size stays under max_connections (or PgBouncer's pool, infra/pgbouncer/).
# 0 turns it off (then DATABASE_CONN_MAX_AGE keeps one connection per thread).
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 0)
if DATABASE_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django must not
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(env_int("DATABASE_POOL_MIN_SIZE", 1), DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
        "max_idle": 300,
    }
# Behind PgBouncer (infra/pgbouncer/pgbouncer.ini, docs/operations.md): "session" or
# "transaction" pooling. Either way no server-side cursors and no prepared statements (a server
# connection may serve another client between two statements), and PgBouncer is the pool, so the
# process keeps none. In transaction mode each new connection must show that the server reports
# search_path (kernel.pgbouncer), or PgBouncer could not give a client its tenant's
# schema back on another server connection.
DATABASE_PGBOUNCER = env_str("DATABASE_PGBOUNCER", "").strip().lower()
if DATABASE_PGBOUNCER not in ("", "session", "transaction"):
    raise ImproperlyConfigured("DATABASE_PGBOUNCER must be empty, session or transaction.")
if DATABASE_PGBOUNCER:
    if DATABASE_POOL_MAX_SIZE > 0:
        raise ImproperlyConfigured(
            "DATABASE_POOL_MAX_SIZE must be 0 behind PgBouncer (PgBouncer is the pool)."
        )
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
# The hot paths' fixed reads (kernel.queries.prepared_cursor) are prepared by PostgreSQL on
# first use, once per connection; not behind PgBouncer (above). Django's own statements are
# never prepared (it binds on the client and leaves psycopg's prepare_threshold off).
DATABASE_PREPARED_READS = not DATABASE_PGBOUNCER
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
# Issue `SET search_path` only when the schema changes, not before every query (and, with
# kernel.db_backend, not again on the next request in the same schema).
TENANT_LIMIT_SET_CALLS = True

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Redis behind a unix socket (the embedded dev server) is "unix://..." for redis-py and
# "redis+socket://..." for Celery's transport.
_broker_default = (
    "redis+socket://" + REDIS_URL.removeprefix("unix://")
    if REDIS_URL.startswith("unix://")
    else REDIS_URL
)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _broker_default)

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "kernel.users",
    "rest_framework",
    "drf_spectacular",
    # Redoc's bundle as our own static file: the API docs load nothing from a CDN (CSP 'self').
    "drf_spectacular_sidecar",
    "demo",
    "platform_console",
]
# auth, sessions, admin and users exist in the public schema (platform admins) and again in
# every tenant schema (staff and families): a session or token from one tenant means nothing in
# another, because it is looked up in that tenant's own tables.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "kernel.users",
    # The audit trail of money and enrollments: row triggers and their event tables, in each
    # tenant schema (portal.privacy.history); "pghistory.admin" shows it to staff, read-only.
    # Before portal.privacy, whose ready() completes pgtrigger's set-up.
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "portal.catalog",
    "portal.accounts",
    "portal.config",
    "portal.enrollment",
    "portal.orders",
    "portal.requests",
    "portal.attendance",
    "portal.billing",
    "portal.store",
    "portal.privacy",
    "portal.outbox",
    "portal.push",
    "portal.activity",
    "portal_api",
    "portal_web",
    "portal_console",
    "theming",
    "branded_apps",
    # Last: its post_migrate builds the role groups from every other app's permissions.
    "portal.staff",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

# pgtrigger installs triggers through migrations only (so each tenant schema gets them when
# migrated, and clones copy them); never on its own after migrate.
PGTRIGGER_INSTALL_ON_MIGRATE = False
# pgtrigger's helper function goes into each tenant schema with its triggers (not one shared
# copy in public that every tenant migration would replace at once under deploy_migrate).
PGTRIGGER_SCHEMA = ""
PGHISTORY_INSTALL_CONTEXT_FUNC_ON_MIGRATE = False
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# Pre-migrated schema that new tenants are cloned from (see tenants/schema_clone.py). Its name
# starts with "_", which no slug can, so it never collides with a tenant.
TENANT_TEMPLATE_SCHEMA = env_str("TENANT_TEMPLATE_SCHEMA", "_tenant_template")
# How many tenant schemas are kept cloned ahead of time, so provisioning is a rename (0: off).
TENANT_SCHEMA_POOL_SIZE = env_int("TENANT_SCHEMA_POOL_SIZE", 2)
# pg_dump used to capture the template's DDL; found on PATH (or the pgserver wheel) when empty.
PG_DUMP_PATH = os.environ.get("PG_DUMP_PATH", "")
# Seconds a process trusts its host -> tenant cache before re-reading it (changes made in this
# process, and in others through a Redis generation counter, invalidate it sooner).
TENANT_ROUTING_CACHE_TTL = env_int("TENANT_ROUTING_CACHE_TTL", 300)
# Seconds class search trusts its Redis copy of seat availability before one process reloads it
# (portal.catalog.availability); seat changes rewrite it after commit anyway.
AVAILABILITY_CACHE_TTL = env_int("AVAILABILITY_CACHE_TTL", 5)
# Admission control (saas_platform.admission): shed only when the smallest queueing delay over an
# interval is above the target; then per-tenant fair share above each portal's floor.
ADMISSION_ENABLED = env_bool("ADMISSION_ENABLED", True)
ADMISSION_TARGET_MS = env_int("ADMISSION_TARGET_MS", 50)
ADMISSION_INTERVAL_MS = env_int("ADMISSION_INTERVAL_MS", 500)
# Trust a proxy's `X-Request-Start: t=<microseconds>` as the request's arrival (the proxy must set
# it on every request); gunicorn's own stamp is used when present.
ADMISSION_TRUST_REQUEST_START = env_bool("ADMISSION_TRUST_REQUEST_START", False)
# The web delivery's shed page: the branded waiting room.
ADMISSION_WEB_RESPONSE = "portal_web.waiting_room.busy_page"
# The family app's source (mobile/), copied into each branded app's bundle (branded_apps).
FAMILY_APP_SOURCE = env_str("FAMILY_APP_SOURCE", str(BASE_DIR / "mobile"))
# Origins of the family app's web build (mobile/, `expo export --platform web`) that may call the
# family API and the platform directory from the browser (comma-separated; empty: none).
APP_WEB_ORIGINS = env_list("APP_WEB_ORIGINS", "")

MIDDLEWARE = [
    "kernel.observability.RequestIdMiddleware",
    # Writes the API tokens' last uses this process kept, when due, at the end of any request,
    # in a process without a writer thread of its own (gunicorn's workers have one;
    # kernel/api/token_use.py).
    "kernel.api.token_use.TokenUseFlushMiddleware",
    "saas_platform.health.HealthCheckMiddleware",
    "saas_platform.allowed_hosts.AllowedHostsMiddleware",
    # NUL characters in the path, query string or form fields: 400 (saas_platform/input_guard.py).
    "saas_platform.input_guard.BadInputMiddleware",
    # gzip for text answers (pages, JSON) when the client accepts it. The middleware above
    # only adds headers or answers on its own (saas_platform/compression.py).
    "saas_platform.compression.TextGZipMiddleware",
    # CORS for the family app's web build, from APP_WEB_ORIGINS only (empty: none).
    "saas_platform.app_cors.AppWebCorsMiddleware",
    "tenants.routing.TenantRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and request.csp_nonce; before XFrameOptionsMiddleware (it lifts
    # X-Frame-Options from the website-widget endpoints only).
    "kernel.csp.ContentSecurityPolicyMiddleware",
    # Sheds only when this process is over its queueing-delay target, per-tenant fair share,
    # before sessions, authentication and DRF (saas_platform.admission).
    "saas_platform.admission.AdmissionControlMiddleware",
    # A registration opening's status polls by signed ticket answered here, without sessions,
    # authentication or DRF (saas_platform.waiting_room_poll; docs/rush.md).
    "saas_platform.waiting_room_poll.WaitingRoomPollMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # JSON {"code": "not_found"} for any unmatched /api/ path, DEBUG or not.
    "saas_platform.views.ApiNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # 429 + Retry-After for sign-ins refused by the lockout (kernel.login_guard).
    "kernel.login_guard.LoginLockoutMiddleware",
    # Cache-Control: no-store on every family, staff and platform-admin API answer.
    "kernel.api.caching.ApiNoStoreMiddleware",
    # Who is acting (user, address, request id) for the audit log (portal.privacy) and for
    # the database's audit trail (pghistory context).
    "saas_platform.audit_context.AuditContextMiddleware",
    "saas_platform.audit_context.HistoryContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # "Opening soon" for a business not launched yet (its signed-in staff see the portal).
    "tenants.launch_gate.LaunchGateMiddleware",
    "saas_platform.portal_availability.PortalAvailabilityMiddleware",
]

ROOT_URLCONF = "saas_platform.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "saas_platform.urls_public"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The kernel's pages (the plain base, 404/500, the sign-in lock, the API docs); every
        # app's own templates come from its templates/ folder (APP_DIRS).
        "DIRS": [BASE_DIR / "kernel" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal_web.context.portal",
                "portal_console.context.console",
            ],
        },
    },
]

WSGI_APPLICATION = "saas_platform.wsgi.application"
ASGI_APPLICATION = "saas_platform.asgi.application"

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id first: new passwords and every older hash (PBKDF2, ...) are rehashed with it at the
# next successful sign-in. The test settings swap in MD5 for speed.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Password sign-in goes through the lockout first (kernel/login_guard.py); ModelBackend
# stays listed so sessions that name it keep working.
AUTHENTICATION_BACKENDS = [
    "kernel.login_guard.LockoutModelBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Wrong passwords for one account from one address before it is locked out from there, wrong
# passwords from one address (any accounts) before the address is, and how long a lock lasts.
# Counted per tenant (schema) in Redis.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 30)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
# Wrong passwords from one client address across every tenant and the platform host before that
# address may not sign in anywhere (the per-tenant counters above cannot see a spray spread over
# many businesses).
LOGIN_PLATFORM_FAILURE_LIMIT = env_int("LOGIN_PLATFORM_FAILURE_LIMIT", 100)
# Where the client's address comes from (kernel/client_address.py): how many reverse
# proxies we run in front of the app (Caddy or the ingress: 1), whose X-Forwarded-For entries are
# believed, and/or the networks those proxies' addresses are in. 0 and empty: REMOTE_ADDR only.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
TRUSTED_PROXY_CIDRS = env_list("TRUSTED_PROXY_CIDRS", "")
for _cidr in TRUSTED_PROXY_CIDRS:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXY_CIDRS: {_cidr!r} is not a network.") from None
# API bearer tokens (apps) expire after this many days without use; every use extends them
# (sliding). 0: they never expire.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30)
# A token's use (at most once a minute) is kept in the process and written with the others this
# many seconds later, in one statement per schema, by a thread of each gunicorn worker (else at
# the end of a request; kernel/api/token_use.py); 0: at once.
API_TOKEN_USE_FLUSH_SECONDS = env_int("API_TOKEN_USE_FLUSH_SECONDS", 5)
# What the bearer-token authentication reads with the token and its user in a business's schema,
# in the same statement (relations of the user): the guardian and family the family API's
# permission needs (portal_api.permissions.IsFamilyMember), so a family request authenticates
# and is authorised with one query.
API_TOKEN_USER_RELATED = ["guardian__family"]
# Owner set-password links and password-reset links stay valid this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
# The family portal's branded "your session expired" page instead of Django's bare 403.
CSRF_FAILURE_VIEW = "portal_web.views.csrf_failure"
USE_TZ = True

STATIC_URL = "/static/"
# The kernel's static files (the consoles' shared layout), as its templates are in TEMPLATES DIRS.
STATICFILES_DIRS = [BASE_DIR / "kernel" / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Uploaded brand images and build bundles: S3 (or any S3-compatible store) when a bucket is
# configured, local files otherwise.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
_default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        # Links go through /media/ on the business's host (kernel.storage).
        "BACKEND": "kernel.storage.MediaS3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None,
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }
# Where uploaded media is served from when it is not this host (the Content-Security-Policy's
# img-src allows it): the S3 custom domain or endpoint, or the bucket's own S3 host.
MEDIA_ORIGIN = ""
if AWS_STORAGE_BUCKET_NAME:
    _s3 = _default_storage["OPTIONS"]
    if _s3["custom_domain"]:
        MEDIA_ORIGIN = "https://" + _s3["custom_domain"].strip("/").split("/")[0]
    elif _s3["endpoint_url"]:
        MEDIA_ORIGIN = "/".join(_s3["endpoint_url"].split("/")[:3])
    else:
        MEDIA_ORIGIN = f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com"
# Seconds the presigned link that /media/<path> redirects to on S3 stays valid.
MEDIA_SIGNED_URL_TTL = env_int("MEDIA_SIGNED_URL_TTL", 3600)
# Private media (students' photos): how long a signed /media/private/<token> link opens.
PRIVATE_MEDIA_TTL = env_int("PRIVATE_MEDIA_TTL", 900)
# Seconds a branded-app bundle's download link (presigned on S3) stays valid.
BRANDED_APP_DOWNLOAD_TTL = env_int("BRANDED_APP_DOWNLOAD_TTL", 900)
# Tenant backups (tenants/backup.py) never go where media is: their own S3 bucket, private
# (no public ACL, presigned access only) and encrypted at rest by the server
# (TENANT_BACKUP_SSE: AES256, or aws:kms with TENANT_BACKUP_KMS_KEY_ID), on the same S3
# endpoint and credentials as media; without a bucket, a local folder outside MEDIA_ROOT that
# nothing serves (owner-only permissions).
TENANT_BACKUP_BUCKET = os.environ.get("TENANT_BACKUP_BUCKET", "")
TENANT_BACKUP_ROOT = Path(env_str("TENANT_BACKUP_ROOT", str(BASE_DIR / "backups"))).resolve()
TENANT_BACKUP_SSE = env_str("TENANT_BACKUP_SSE", "AES256")
TENANT_BACKUP_KMS_KEY_ID = os.environ.get("TENANT_BACKUP_KMS_KEY_ID", "")
if TENANT_BACKUP_SSE not in {"AES256", "aws:kms"}:
    raise ImproperlyConfigured("TENANT_BACKUP_SSE must be AES256 or aws:kms.")
if TENANT_BACKUP_BUCKET and TENANT_BACKUP_BUCKET == AWS_STORAGE_BUCKET_NAME:
    raise ImproperlyConfigured(
        "TENANT_BACKUP_BUCKET must not be the media bucket (AWS_STORAGE_BUCKET_NAME)."
    )
if TENANT_BACKUP_ROOT.is_relative_to(Path(MEDIA_ROOT).resolve()):
    raise ImproperlyConfigured("TENANT_BACKUP_ROOT must not be inside MEDIA_ROOT.")
if TENANT_BACKUP_BUCKET:
    _backup_object_parameters = {"ServerSideEncryption": TENANT_BACKUP_SSE}
    if TENANT_BACKUP_SSE == "aws:kms" and TENANT_BACKUP_KMS_KEY_ID:
        _backup_object_parameters["SSEKMSKeyId"] = TENANT_BACKUP_KMS_KEY_ID
    _backup_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": TENANT_BACKUP_BUCKET,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "custom_domain": None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "object_parameters": _backup_object_parameters,
        },
    }
else:
    _backup_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(TENANT_BACKUP_ROOT),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
STORAGES = {
    "default": _default_storage,
    "backups": _backup_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "sp"),
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# HTTPS and security headers (django.middleware.security). TLS ends at the proxy (Caddy, the
# ingress), which says so in X-Forwarded-Proto; it must overwrite any such header a client sent.
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env_str("SECURE_REFERRER_POLICY", "strict-origin-when-cross-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = False
EMAIL_TIMEOUT = 30
# One URL for all of the above (email_url_settings, through dj-email-url):
# smtp://user:pass@host:587/?tls=1, smtps://..., console://, locmem://, dummy://, file:///path.
# Wins over the EMAIL_* variables.
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL:
    globals().update(email_url_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"no-reply@{PLATFORM_DOMAIN}")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kernel.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON refused before it can become a 500: too deep, NUL, lone surrogates (parsers.py).
    "DEFAULT_PARSER_CLASSES": ["kernel.api.parsers.SafeJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "kernel.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "kernel.api.exception_handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "kernel.api.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {"platform-token": "20/minute", "portal-auth": "30/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Customer portal platform API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",
    # Choice sets several fields share, named once.
    "ENUM_NAME_OVERRIDES": {
        "AttendanceStatusEnum": "portal.attendance.models.Attendance.Status",
        "AnnouncementKindEnum": "portal.config.models.Announcement.Kind",
        "AnnouncementSeverityEnum": "portal.config.models.Announcement.Severity",
        "AnnouncementAudienceEnum": "portal.config.models.Announcement.Audience",
        # An offering's and each camp day's availability: one enum, one name.
        "AvailabilityOutputStatusEnum": [("OPEN", "OPEN"), ("FULL", "FULL")],
    },
    # Every operation also documents its 4XX answers: the one error shape (tests/fuzz).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kernel.api.openapi.error_responses",
    ],
}

CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# One worker pool per queue (infra/ runs one per queue), so slow work never delays the urgent:
# checkout (seat holds, waitlists, payments), notifications (email), builds (branded app builds)
# and default (provisioning, housekeeping).
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in ("default", "checkout", "notifications", "builds")
]
CELERY_TASK_ROUTES = {
    "enrollment.hold_expire": {"queue": "checkout"},
    "enrollment.expire_due": {"queue": "checkout"},
    "orders.*": {"queue": "checkout"},
    "enrollment.send_family_email": {"queue": "notifications"},
    "store.send_gift_certificate": {"queue": "notifications"},
    "accounts.send_guardian_invite": {"queue": "notifications"},
    "config.announcement_email_send": {"queue": "notifications"},
    "outbox.*": {"queue": "notifications"},
    "push.*": {"queue": "notifications"},
    "branded_apps.*": {"queue": "builds"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Transactional outbox (portal.outbox): seconds between relay runs that publish messages still
# pending (a broker that was down), and seconds after which a published message that never ran
# (lost by the broker) is published again; its delivery runs it at most once.
OUTBOX_RELAY_INTERVAL = env_int("OUTBOX_RELAY_INTERVAL", 30)
OUTBOX_REDELIVER_AFTER = env_int("OUTBOX_REDELIVER_AFTER", 600)
# Push notifications to the family app (portal.push): "expo" sends through Expo's push service,
# "fake" keeps them in memory (tests), "off" drops them. EXPO_ACCESS_TOKEN is needed only when
# the Expo project enforces push security; receipts are asked for PUSH_RECEIPT_DELAY s later.
PUSH_BACKEND = env_str("PUSH_BACKEND", "expo")
EXPO_PUSH_URL = env_str("EXPO_PUSH_URL", "https://exp.host/--/api/v2")
EXPO_ACCESS_TOKEN = env_str("EXPO_ACCESS_TOKEN", "")
PUSH_RECEIPT_DELAY = env_int("PUSH_RECEIPT_DELAY", 900)
CELERY_BEAT_SCHEDULER = "saas_platform.celery_beat:PlatformScheduler"
CELERY_BEAT_SCHEDULE = {
    # Per tenant (no "tenant_schemas": every active portal): lapse holds, offers and unpaid
    # orders a lost expiry task missed, finish drops, warn of carts about to expire.
    "enrollment-expire-due": {"task": "enrollment.expire_due", "schedule": 60.0},
    # Per tenant: lapse unpaid orders past their deadline, releasing what they tendered.
    "orders-expire-due": {"task": "orders.expire_due", "schedule": 60.0},
    "requests-expire-makeup-tokens": {"task": "requests.expire_makeup_tokens", "schedule": 3600.0},
    "orders-autopay": {"task": "orders.autopay_run", "schedule": 3600.0},
    # Per tenant: publish outbox messages (emails) a down broker kept back (portal.outbox).
    "outbox-relay": {"task": "outbox.relay", "schedule": float(OUTBOX_RELAY_INTERVAL)},
    # Per tenant: Stripe events that arrived before their order committed, and refunds left
    # half-way (portal.orders.events, portal.billing).
    "orders-stripe-events-retry": {"task": "orders.stripe_events_retry", "schedule": 60.0},
    # Per tenant: push notifications a lost task left unsent, Expo's receipts (tokens of removed
    # apps are forgotten) and announcements that came into effect (portal.push).
    "push-relay": {"task": "push.relay", "schedule": 60.0},
    "push-receipts": {"task": "push.receipts", "schedule": 900.0},
    "push-announcements": {"task": "push.announcements", "schedule": 60.0},
    # Finishes provisioning that a crashed worker left half-way (provisioning is resumable).
    "tenants-resume-stalled-provisioning": {
        "task": "tenants.tasks.tenant_resume_stalled_task",
        "schedule": 300.0,
        "tenant_schemas": ["public"],
    },
    "tenants-schema-pool-fill": {
        "task": "tenants.tasks.tenant_schema_pool_fill_task",
        "schedule": 600.0,
        "tenant_schemas": ["public"],
    },
    # Custom domains added in the last week whose DNS TXT record has appeared since.
    "tenants-domain-recheck": {
        "task": "tenants.tasks.domain_recheck_pending_task",
        "schedule": 900.0,
        "tenant_schemas": ["public"],
    },
    # Verified custom domains, each once a day: one whose DNS proof vanished stops routing and
    # stops being primary (tenants/domains.py).
    "tenants-domain-recheck-verified": {
        "task": "tenants.tasks.domain_recheck_verified_task",
        "schedule": 3600.0,
        "tenant_schemas": ["public"],
    },
}

# Stripe (Connect, direct charges on each business's own account). Without a secret key the
# portal takes no online payments and says so (code payments_not_configured).
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # e.g. a local localstripe server
# The web portal's Payment Element: the platform's publishable key and where Stripe.js is loaded
# from (localstripe serves a stand-in at <its address>/js.stripe.com/v3/).
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_JS_URL = env_str("STRIPE_JS_URL", "https://js.stripe.com/v3/")
STRIPE_API_VERSION = env_str("STRIPE_API_VERSION", "2025-09-30.clover")
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
# The platform's fee on each payment, in basis points of the amount (0: none).
STRIPE_APPLICATION_FEE_BPS = env_int("STRIPE_APPLICATION_FEE_BPS", 0)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# "json": one JSON object per line (for log collectors); "plain": for people. Both carry the
# request id and the tenant's schema (kernel/observability.py); JSON lines also carry the
# client's address (kernel/client_address.py).
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "kernel.observability.ContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(tenant)s %(request_id)s] %(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": (
                "%(asctime)s %(levelname)s %(name)s %(message)s %(tenant)s %(request_id)s "
                "%(client)s"
            ),
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Errors to Sentry, only when a DSN is set (kernel/observability.py tags each event with
# the tenant and the request id).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "")
SENTRY_RELEASE = os.environ.get("SENTRY_RELEASE", "")
try:
    SENTRY_TRACES_SAMPLE_RATE = float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE") or 0)
except ValueError:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be a number from 0 to 1.") from None
if not 0 <= SENTRY_TRACES_SAMPLE_RATE <= 1:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be a number from 0 to 1.")
if SENTRY_DSN:
    from kernel.observability import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )
