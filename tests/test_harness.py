"""The test harness itself: each process runs on a copy of the prepared database
(tests/database.py), and --reuse-db keeps both across runs until the migrations change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from tests import database

ROOT = Path(__file__).resolve().parent.parent


def _stamps(conn, prefix: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname LIKE %s",
        [prefix + "%"],
    ).fetchall()
    return {name: stamp or "" for name, stamp in rows}


@pytest.mark.django_db
def test_this_process_runs_on_a_copy_of_the_prepared_database():
    own = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0] == own
    prepared = own.removesuffix("_" + os.environ.get("PYTEST_XDIST_WORKER", "")) + "_prepared"
    with database._maintenance() as conn:
        stamps = _stamps(conn, prepared)
        own_stamp = _stamps(conn, own)[own]
    assert database.current.own == own and database.current.prepared == prepared
    assert stamps[prepared].split(" ")[0] == database.current.fingerprint
    assert own_stamp.startswith("in use ")  # "clean <fingerprint>" once the run ends


def test_the_fingerprint_covers_every_migration_and_changes_with_one(monkeypatch):
    files = database.shaping_files()
    ours = {
        path
        for package in ("saas_platform", "tenants", "portal", "portal_api", "portal_web",
                        "theming", "branded_apps")
        for path in (ROOT / package).rglob("migrations/0*.py")
    }  # fmt: skip
    assert ours and ours <= files
    assert ROOT / "tenants" / "schema_clone.py" in files
    before = database.fingerprint()
    changed = sorted(ours)[0]
    real = Path.read_bytes
    monkeypatch.setattr(
        Path, "read_bytes", lambda self: real(self) + b"#" if self == changed else real(self)
    )
    assert database.fingerprint() != before


@pytest.mark.integration
def test_reuse_db_builds_once_and_keeps_what_a_clean_run_left():
    """Two pytest runs with --reuse-db on a database name of their own: the first builds the
    prepared database and leaves its copy stamped clean; the second rebuilds nothing."""
    name = f"harness_probe_{os.getpid()}"
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env.update(DATABASE_URL=url)
    env.pop("SAAS_PLATFORM_TEST_ENV", None)
    node = f"{__file__}::{test_this_process_runs_on_a_copy_of_the_prepared_database.__name__}"

    def run() -> None:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "--reuse-db", node],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]

    try:
        run()
        with database._maintenance() as conn:
            first = _stamps(conn, f"test_{name}")
        assert set(first) == {f"test_{name}", f"test_{name}_prepared"}
        assert first[f"test_{name}"].startswith("clean ")
        run()
        with database._maintenance() as conn:
            assert _stamps(conn, f"test_{name}") == first  # neither rebuilt nor copied again
    finally:
        with database._maintenance() as conn:
            for db in (f"test_{name}", f"test_{name}_prepared"):
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def test_the_s3_server_starts_again_on_fresh_ports_when_one_was_taken(monkeypatch):
    """Ports are free when picked, not reserved: a parallel test worker's own server once took
    one before weed bound it, and seven S3 tests errored. The server now starts again on fresh
    ports; here the first ports include one this test holds."""
    import socket

    from tests import s3

    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen(1)
    taken = held.getsockname()[1]
    real = s3._free_ports
    picks: list[list[int]] = []

    def first_with_a_taken_port(count: int) -> list[int]:
        ports = real(count)
        if not picks:
            ports[3] = taken  # the S3 API's port
        picks.append(ports)
        return ports

    monkeypatch.setattr(s3, "_free_ports", first_with_a_taken_port)
    try:
        server = s3.s3_server_start()
    finally:
        held.close()
    try:
        assert len(picks) == 2  # started again, once
        assert server.endpoint == f"http://127.0.0.1:{picks[1][3]}"
        server.client().list_buckets()
    finally:
        server.stop()
