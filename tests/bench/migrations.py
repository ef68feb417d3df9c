"""Deploy-time migrations at scale (`manage.py deploy_migrate`), run by tests/bench/run.py or
alone: `python tests/bench/migrations.py`. Prints figures; asserts nothing about time.

Creates its own database (saas_platform_bench_migrations) with BENCH_MIGRATE_TENANTS tenant
schemas (default 500, cloned from the template), then times:

1. deploy_migrate with nothing to apply (public schema, template check, pool, every schema
   checked and skipped);
2. deploy_migrate after one new migration appears (a RunSQL migration written to a throwaway
   migrations package on the fly): template refreshed, spares replaced, every schema migrated
   by parallel workers;
3. side by side, the baseline it replaces: django-tenants' migrate per schema with nothing to
   apply, on BENCH_MIGRATE_BASELINE schemas (default 25), per tenant.

The anchor: public reports of 12 minutes for 900 tenants with nothing to apply (800 ms per
tenant), compared as a ratio per tenant.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas_platform.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("PLATFORM_DOMAIN", "bench.local")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
os.environ["CACHE_KEY_PREFIX"] = f"bench-migrations-{os.getpid()}"
os.environ.setdefault("LOG_LEVEL", "WARNING")

BENCH_DB = "saas_platform_bench_migrations"
ANCHOR_SECONDS, ANCHOR_TENANTS = 12 * 60, 900
PROBE_MODULE = "bench_probe_migrations"
PROBE_MIGRATION = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = []
    operations = [
        migrations.RunSQL(
            "CREATE TABLE bench_probe (id bigint PRIMARY KEY, note text NOT NULL DEFAULT '')",
            "DROP TABLE bench_probe",
        )
    ]
"""


def _database_url() -> str:
    from saas_platform import devservices

    base, _, _ = devservices.database_url().rpartition("/")
    return f"{base}/{BENCH_DB}"


def _admin_connect(url: str):
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"], "dbname": "postgres"}
    return psycopg.connect(**params, autocommit=True)


def _recreate_database(url: str) -> None:
    with _admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def _drop_database(url: str) -> None:
    with _admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def _progress(label: str, i: int, n: int) -> None:
    width = 30
    done = int(width * (i + 1) / n)
    sys.stderr.write(f"\r  {label:<34} [{'#' * done}{'.' * (width - done)}] {i + 1}/{n}")
    if i + 1 == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _clone(slug: str) -> str:
    from tenants.schema_clone import schema_clone

    schema_clone(schema_name=slug)
    return slug


def create_tenants(n: int, workers: int) -> None:
    """n active tenants whose schemas are clones of the template (as provisioning makes them),
    cloned by parallel processes."""
    import multiprocessing

    from django.db import connection, connections

    from tenants.deploy import _worker_init
    from tenants.models import Domain, Tenant
    from tenants.schema_clone import template_current

    template_current()
    slugs = [f"school-{i:04d}" for i in range(n)]
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_worker_init) as pool:
        for i, _ in enumerate(pool.imap_unordered(_clone, slugs, chunksize=4)):
            _progress(f"cloning {n} tenant schemas", i, n)
    connection.set_schema_to_public()
    tenants = Tenant.objects.bulk_create(
        Tenant(
            schema_name=slug,
            name=f"School {slug}",
            owner_email=f"owner@{slug}.test",
            contact_email=f"owner@{slug}.test",
            status=Tenant.Status.ACTIVE,
        )
        for slug in slugs
    )
    from django.utils import timezone

    now = timezone.now()
    Domain.objects.bulk_create(
        Domain(domain=t.platform_host, tenant=t, is_primary=True, verified_at=now) for t in tenants
    )


def timed_deploy(workers: int) -> tuple[float, object]:
    from tenants.deploy import deploy_migrate

    log = io.StringIO()
    started = time.perf_counter()
    report = deploy_migrate(workers=workers, new_run=True, log=lambda m: log.write(m + "\n"))
    elapsed = time.perf_counter() - started
    if report.failed:
        raise RuntimeError(f"deploy failed: {report.failed}")
    return elapsed, report


def baseline_migrate_schemas(schemas: list[str]) -> float:
    """django-tenants' migrate for each schema, nothing to apply: seconds per tenant."""
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    for i, schema in enumerate(schemas):
        call_command(
            "migrate_schemas",
            schema_name=schema,
            tenant=True,
            interactive=False,
            verbosity=0,
            stdout=io.StringIO(),
        )
        connection.set_schema_to_public()
        _progress("baseline: migrate_schemas, per schema", i, len(schemas))
    return (time.perf_counter() - started) / len(schemas)


def main() -> dict[str, float]:
    n = int(os.environ.get("BENCH_MIGRATE_TENANTS", "500"))
    baseline_n = int(os.environ.get("BENCH_MIGRATE_BASELINE", "25"))
    workers = int(os.environ.get("BENCH_MIGRATE_WORKERS", "0")) or min(4, os.cpu_count() or 1)
    url = _database_url()
    os.environ["DATABASE_URL"] = url
    _recreate_database(url)

    # A migrations package for portal_api (a tenant app with none of its own), empty for now:
    # phase 2 writes one migration into it, as a deploy with one new migration would ship.
    probe_root = Path(tempfile.mkdtemp(prefix="bench-migrations-"))
    (probe_root / PROBE_MODULE).mkdir()
    (probe_root / PROBE_MODULE / "__init__.py").write_text("")
    sys.path.insert(0, str(probe_root))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from tenants import schema_clone
    from tenants.schema_pool import pool_fill

    settings.MIGRATION_MODULES = {"portal_api": PROBE_MODULE}
    try:
        print("Setting up the migrations benchmark database…", file=sys.stderr)
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        schema_clone.template_refresh()
        pool_fill()
        create_tenants(n, workers)
        connection.set_schema_to_public()

        idle_seconds, idle = timed_deploy(workers)
        assert idle.current == n and idle.migrated == 0, idle

        schemas = [f"school-{i:04d}" for i in range(baseline_n)]
        baseline = baseline_migrate_schemas(schemas)

        (probe_root / PROBE_MODULE / "0001_bench_probe.py").write_text(PROBE_MIGRATION)
        importlib.invalidate_caches()
        schema_clone._expected = None
        # Side by side: django-tenants' migrate applying it, on the baseline schemas...
        baseline_apply = baseline_migrate_schemas(schemas)
        # ...and deploy_migrate on all the others (the baseline ones are current now).
        print("  one new migration: deploy_migrate…", file=sys.stderr)
        one_seconds, one = timed_deploy(workers)
        assert one.migrated == n - baseline_n and one.template_refreshed, one
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_tables WHERE tablename = 'bench_probe' "
                "AND schemaname LIKE 'school-%%'"
            )
            (with_table,) = cursor.fetchone()
        if with_table != n:
            raise RuntimeError(f"bench_probe exists in {with_table} of {n} schemas")
        connection.close()
    finally:
        _drop_database(url)

    anchor = ANCHOR_SECONDS / ANCHOR_TENANTS
    idle_per = idle_seconds / n
    one_per = one_seconds / one.migrated
    print()
    print(f"Deploy migrations ({n} tenant schemas, {workers} worker processes)")
    print(
        f"  nothing to apply: deploy_migrate          {idle_seconds:8.2f} s  "
        f"{idle_per * 1000:7.1f} ms/tenant  (schema check {idle.check_seconds:.2f} s)"
    )
    print(
        f"  baseline: migrate_schemas per schema      {baseline * n:8.2f} s  "
        f"{baseline * 1000:7.1f} ms/tenant  (measured on {baseline_n}, x{n})   "
        f"{baseline / idle_per:6.1f}x slower"
    )
    print(
        f"  anchor: 12 min for 900 tenants            {anchor * n:8.2f} s  "
        f"{anchor * 1000:7.1f} ms/tenant   {anchor / idle_per:6.1f}x slower"
    )
    print(
        f"  one new migration: deploy_migrate         {one_seconds:8.2f} s  "
        f"{one_per * 1000:7.1f} ms/tenant  ({one.migrated} schemas; template "
        f"{one.template_seconds:.2f} s, migrating {one.migrate_seconds:.2f} s = "
        f"{one.migrate_seconds / one.migrated * 1000:.0f} ms/schema)   "
        f"anchor/this {anchor / one_per:.2f}"
    )
    print(
        f"  baseline: migrate_schemas applying it     {baseline_apply * n:8.2f} s  "
        f"{baseline_apply * 1000:7.1f} ms/tenant  (measured on {baseline_n}, x{n})   "
        f"{baseline_apply / one_per:6.1f}x slower"
    )
    return {
        "tenants": n,
        "idle_seconds": idle_seconds,
        "one_seconds": one_seconds,
        "baseline_per_tenant": baseline,
        "baseline_apply_per_tenant": baseline_apply,
    }


if __name__ == "__main__":
    main()
