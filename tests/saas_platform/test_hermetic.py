"""The suite ignores the developer's shell: Stripe, AWS, email, Sentry and every other variable
the settings read are cleared before the test settings load (saas_platform/settings_test.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from saas_platform.settings_test import HERMETIC_MARK, hermetic_names

ROOT = Path(__file__).resolve().parents[2]

# What a developer's shell might hold: `make demo`'s localstripe, real AWS and SMTP settings,
# Sentry, debug mode, another domain, another settings module.
SHELL = {
    "STRIPE_API_BASE": "http://127.0.0.1:8420",
    "STRIPE_SECRET_KEY": "sk_test_from_my_shell",
    "STRIPE_WEBHOOK_SECRET": "whsec_from_my_shell",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_from_my_shell",
    "STRIPE_APPLICATION_FEE_BPS": "250",
    "AWS_STORAGE_BUCKET_NAME": "my-bucket",
    "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:8333",
    "AWS_ACCESS_KEY_ID": "AKIAFROMMYSHELL",
    "EMAIL_URL": "smtp://me:secret@mail.example.com:587/?tls=1",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "SENTRY_DSN": "https://key@o0.ingest.sentry.io/1",
    "SENTRY_TRACES_SAMPLE_RATE": "1",
    "DEBUG": "1",
    "PLATFORM_DOMAIN": "portals.example.com",
    "ALLOWED_HOSTS": "portals.example.com",
    "CACHE_KEY_PREFIX": "sp",
    "LOG_FORMAT": "plain",
    "LOG_LEVEL": "DEBUG",
    "CELERY_TASK_ALWAYS_EAGER": "0",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6399/0",
    "LOGIN_FAILURE_LIMIT": "1",
    "TENANT_SCHEMA_POOL_SIZE": "5",
    "SECURE_SSL_REDIRECT": "1",
    "MEDIA_ROOT": "/srv/media",
}

_DUMP = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "saas_platform.settings_test"
import django
from django.conf import settings
django.setup()
import sentry_sdk
out = {}
for name in dir(settings):
    if name.isupper() and name not in {"MEDIA_ROOT", "CACHES"}:
        out[name] = repr(getattr(settings, name))
# Both carry the process id (keys and uploads of one run are its own).
out["CACHES"] = repr({**settings.CACHES["default"], "KEY_PREFIX": None})
out["MEDIA_ROOT"] = settings.MEDIA_ROOT.parent.as_posix()
out["sentry_active"] = sentry_sdk.get_client().is_active()
# Test-run folders (backups, ...) are named after the process: compare them without it.
out = {name: value.replace(f"-{os.getpid()}", "-<pid>") for name, value in out.items()
       if isinstance(value, str)} | {"sentry_active": out["sentry_active"]}
print(json.dumps(out))
"""


def _run(args: list[str], extra: dict[str, str]) -> subprocess.CompletedProcess:
    # As a shell would start it: not marked as already scrubbed.
    env = {k: v for k, v in os.environ.items() if k != HERMETIC_MARK}
    env.update(extra)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def _settings(extra: dict[str, str]) -> dict:
    result = _run(["-c", _DUMP], extra)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_the_shell_changes_no_setting():
    clean = _settings({})
    dirty = _settings(SHELL)
    assert clean["STRIPE_API_BASE"] == "''" and clean["sentry_active"] is False
    changed = {name: (clean.get(name), dirty.get(name)) for name in clean | dirty}
    assert {k: v for k, v in changed.items() if v[0] != v[1]} == {}


def test_every_variable_of_the_shell_is_cleared_and_the_services_are_kept():
    names = hermetic_names({**SHELL, "DATABASE_URL": "x", "REDIS_URL": "x", "HOME": "x"})
    assert names == sorted(SHELL)


def test_the_settings_in_force_are_the_test_settings():
    """Run by the test below in a pytest started from a polluted shell, and by the suite."""
    from django.conf import settings

    assert settings.SETTINGS_MODULE == "saas_platform.settings_test"
    assert settings.STRIPE_API_BASE == "" and settings.STRIPE_SECRET_KEY == ""
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    assert settings.PLATFORM_DOMAIN == "testserver.local" and settings.DEBUG is False


def test_another_settings_module_in_the_shell_is_ignored():
    """pytest runs the test settings even when the shell names the production ones."""
    shell = {**SHELL, "DJANGO_SETTINGS_MODULE": "saas_platform.settings", "SECRET_KEY": "k"}
    result = _run(["-m", "pytest", "-q", "-p", "no:xdist", f"{__file__}::{_IN_FORCE}"], shell)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


_IN_FORCE = test_the_settings_in_force_are_the_test_settings.__name__
