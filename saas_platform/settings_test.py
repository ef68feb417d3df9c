"""Settings for the test suite: the real PostgreSQL and Redis, isolated cache keys, fast
password hashing, Celery eager unless a test starts a real worker."""

import os
import re
import tempfile
from pathlib import Path

# The suite ignores the developer's shell. Every variable the project's settings, gunicorn
# config or dev tooling read, and every variable of the families that libraries read on their
# own (boto3's AWS_*, stripe, email, Sentry, Celery), is removed from the environment before the
# settings below read it, so `STRIPE_API_BASE=...` or `SENTRY_DSN=...` in a shell changes no
# test. Only where the services are is kept: DATABASE_URL and REDIS_URL (their test database and
# key prefix are the suite's own) and PG_DUMP_PATH (which client binary to run). Subprocesses
# the tests start inherit the scrubbed environment plus what the test adds on purpose;
# HERMETIC_MARK tells them not to scrub again.
HERMETIC_KEEP = ("DATABASE_URL", "REDIS_URL", "PG_DUMP_PATH")
HERMETIC_PREFIXES = (
    "STRIPE_", "AWS_", "EMAIL_", "SENTRY_", "CELERY_", "PLATFORM_", "SECURE_", "SESSION_",
    "LOG_", "LOGIN_", "TENANT_", "OUTBOX_", "GUNICORN_", "DEVSERVICES_", "BENCH_", "DATABASE_",
)  # fmt: skip
HERMETIC_MARK = "SAAS_PLATFORM_TEST_ENV"
_READS = re.compile(r"(?:env_\w+|_int|os\.environ\.get|os\.getenv)\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']")
_SOURCES = ("settings.py", "gunicorn_conf.py", "devservices.py")


def hermetic_names(environ) -> list[str]:
    """The variables of ``environ`` the test suite removes."""
    here = Path(__file__).resolve().parent
    read = {name for source in _SOURCES for name in _READS.findall((here / source).read_text())}
    return sorted(
        name
        for name in environ
        if name not in HERMETIC_KEEP and (name in read or name.startswith(HERMETIC_PREFIXES))
    )


if os.environ.get(HERMETIC_MARK) != "1":
    for _name in hermetic_names(os.environ):
        del os.environ[_name]
    os.environ["SECRET_KEY"] = "test-only-secret-key"  # noqa: S105
    os.environ["PLATFORM_DOMAIN"] = "testserver.local"
    os.environ["CACHE_KEY_PREFIX"] = f"test-{os.getpid()}"
    os.environ["TENANT_BACKUP_ROOT"] = str(
        Path(tempfile.gettempdir()) / f"saas-platform-test-backups-{os.getpid()}"
    )
    os.environ[HERMETIC_MARK] = "1"
# pytest-xdist workers inherit the controller's environment: each gets keys of its own, as it
# gets a database of its own (test_<name>_gw0, ...).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and not os.environ["CACHE_KEY_PREFIX"].endswith(f"-{_worker}"):
    os.environ["CACHE_KEY_PREFIX"] += f"-{_worker}"
    # Backups too: a test's clean-up empties the backup folder, never another worker's.
    os.environ["TENANT_BACKUP_ROOT"] += f"-{_worker}"

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
# Push notifications go to the in-memory fake (portal.push.gateway.fake_push).
PUSH_BACKEND = "fake"
CELERY_TASK_EAGER_PROPAGATES = True
SESSION_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
CSRF_COOKIE_SECURE = False
PLATFORM_URL_SCHEME = "http"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Worker threads in integration tests must not keep connections open past a task, or the test
# database cannot be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# One spare schema: provisioning tests take the pool path; test_schema_pool covers the rest.
TENANT_SCHEMA_POOL_SIZE = 1
# Sign-in throttles are tested on their own; the suite signs in far more often than a person.
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "platform-token": "10000/minute",
    "portal-auth": "10000/minute",
}
# Sign-in lockout likewise (tests/security sets small limits where it tests the lockout).
LOGIN_FAILURE_LIMIT = 10_000
LOGIN_IP_FAILURE_LIMIT = 10_000
LOGIN_PLATFORM_FAILURE_LIMIT = 10_000
# Uploaded files from tests go to a throwaway folder, not the checkout's media/.
MEDIA_ROOT = Path(tempfile.gettempdir()) / f"saas-platform-test-media-{os.getpid()}"
