"""Fast tenant schemas: replay the DDL of a pre-migrated template schema.

Running every migration for each new tenant costs ~0.4 s and grows with the schema, and
django-tenants' clone_schema() PL/pgSQL function is no faster. Instead, ``template_refresh``
migrates one template schema, captures its DDL once with ``pg_dump --schema-only`` and stores
it; ``schema_clone`` then creates a tenant schema by executing that DDL (schema name swapped)
in one transaction, and copies the rows that migrations themselves wrote (django_migrations,
content types, permissions), so the clone is indistinguishable from a migrated schema. When
the code has migrations the template lacks, the template is refreshed first.

Why hand-written: django-tenants' own fast path (``TENANT_BASE_SCHEMA`` and its ``clone_schema``
PL/pgSQL function) measured ~0.43 s per schema against ~0.1 s here, and it fakes migrations
through the executor afterwards; here one statement batch makes a schema whose
``django_migrations`` is row for row the template's, which provisioning's spare pool and
``deploy_migrate`` rely on.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import logging
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import quote_schema_name, schema_exists

from kernel.errors import ApplicationError

from .models import SchemaTemplate

logger = logging.getLogger(__name__)

# Statements of pg_dump's preamble that set session state (search_path, timeouts) and psql
# meta-commands (\restrict, \connect); none belong inside our transaction.
_SKIP_LINE = re.compile(r"^(\\|SET |SELECT pg_catalog\.set_config\()")


@dataclass(frozen=True)
class CapturedTemplate:
    schema_name: str
    ddl: str
    fingerprint: str
    # (table, columns backed by a sequence) for each table that migrations filled with rows
    seeded_tables: tuple[tuple[str, tuple[str, ...]], ...]


# Bump when the stored capture's shape changes, so older captures count as stale.
CAPTURE_FORMAT = "2"

_lock = threading.Lock()
_cached: CapturedTemplate | None = None
_expected: tuple[frozenset[tuple[str, str]], str] | None = None


def expected_migrations() -> tuple[frozenset[tuple[str, str]], str]:
    """Every migration the code ships and its fingerprint (computed once per process)."""
    global _expected
    if _expected is None:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        nodes = frozenset(loader.graph.nodes)
        text = "\n".join([CAPTURE_FORMAT, *(f"{app}.{name}" for app, name in sorted(nodes))])
        digest = hashlib.sha256(text.encode()).hexdigest()
        _expected = (nodes, digest)
    return _expected


def _pg_dump_candidates() -> list[str]:
    """Every pg_dump this machine has, best first among equal versions: the one inside the
    pgserver wheel (the embedded dev server's own client), Debian's versioned binaries, then
    whatever ``pg_dump`` is on PATH."""
    found: list[str] = []
    try:
        import pgserver  # the embedded dev server ships its own client binaries
    except ImportError:
        pass
    else:
        found.append(str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"))
    found += sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True)
    on_path = shutil.which("pg_dump")
    if on_path:
        found.append(on_path)
    return [path for path in dict.fromkeys(found) if os.access(path, os.X_OK)]


_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


@functools.cache
def pg_dump_major(path: str) -> int | None:
    """The major version a pg_dump reports (``pg_dump --version``), None if it cannot say."""
    try:
        result = subprocess.run(  # noqa: S603
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(result.stdout)
    return int(match.group(1)) if result.returncode == 0 and match else None


def pg_dump_choose(server_major: int, configured: str, candidates: list[str]) -> str:
    """pg_dump refuses a server newer than itself ("server version mismatch"), so: the
    configured one if it is new enough, else the candidate of the server's own major version,
    else the oldest newer one; each candidate is asked its version."""
    if configured:
        major = pg_dump_major(configured)
        if major is None or major < server_major:
            raise ApplicationError(
                "pg_dump_too_old",
                f"PG_DUMP_PATH={configured} is pg_dump {major or 'of unknown version'}; the "
                f"server is PostgreSQL {server_major}. Point it at pg_dump {server_major} or "
                "newer, or unset it.",
                status=500,
            )
        return configured
    usable = [(major, path) for path in candidates if (major := pg_dump_major(path))]
    usable = [(major, path) for major, path in usable if major >= server_major]
    if not usable:
        seen = ", ".join(f"{path} ({pg_dump_major(path)})" for path in candidates) or "none"
        raise ApplicationError(
            "pg_dump_missing",
            f"No pg_dump of version {server_major} or newer was found (seen: {seen}); install "
            "the PostgreSQL client of the server's version or set PG_DUMP_PATH.",
            status=500,
        )
    best = min(major for major, _ in usable)
    return next(path for major, path in usable if major == best)


def pg_dump_executable() -> str:
    """The pg_dump to run against this connection's server (see ``pg_dump_choose``)."""
    return pg_dump_choose(
        connection.pg_version // 10000, settings.PG_DUMP_PATH, _pg_dump_candidates()
    )


def _dump_ddl(schema_name: str) -> str:
    db = connection.settings_dict
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    cmd = [
        pg_dump_executable(),
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        "--no-comments",
        "--lock-wait-timeout=30s",
        f"--schema={schema_name}",
        f"--dbname={db['NAME']}",
    ]
    if db.get("HOST"):
        cmd.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        cmd.append(f"--port={db['PORT']}")
    if db.get("USER"):
        cmd.append(f"--username={db['USER']}")
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)  # noqa: S603
    if result.returncode != 0:
        raise ApplicationError(
            "template_dump_failed", f"pg_dump failed: {result.stderr.strip()}", status=500
        )
    kept = [line for line in result.stdout.splitlines() if not _SKIP_LINE.match(line)]
    return "\n".join(kept)


def _seeded_tables(schema_name: str) -> list[list]:
    """Tables of the template that hold rows after migrating (migration records, content
    types, permissions, data migrations), each with its sequence-backed columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, array_remove(array_agg(a.attname ORDER BY a.attnum) FILTER ("
            "  WHERE a.attidentity <> '' "
            "  OR pg_get_serial_sequence(c.oid::regclass::text, a.attname) IS NOT NULL), NULL) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = %s AND c.relkind = 'r' GROUP BY c.relname ORDER BY c.relname",
            [schema_name],
        )
        tables = cursor.fetchall()
        seeded = []
        for table, columns in tables:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {quote_schema_name(schema_name)}."
                f"{connection.ops.quote_name(table)})"
            )
            if cursor.fetchone()[0]:
                seeded.append([table, list(columns or [])])
    return seeded


def template_refresh(*, stdout=None) -> CapturedTemplate:
    """Re-create the template schema by running every tenant migration, then capture its DDL.

    Run after deploying new migrations (``manage.py tenant_template_refresh``); provisioning
    also calls it when it finds the stored template older than the code."""
    global _cached
    if connection.in_atomic_block:
        # pg_dump reads through its own connection and would wait forever for our
        # uncommitted DDL.
        raise ApplicationError(
            "template_refresh_in_transaction",
            "The tenant template can only be refreshed outside a transaction; run "
            "`manage.py tenant_template_refresh`.",
            status=500,
        )
    schema = settings.TENANT_TEMPLATE_SCHEMA
    nodes, fingerprint = expected_migrations()
    with _lock:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(schema)} CASCADE")
            cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema)}")
        call_command(
            "migrate_schemas",
            schema_name=schema,
            tenant=True,
            interactive=False,
            verbosity=0,
            stdout=stdout,
        )
        connection.set_schema_to_public()
        ddl = _dump_ddl(schema)
        seeded = _seeded_tables(schema)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT app, name FROM {quote_schema_name(schema)}.django_migrations")
            applied = sorted({(app, name) for app, name in cursor.fetchall()})
        missing = nodes - set(applied)
        if missing:
            raise ApplicationError(
                "template_incomplete",
                f"The template schema lacks migrations after migrating: {sorted(missing)[:5]}",
                status=500,
            )
        SchemaTemplate.objects.update_or_create(
            schema_name=schema,
            defaults={
                "ddl": ddl,
                "migrations": [list(item) for item in applied],
                "fingerprint": fingerprint,
                "seeded_tables": seeded,
            },
        )
        _cached = _captured(schema, ddl, fingerprint, seeded)
        logger.info("tenant template %s refreshed (%d migrations)", schema, len(applied))
        return _cached


def _captured(schema: str, ddl: str, fingerprint: str, seeded: list) -> CapturedTemplate:
    return CapturedTemplate(
        schema, ddl, fingerprint, tuple((table, tuple(cols)) for table, cols in seeded)
    )


def template_current() -> CapturedTemplate:
    """The captured template matching the code, refreshing it when missing or stale."""
    global _cached
    schema = settings.TENANT_TEMPLATE_SCHEMA
    _, fingerprint = expected_migrations()
    if _cached is not None and _cached.fingerprint == fingerprint and _cached.schema_name == schema:
        return _cached
    stored = SchemaTemplate.objects.filter(schema_name=schema, fingerprint=fingerprint).first()
    if stored is not None and schema_exists(schema):
        _cached = _captured(schema, stored.ddl, fingerprint, stored.seeded_tables)
        return _cached
    logger.warning("tenant template %s is missing or older than the code; refreshing", schema)
    return template_refresh()


def template_forget() -> None:
    """Drop this process's copy of the template (tests, and after a refresh elsewhere)."""
    global _cached
    _cached = None


_IDENT_TEMPLATE = r"(?<![\w$\"]){name}(?![\w$])"


def render_ddl(template: CapturedTemplate, schema_name: str) -> str:
    pattern = re.compile(_IDENT_TEMPLATE.format(name=re.escape(template.schema_name)))
    quoted = quote_schema_name(schema_name)
    return pattern.sub(lambda _m: quoted, template.ddl)


def render_seed_sql(template: CapturedTemplate, schema_name: str) -> str:
    """Copy the rows migrations wrote, then move each sequence past the copied ids."""
    source = quote_schema_name(template.schema_name)
    target = quote_schema_name(schema_name)
    statements = []
    for table, columns in template.seeded_tables:
        quoted_table = connection.ops.quote_name(table)
        statements.append(
            f"INSERT INTO {target}.{quoted_table} SELECT * FROM {source}.{quoted_table};"
        )
        for column in columns:
            qc = connection.ops.quote_name(column)
            regclass = f"{target}.{quoted_table}".replace("'", "''")
            statements.append(
                f"SELECT setval(pg_get_serial_sequence('{regclass}', '{column}'), "
                f"COALESCE(MAX({qc}), 1), MAX({qc}) IS NOT NULL) FROM {target}.{quoted_table};"
            )
    return "\n".join(statements)


def schema_clone(*, schema_name: str) -> None:
    """Create ``schema_name`` as a copy of the template's structure, atomically, in one round
    trip. Either the whole schema exists afterwards or none of it does."""
    template = template_current()
    sql = render_ddl(template, schema_name) + "\n" + render_seed_sql(template, schema_name)
    with transaction.atomic(), connection.cursor() as cursor:
        if not connection.savepoint_ids:
            # Our own transaction: skip waiting for its WAL flush. A crash can then lose only
            # this schema, never a later commit (the next synchronous commit flushes the WAL
            # before it), and provisioning resumes by cloning again.
            cursor.execute("SET LOCAL synchronous_commit = off")
        # The DDL goes to the driver's own cursor, past Django's execute wrappers: an audit
        # context open around provisioning (a request or a task, portal.privacy.history) would
        # prepend a parameterised statement and turn the DDL's "%" signs into placeholders.
        with connection.wrap_database_errors:  # Django's error classes, as cursor.execute's
            cursor.cursor.execute(sql)


def schema_migrate(*, schema_name: str) -> None:
    """The slow path, kept for comparison in the benchmark: run every migration."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_schema_name(schema_name)}")
    call_command(
        "migrate_schemas", schema_name=schema_name, tenant=True, interactive=False, verbosity=0
    )
    connection.set_schema_to_public()


def schema_drop(*, schema_name: str) -> None:
    if schema_name in {settings.PUBLIC_SCHEMA_NAME, settings.TENANT_TEMPLATE_SCHEMA, ""}:
        raise ApplicationError("schema_protected", f"Refusing to drop “{schema_name}”.")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(schema_name)} CASCADE")
