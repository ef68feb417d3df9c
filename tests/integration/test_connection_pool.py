"""Connections that cannot run out (issue 21): a throwaway PostgreSQL cluster with a small
``max_connections`` (started here with initdb/pg_ctl in a temporary folder; the shared server is
never touched), the production gunicorn config in front of it, and three times
``max_connections`` clients hitting an endpoint that queries the database at once.

With the per-process psycopg pool (``DATABASE_POOL_MAX_SIZE``) every answer is 200. The same
burst without the pool (a persistent connection per thread, the old setting) runs PostgreSQL out
of connections and answers 503: the test would see the failure it guards against.

Both runs let every thread compute at once (``GUNICORN_RUNNING=0``). With the default two running
places, the two threads that just finished are the ones that take the next requests, so a
worker may open only two connections in the whole burst and the run without the pool would pass
or fail by chance; every thread running is also the harder case for the pool."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
MAX_CONNECTIONS = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres():
    """initdb and postgres refuse to run as root: run them as the postgres system user."""
    if os.geteuid() != 0:
        return None
    user = pwd.getpwnam("postgres")

    def demote():
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return demote


@pytest.fixture(scope="module")
def small_postgres():
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"{PG_BIN}/initdb is missing (Debian's postgresql-15 provides it)")
    folder = Path(tempfile.mkdtemp(prefix="pool-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()
    demote = _as_postgres()
    subprocess.run(
        [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        preexec_fn=demote,
    )
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
        f"-c max_connections={MAX_CONNECTIONS} -c superuser_reserved_connections=0 "
        "-c shared_buffers=16MB -c fsync=off"
    )
    subprocess.run(
        [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(folder / "log"),
         "start"],
        check=True,
        capture_output=True,
        preexec_fn=demote,
    )  # fmt: skip
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            preexec_fn=demote,
        )
        shutil.rmtree(folder, ignore_errors=True)


def _serve(database_url: str, extra_env: dict) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saas_platform.settings",
        "SECRET_KEY": "pool-test-secret",
        "DATABASE_URL": database_url,
        "PLATFORM_DOMAIN": "pool.test",
        "ALLOWED_HOSTS": "*",
        "SECURE_SSL_REDIRECT": "0",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "16",
        "GUNICORN_MAX_REQUESTS": "0",
        "GUNICORN_RUNNING": "0",  # every thread computes at once: see the module docstring
        **extra_env,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "saas_platform/gunicorn_conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    pytest.fail("gunicorn did not start")


def _burst(port: int, clients: int, seconds: float) -> dict[int, int]:
    """``clients`` threads, each on its own keep-alive connection, GET /healthz for
    ``seconds``; the count of each status."""

    def one_client(_):
        import http.client

        statuses: dict[int, int] = {}
        end = time.monotonic() + seconds
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < end:
            try:
                conn.request("GET", "/healthz", headers={"Host": "pool.test"})
                response = conn.getresponse()
                response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException):
                statuses[0] = statuses.get(0, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        return statuses

    total: dict[int, int] = {}
    with ThreadPoolExecutor(clients) as pool:
        for statuses in pool.map(one_client, range(clients)):
            for code, n in statuses.items():
                total[code] = total.get(code, 0) + n
    return total


def _run(database_url: str, env: dict) -> dict[int, int]:
    server, port = _serve(database_url, env)
    try:
        return _burst(port, clients=3 * MAX_CONNECTIONS, seconds=4)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_three_times_max_connections_with_the_pool_get_no_5xx(small_postgres):
    statuses = _run(small_postgres, {"DATABASE_POOL_MAX_SIZE": "4", "DATABASE_POOL_MIN_SIZE": "1"})
    assert sum(statuses.values()) > 100, statuses
    assert set(statuses) == {200}, statuses  # 2 workers x 4 pooled connections <= 10


def test_without_the_pool_the_same_burst_runs_postgres_out(small_postgres):
    statuses = _run(small_postgres, {"DATABASE_POOL_MAX_SIZE": "0", "DATABASE_CONN_MAX_AGE": "60"})
    assert statuses.get(503, 0) > 0, statuses  # "too many clients": what the pool prevents
