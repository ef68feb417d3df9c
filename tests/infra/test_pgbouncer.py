"""infra/pgbouncer/pgbouncer.ini and the Django settings transaction pooling needs
(docs/operations.md, "PgBouncer"): the values that matter are parsed from the file, the settings
are built in a fresh interpreter with DATABASE_PGBOUNCER set, and the connect-time check is run
against this machine's PostgreSQL."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from kernel import pgbouncer
from tests.infra.project import INFRA, ROOT, env_example_vars, readme_config_vars

INI = INFRA / "pgbouncer" / "pgbouncer.ini"


def ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(comment_prefixes=(";", "#"), inline_comment_prefixes=None)
    parser.read_string(INI.read_text())
    return parser


def test_transaction_pooling_with_search_path_tracked():
    conf = ini()["pgbouncer"]
    assert conf["pool_mode"] == "transaction"
    # The tenant's schema follows the client onto whichever server connection it is lent.
    tracked = {p.strip().lower() for p in conf["track_extra_parameters"].split(",")}
    assert "search_path" in tracked
    # Django prepares nothing behind it; PgBouncer tracks no prepared statements.
    assert conf["max_prepared_statements"] == "0"
    # A burst waits for a server connection rather than failing at once.
    assert int(conf["query_wait_timeout"]) >= 5
    # Clients far outnumber server connections, which stay under max_connections.
    assert int(conf["max_client_conn"]) > 10 * int(conf["default_pool_size"])
    assert int(conf["max_db_connections"]) >= int(conf["default_pool_size"]) + int(
        conf["reserve_pool_size"]
    )
    assert conf["auth_type"] == "scram-sha-256"
    # `options` would carry a search_path PgBouncer cannot pass on; it must not be dropped silently.
    assert "options" not in conf.get("ignore_startup_parameters", "")


def test_the_database_entry_names_the_platform_database():
    databases = ini()["databases"]
    assert "dbname=platform" in databases["platform"]


def _settings_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "d = settings.DATABASES['default']; "
        "print(json.dumps({'cursors': d.get('DISABLE_SERVER_SIDE_CURSORS', False), "
        "'prepare': d['OPTIONS'].get('prepare_threshold', 'default'), "
        "'pool': 'pool' in d['OPTIONS'], 'mode': settings.DATABASE_PGBOUNCER, "
        "'reads': settings.DATABASE_PREPARED_READS}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "saas_platform.settings",
            "SECRET_KEY": "pgbouncer-test",
            "DEBUG": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("mode", ["session", "transaction"])
def test_behind_pgbouncer_no_server_side_cursors_no_prepared_statements_no_pool(mode):
    out = _settings_with({"DATABASE_PGBOUNCER": mode, "DATABASE_POOL_MAX_SIZE": "0"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "cursors": True,
        "prepare": None,
        "pool": False,
        "mode": mode,
        "reads": False,
    }


def test_without_pgbouncer_the_defaults_stay():
    out = _settings_with({"DATABASE_PGBOUNCER": "", "DATABASE_POOL_MAX_SIZE": "4"})
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures == {
        "cursors": False,
        "prepare": "default",
        "pool": True,
        "mode": "",
        "reads": True,
    }


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DATABASE_PGBOUNCER": "transaction", "DATABASE_POOL_MAX_SIZE": "4"}, "must be 0"),
        ({"DATABASE_PGBOUNCER": "statement"}, "must be empty, session or transaction"),
    ],
)
def test_settings_refuse_a_pool_behind_pgbouncer_and_unknown_modes(env, message):
    out = _settings_with(env)
    assert out.returncode != 0
    assert message in out.stderr


def test_env_var_is_documented():
    assert "DATABASE_PGBOUNCER" in readme_config_vars()
    assert "DATABASE_PGBOUNCER" in env_example_vars()


def _raw_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(**params)


@pytest.mark.django_db
def test_transaction_mode_refuses_a_server_that_does_not_report_search_path():
    raw = _raw_connection()
    reported = raw.info.parameter_status("search_path")
    if reported is not None:  # PostgreSQL 18+: the check must let it through
        with override_settings(DATABASE_PGBOUNCER="transaction"):
            pgbouncer.check_search_path_reported(None, SimpleNamespace(connection=raw))
        assert not raw.closed
        raw.close()
        return
    with (
        override_settings(DATABASE_PGBOUNCER="transaction"),
        pytest.raises(pgbouncer.SearchPathNotReported, match="PostgreSQL 18"),
    ):
        pgbouncer.check_search_path_reported(None, SimpleNamespace(connection=raw))
    assert raw.closed


@pytest.mark.django_db
def test_session_mode_and_no_pgbouncer_skip_the_check():
    raw = _raw_connection()
    try:
        for mode in ("", "session"):
            with override_settings(DATABASE_PGBOUNCER=mode):
                pgbouncer.check_search_path_reported(None, SimpleNamespace(connection=raw))
        assert not raw.closed
    finally:
        raw.close()


def test_a_reporting_server_passes():
    class Info:
        def parameter_status(self, name: str) -> bytes | None:
            return b'"tenant_a", public' if name == "search_path" else None

    raw = SimpleNamespace(info=Info(), closed=False, close=lambda: None)
    with override_settings(DATABASE_PGBOUNCER="transaction"):
        pgbouncer.check_search_path_reported(None, SimpleNamespace(connection=raw))


def test_the_check_is_connected():
    from django.db.backends.signals import connection_created

    receivers = [r[1]() if callable(r[1]) else r[1] for r in connection_created.receivers]
    assert pgbouncer.check_search_path_reported in receivers
    assert settings.DATABASE_PGBOUNCER == ""
