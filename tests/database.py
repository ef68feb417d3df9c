"""The test databases: one prepared database per migration state, cloned for each test process.

Preparing a database costs ~20 s (migrate the public schema, migrate and capture the tenant
template, fill the spare pool, provision the two session tenants); cloning it is a file copy
(``CREATE DATABASE ... TEMPLATE``) of about a second. So:

- ``test_<name>_prepared`` is built once and stamped (a comment on the database) with a
  fingerprint of everything that shapes it: every migration file, the provisioning code and
  hooks, this module, the function that fills it and the session tenants. With
  ``--reuse-db`` a stamp that matches is trusted and the database is not rebuilt; without it,
  each run rebuilds it once (the xdist workers of one run share it through the run's id).
- each test process (``test_<name>``, or ``test_<name>_gw0``... under pytest-xdist) gets a fresh
  clone of it at session start, so every run starts from the same state whatever an earlier,
  interrupted run left behind, and is dropped at the end.

Workers take turns through a PostgreSQL advisory lock held on the maintenance database while they
build or clone (a template database must have no other connection while it is copied).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connection, connections
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
# Source files whose change must rebuild the prepared database, besides migrations and hooks.
_SHAPING_SOURCES = (
    "tenants/services.py",
    "tenants/schema_clone.py",
    "tenants/schema_pool.py",
    "kernel/users/services.py",
    "tests/database.py",
)
# This process's databases, once set up.
current: TestDatabases | None = None
# One id for every process of one pytest run (pytest-xdist sets it for its workers).
_RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex


@dataclass(frozen=True)
class TestDatabases:
    prepared: str  # built once per fingerprint
    own: str  # this process's clone
    fingerprint: str = ""

    @classmethod
    def for_connection(cls, fingerprint: str = "") -> TestDatabases:
        """Names from the connection's settings, before Django switches it to the test name."""
        settings_dict = connection.settings_dict
        own = settings_dict["TEST"].get("NAME") or f"test_{settings_dict['NAME']}"
        return cls(f"test_{settings_dict['NAME']}_prepared", own, fingerprint)


def shaping_files() -> set[Path]:
    """Every migration module Django loads (ours and the libraries'), the provisioning hooks'
    modules and the code that prepares the database."""
    from django.db.migrations.loader import MigrationLoader

    from tenants.hooks import provisioning_hooks

    loader = MigrationLoader(None, ignore_no_migrations=True)
    files = {
        Path(sys.modules[migration.__module__].__file__)
        for migration in loader.disk_migrations.values()
    }
    files |= {Path(inspect.getsourcefile(hook)) for _, hook in provisioning_hooks()}
    return files | {ROOT / source for source in _SHAPING_SOURCES}


def fingerprint(extra: str = "") -> str:
    """What the prepared database was built from (``shaping_files`` and ``extra``)."""
    digest = hashlib.sha256(extra.encode())
    for path in sorted(shaping_files()):
        label = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        digest.update(str(label).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def _maintenance():
    """An autocommit connection to the server's ``postgres`` database."""
    db = connection.settings_dict
    params = {"dbname": "postgres", "autocommit": True, "connect_timeout": 10}
    for key, name in (
        ("HOST", "host"),
        ("PORT", "port"),
        ("USER", "user"),
        ("PASSWORD", "password"),
    ):
        if db.get(key):
            params[name] = db[key]
    return psycopg.connect(**params)


def _stamp(conn, name: str) -> str | None:
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
    ).fetchone()
    return None if row is None else (row[0] or "")


def _drop(conn, name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _close_django_connections() -> None:
    for conn in connections.all():
        conn.close()


def _comment(conn, name: str, text: str) -> None:
    conn.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(text))
    )


def set_up(*, reuse: bool, verbosity: int, prepare, shape: str = "") -> TestDatabases:
    """Point Django at this process's test database: with ``--reuse-db``, the one a previous
    run finished cleanly with the same fingerprint; otherwise a fresh clone of the prepared
    database, building that first when it is missing or stale (or, without ``--reuse-db``, not
    built by this run). ``prepare()`` fills a newly migrated database (template, tenants); its
    source and ``shape`` (e.g. the session tenants' details) are part of the fingerprint."""
    from django.test.utils import setup_databases

    names = TestDatabases.for_connection(fingerprint(inspect.getsource(prepare) + shape))
    with _maintenance() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [names.prepared])
        try:
            stamp = (_stamp(conn, names.prepared) or "").split(" ")
            if not (stamp[0] == names.fingerprint and (reuse or stamp[-1] == _RUN_ID)):
                # Django creates and migrates it (dropping a stale one), then we fill it.
                connection.settings_dict["TEST"]["NAME"] = names.prepared
                setup_databases(
                    verbosity=verbosity,
                    interactive=False,
                    aliases={"default"},
                    serialized_aliases=set(),
                )
                prepare()
                _close_django_connections()
                _comment(conn, names.prepared, f"{names.fingerprint} {_RUN_ID}")
                _drop(conn, names.own)  # cloned from what was there before
            if not (reuse and _stamp(conn, names.own) == f"clean {names.fingerprint}"):
                _drop(conn, names.own)
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(names.own), sql.Identifier(names.prepared)
                    )
                )
            # Until the run ends cleanly: an interrupted run's database is cloned afresh.
            _comment(conn, names.own, f"in use {_RUN_ID}")
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [names.prepared])
    from django.conf import settings

    connection.settings_dict["NAME"] = connection.settings_dict["TEST"]["NAME"] = names.own
    settings.DATABASES["default"]["NAME"] = names.own
    global current
    current = names
    return names


def tear_down(names: TestDatabases, *, reuse: bool, last: bool) -> None:
    """Keep this process's database for the next run (``--reuse-db``) or drop it; the prepared
    database too when it is not to be reused and no other process of the run needs it
    (``last``)."""
    _close_django_connections()
    with _maintenance() as conn:
        if reuse:
            _comment(conn, names.own, f"clean {names.fingerprint}")
        else:
            _drop(conn, names.own)
    if last and not reuse:
        drop_prepared()


def drop_prepared() -> None:
    with _maintenance() as conn:
        _drop(conn, TestDatabases.for_connection().prepared)
