"""Settings for the test suite: the real PostgreSQL and Redis, isolated cache keys, fast
password hashing, Celery eager unless a test starts a real worker."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("PLATFORM_DOMAIN", "testserver.local")
os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{os.getpid()}")

from .settings import *  # noqa: F403

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
# Uploaded files from tests go to a throwaway folder, not the checkout's media/.
import tempfile  # noqa: E402

MEDIA_ROOT = Path(tempfile.gettempdir()) / f"saas-platform-test-media-{os.getpid()}"  # noqa: F405
