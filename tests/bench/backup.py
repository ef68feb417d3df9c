"""Per-tenant backup and restore timing, run by tests/bench/run.py or alone:
`python tests/bench/backup.py`. Prints figures; asserts nothing about time.

Creates its own database (saas_platform_bench_backup) and a throwaway media folder, fills one
tenant with BENCH_BACKUP_FAMILIES families (default 2,000: a guardian user, a student and ten
ledger rows each, so ~26,000 rows) and a few uploaded files, then times `tenant_backup`,
`tenant_restore` into a new tenant and `tenant_restore` over the same tenant, and checks that
the copy holds the same rows.
"""

from __future__ import annotations

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
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ["CACHE_KEY_PREFIX"] = f"bench-backup-{os.getpid()}"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["AWS_STORAGE_BUCKET_NAME"] = ""
os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-backup-media-")

BENCH_DB = "saas_platform_bench_backup"


def _database_url() -> str:
    from saas_platform import devservices

    base, _, _ = devservices.database_url().rpartition("/")
    return f"{base}/{BENCH_DB}"


def _admin(url: str):
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"], "dbname": "postgres"}
    return psycopg.connect(**params, autocommit=True)


def fill(tenant, families: int) -> int:
    from datetime import date

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django_tenants.utils import tenant_context

    from kernel.users.models import User
    from portal.accounts.models import Family, Guardian, Student
    from portal.billing.models import LedgerEntry

    with tenant_context(tenant):
        users = User.objects.bulk_create(
            User(email=f"parent{i}@bench.test", password="!", is_active=True)
            for i in range(families)
        )
        fams = Family.objects.bulk_create(Family(name=f"Family {i}") for i in range(families))
        Guardian.objects.bulk_create(
            Guardian(family=f, user=u, first_name="Pat", last_name=f"Doe{i}", email=u.email)
            for i, (f, u) in enumerate(zip(fams, users, strict=True))
        )
        Student.objects.bulk_create(
            Student(family=f, first_name="Kid", last_name=f"Doe{i}", date_of_birth=date(2016, 1, 1))
            for i, f in enumerate(fams)
        )
        LedgerEntry.objects.bulk_create(
            (
                LedgerEntry(
                    family=f,
                    kind="charge",
                    description=f"Tuition {k}",
                    amount=1000 + k,
                    currency="USD",
                    source_key=f"bench-{f.pk}-{k}",
                )
                for f in fams
                for k in range(10)
            ),
            batch_size=5000,
        )
        for i in range(5):
            default_storage.save(
                f"{tenant.schema_name}/brand/file-{i}.bin", ContentFile(os.urandom(200_000))
            )
    return families * 13


def main() -> dict[str, float]:
    families = int(os.environ.get("BENCH_BACKUP_FAMILIES", "2000"))
    url = _database_url()
    os.environ["DATABASE_URL"] = url
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tenants import backup, schema_pool
    from tenants.schema_clone import template_refresh
    from tenants.services import tenant_provision

    schema_pool._enqueue_refill = lambda: None
    try:
        print("Setting up the backup benchmark database…", file=sys.stderr)
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        template_refresh()
        tenant = tenant_provision(
            slug="bench-backup", name="Backup Bench", owner_email="o@bench.test"
        ).tenant
        fill(tenant, families)
        connection.set_schema_to_public()
        rows = sum(backup._row_counts("bench-backup").values())

        started = time.perf_counter()
        result = backup.tenant_backup(slug="bench-backup")
        backup_seconds = time.perf_counter() - started
        started = time.perf_counter()
        backup.tenant_restore(manifest_key=result.manifest_key, slug="bench-copy")
        copy_seconds = time.perf_counter() - started
        started = time.perf_counter()
        backup.tenant_restore(manifest_key=result.manifest_key, replace=True)
        replace_seconds = time.perf_counter() - started
        if backup._row_counts("bench-copy") != backup._row_counts("bench-backup"):
            raise RuntimeError("the restored copy differs from the original")
        connection.close()
    finally:
        with _admin(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')

    archive = result.manifest["archive"]["bytes"]
    print()
    print(
        f"Tenant backup and restore ({rows} rows in {len(result.manifest['tables'])} tables, "
        f"{len(result.manifest['files'])} files; archive {archive / 1e6:.1f} MB, local storage)"
    )
    print(
        f"  tenant_backup                       {backup_seconds:8.2f} s   "
        f"{rows / backup_seconds:8.0f} rows/s"
    )
    print(
        f"  tenant_restore into a new tenant    {copy_seconds:8.2f} s   "
        f"{rows / copy_seconds:8.0f} rows/s"
    )
    print(
        f"  tenant_restore over the same tenant {replace_seconds:8.2f} s   "
        f"{rows / replace_seconds:8.0f} rows/s"
    )
    return {"rows": rows, "backup": backup_seconds, "restore": copy_seconds}


if __name__ == "__main__":
    main()
