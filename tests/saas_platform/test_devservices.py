"""`make demo` and `make test` find PostgreSQL and Redis, or start embedded ones."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from saas_platform import devservices


def _devservices(command: str, devdata, **env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    full.update(DEVSERVICES_DIR=str(devdata), DEVSERVICES_FORCE_EMBEDDED="1", **env)
    return subprocess.run(
        [sys.executable, "-m", "saas_platform.devservices", command],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
        check=False,
    )


@pytest.fixture
def embedded(tmp_path):
    """Embedded PostgreSQL and Redis started in a fresh folder, stopped afterwards."""
    devdata = tmp_path / "devdata"
    result = _devservices("env", devdata)
    assert result.returncode == 0, result.stderr
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in result.stdout.strip().splitlines()
    )
    yield {k: shlex.split(v)[0] for k, v in exports.items()}
    _devservices("stop", devdata)


def test_urls_from_the_environment_win(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.internal:5433/x")
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6380/2")
    assert devservices.database_url() == "postgres://u@db.internal:5433/x"
    assert devservices.redis_url() == "redis://cache.internal:6380/2"


def test_local_servers_are_found(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(devservices, "_port_open", lambda port, host="127.0.0.1": True)
    assert devservices.database_url() == "postgres://postgres@127.0.0.1:5432/saas_platform"
    assert devservices.redis_url() == "redis://127.0.0.1:6379/0"


def test_ensure_database_creates_a_missing_database():
    """On the server the suite runs on, whichever it is (a local one, or the embedded one
    behind a socket directory on a laptop with none)."""
    import dj_database_url

    url = urlsplit(os.environ["DATABASE_URL"])
    name = f"devservices_probe_{os.getpid()}"
    probe = url._replace(path=f"/{name}", query="").geturl()
    cfg = dj_database_url.parse(probe)
    admin = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"] or "postgres"}
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    try:
        devservices.ensure_database(probe)
        devservices.ensure_database(probe)  # twice is fine
        with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
            exists = "SELECT 1 FROM pg_database WHERE datname = %s"
            assert conn.execute(exists, [name]).fetchone()
    finally:
        with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_embedded_servers_start_when_none_is_reachable(embedded, tmp_path):
    import dj_database_url

    assert embedded["REDIS_URL"] == f"unix://{tmp_path / 'devdata' / 'redis.sock'}?db=0"
    assert redis.Redis.from_url(embedded["REDIS_URL"]).ping()
    cfg = dj_database_url.parse(embedded["DATABASE_URL"])
    assert cfg["HOST"] == str(tmp_path / "devdata" / "pg")
    with psycopg.connect(
        host=cfg["HOST"], port=cfg["PORT"], user="postgres", dbname=cfg["NAME"]
    ) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    # Asking again finds the running servers rather than starting new ones.
    again = _devservices("env", tmp_path / "devdata")
    assert again.returncode == 0
    assert "starting an embedded" not in again.stderr


def test_env_command_prints_exports():
    result = subprocess.run(
        [sys.executable, "-m", "saas_platform.devservices", "env"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.strip().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["export DATABASE_URL", "export REDIS_URL"]


def test_unknown_command_prints_usage():
    result = subprocess.run(
        [sys.executable, "-m", "saas_platform.devservices", "dance"], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "usage: python -m saas_platform.devservices {env|demo|stop|mobile-web}" in result.stderr


def test_the_demo_webhook_secret_is_made_per_install_and_kept(tmp_path):
    first = devservices.demo_webhook_secret(tmp_path / "one")
    assert first.startswith("whsec_") and len(first) > 40
    assert devservices.demo_webhook_secret(tmp_path / "one") == first  # kept across runs
    kept = tmp_path / "one" / "stripe-webhook-secret"
    assert kept.read_text().strip() == first
    assert kept.stat().st_mode & 0o777 == 0o600
    assert devservices.demo_webhook_secret(tmp_path / "two") != first  # another install
    # No signing secret is written in the source any more.
    source = Path(devservices.__file__).read_text()
    assert "whsec_demo" not in source
    assert not re.search(r"STRIPE_WEBHOOK_SECRET\s*=\s*[\"']", source)
