"""Settings come from the environment and fail with a clear message when misconfigured."""

import os
import subprocess
import sys

import pytest

from saas_platform.settings import env_bool, env_int, env_list


def _import_settings(**env):
    full = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    full.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import saas_platform.settings as s; print(s.PLATFORM_DOMAIN, s.DEBUG)",
        ],
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )


def test_missing_secret_key_is_a_clear_error_outside_debug():
    result = _import_settings()
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_allows_the_dev_key_and_domain_is_normalised():
    result = _import_settings(DEBUG="1", PLATFORM_DOMAIN="Example.COM.")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "example.com True"


def test_malformed_boolean_names_the_variable():
    result = _import_settings(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_env_helpers(monkeypatch):
    monkeypatch.setenv("X_BOOL", "Yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", " a, b ,,c ")
    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 1) == 42
    assert env_list("X_LIST", "") == ["a", "b", "c"]
    monkeypatch.setenv("X_INT", "forty")
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="X_INT must be an integer"):
        env_int("X_INT", 1)


def test_a_database_url_that_is_not_postgres_is_refused():
    result = _import_settings(DEBUG="1", DATABASE_URL="mysql://root@localhost/x")
    assert result.returncode != 0
    assert "DATABASE_URL must point to PostgreSQL" in result.stderr


def test_unreachable_servers_are_named_without_a_traceback():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing", REDIS_URL="redis://127.0.0.1:1/0"
    )
    result = subprocess.run(
        [sys.executable, "-m", "saas_platform.devservices", "env"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "cannot use PostgreSQL at postgres://postgres@127.0.0.1:1/nothing" in result.stderr
    assert "Traceback" not in result.stderr
