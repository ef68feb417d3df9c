"""Per-tenant backup, restore and offboarding.

A backup is two objects in the private backup storage (``STORAGES["backups"]``: the
``TENANT_BACKUP_BUCKET`` S3 bucket, private and encrypted server-side, or the local
``TENANT_BACKUP_ROOT`` folder; never the media storage), under
``backups/<slug>/<UTC time>-<id>/``:

- ``archive.tar.gz``: ``manifest.json``, ``schema.sql`` (``pg_dump --schema=<slug>``: the
  schema's DDL and data in one consistent snapshot) and ``files/<path>`` for every file the
  tenant owns (everything under ``<slug>/`` in the default storage, and any file a FileField
  of the tenant's rows names elsewhere);
- ``manifest.json``: the tenant's details, the migrations its schema had, row counts per
  table, and SHA-256 checksums of ``schema.sql``, of each file and of the archive.

A restore verifies every checksum, replays the dump into a scratch schema (schema name
rewritten) in one transaction, checks the row counts, migrates it if the backup is older than
the code, then swaps it in with a rename: into a new tenant (new slug; files copied under the
new prefix and FileField values rewritten) or over the same tenant (replace).

Why hand-written: django-dbbackup backs up the whole database and the whole media folder; a
business here is one schema and one storage prefix, restored under a new name (schema and file
paths rewritten) or in place, checked against a manifest, and migrated when older than the code,
none of which it does. pg_dump does the consistent snapshot; this module does the rest.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import Storage, default_storage, storages
from django.core.management import call_command
from django.db import connection, models, transaction
from django.utils import timezone
from django_tenants.utils import quote_schema_name, schema_context, schema_exists

from kernel.errors import ApplicationError

from . import routing
from .errors import TenantNotFound
from .models import Domain, Tenant
from .schema_clone import expected_migrations, pg_dump_executable, schema_drop

logger = logging.getLogger(__name__)

FORMAT = 1
CHUNK = 1024 * 1024
_SKIP_LINE = re.compile(r"^(\\|SET |SELECT pg_catalog\.set_config\()")
_COPY = re.compile(r"^COPY (?P<table>.+?) (?P<columns>\(.*\) )?FROM stdin;$")

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    logger.info(message)


def _same_place(backups: Storage, media: Storage) -> bool:
    bucket = getattr(backups, "bucket_name", None)
    if bucket is not None:
        return bucket == getattr(media, "bucket_name", None)
    location = getattr(backups, "location", None)
    media_location = getattr(media, "location", None)
    if location is None or media_location is None:
        return False
    return Path(location).resolve().is_relative_to(Path(media_location).resolve())


def backup_storage() -> Storage:
    """Where archives go: the private ``backups`` storage (settings: its own bucket with
    server-side encryption and no public access, or a local folder nothing serves). Never the
    media storage, whose files may be public: refused if they are the same place."""
    if "backups" not in settings.STORAGES:
        raise ImproperlyConfigured("STORAGES has no 'backups' entry (see settings.py).")
    storage = storages["backups"]
    if _same_place(storage, default_storage):
        raise ImproperlyConfigured("Tenant backups must not be stored with media.")
    return storage


def _prefix() -> str:
    return getattr(settings, "TENANT_BACKUP_PREFIX", "") or "backups"


@dataclass(frozen=True)
class BackupResult:
    archive_key: str
    manifest_key: str
    manifest: dict


@dataclass(frozen=True)
class RestoreResult:
    tenant: Tenant
    rows: int
    files: int
    migrated: bool


# --- helpers ----------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _tenant_models() -> list[type[models.Model]]:
    labels = set()
    for name in settings.TENANT_APPS:
        for config in apps.get_app_configs():
            if config.name == name:
                labels.add(config.label)
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in labels and not model._meta.proxy and model._meta.managed
    ]


def _file_fields() -> list[tuple[type[models.Model], str]]:
    return [
        (model, field.name)
        for model in _tenant_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField)
    ]


def _storage_walk(storage: Storage, prefix: str) -> list[str]:
    """Every file under ``prefix`` (a folder path without trailing slash)."""
    try:
        dirs, files = storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = [f"{prefix}/{name}" for name in files]
    for sub in dirs:
        found += _storage_walk(storage, f"{prefix}/{sub}")
    return found


def tenant_files(tenant: Tenant) -> list[str]:
    """The files a tenant owns in the default storage: its prefix, and any path its rows
    name outside it."""
    paths = set(_storage_walk(default_storage, tenant.schema_name))
    with schema_context(tenant.schema_name):
        for model, name in _file_fields():
            values = model.objects.exclude(**{name: ""}).values_list(name, flat=True).distinct()
            paths |= {value for value in values if value}
    return sorted(path for path in paths if default_storage.exists(path))


def _connection_args() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    args = [f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    return args, env


def _dump_schema(schema_name: str, target: Path) -> None:
    args, env = _connection_args()
    cmd = [
        pg_dump_executable(),
        "--format=plain",
        "--no-owner",
        "--no-privileges",
        "--lock-wait-timeout=60s",
        f"--schema={schema_name}",
        f"--file={target}",
        *args,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600, check=False)  # noqa: S603
    if result.returncode != 0:
        raise ApplicationError(
            "backup_dump_failed", f"pg_dump failed: {result.stderr.strip()[:2000]}", status=500
        )


def _row_counts(schema_name: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
            [schema_name],
        )
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(
                f"SELECT count(*) FROM {quote_schema_name(schema_name)}."
                f"{connection.ops.quote_name(table)}"
            )
            counts[table] = cursor.fetchone()[0]
    return counts


def _applied_migrations(schema_name: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT app || '.' || name FROM {quote_schema_name(schema_name)}.django_migrations "
            "ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


# --- backup -----------------------------------------------------------------------------------


def tenant_backup(
    *, slug: str, reason: str = "manual", progress: Progress = _quiet
) -> BackupResult:
    """Export a tenant's schema and files as one archive and a manifest in backup storage."""
    connection.set_schema_to_public()
    tenant = Tenant.objects.prefetch_related("domains").filter(schema_name=slug).first()
    if tenant is None:
        raise TenantNotFound(slug)
    if not schema_exists(slug):
        raise ApplicationError(
            "tenant_schema_missing", f"The tenant “{slug}” has no schema to back up.", status=409
        )
    storage = backup_storage()  # refuses the media storage before any work
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    folder = f"{_prefix()}/{slug}/{stamp}-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="tenant-backup-") as tmp:
        tmpdir = Path(tmp)
        dump = tmpdir / "schema.sql"
        progress(f"dumping schema {slug} (pg_dump)")
        _dump_schema(slug, dump)
        counts = _row_counts(slug)
        progress(
            f"  {sum(counts.values())} rows in {len(counts)} tables, {dump.stat().st_size} bytes"
        )
        files = tenant_files(tenant)
        manifest = {
            "format": FORMAT,
            "kind": "tenant-backup",
            "reason": reason,
            "created_at": timezone.now().isoformat(),
            "tenant": {
                "slug": slug,
                "name": tenant.name,
                "status": tenant.status,
                "timezone": tenant.timezone,
                "currency": tenant.currency,
                "locale": tenant.locale,
                "contact_email": tenant.contact_email,
                "owner_email": tenant.owner_email,
                "primary_domain": tenant.primary_domain,
                "domains": sorted(d.domain for d in tenant.domains.all()),
            },
            "postgres_version": connection.pg_version,
            "migrations": _applied_migrations(slug),
            "tables": counts,
            "schema": {
                "path": "schema.sql",
                "sha256": _sha256_file(dump),
                "bytes": dump.stat().st_size,
            },
            "files": [],
        }
        archive = tmpdir / "archive.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(dump, arcname="schema.sql")
            for i, path in enumerate(files):
                with default_storage.open(path, "rb") as fh:
                    data = fh.read()
                manifest["files"].append(
                    {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                )
                info = tarfile.TarInfo(f"files/{path}")
                info.size = len(data)
                info.mtime = int(timezone.now().timestamp())
                tar.addfile(info, io.BytesIO(data))
                progress(f"  file {i + 1}/{len(files)}: {path} ({len(data)} bytes)")
            inner = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(inner)
            tar.addfile(info, io.BytesIO(inner))
        manifest["archive"] = {
            "path": "archive.tar.gz",
            "sha256": _sha256_file(archive),
            "bytes": archive.stat().st_size,
        }
        progress(f"uploading {archive.stat().st_size} bytes to {folder}/")
        with archive.open("rb") as fh:
            archive_key = storage.save(f"{folder}/archive.tar.gz", File(fh))
        manifest["archive"]["key"] = archive_key
        manifest_key = storage.save(
            f"{folder}/manifest.json",
            File(io.BytesIO(json.dumps(manifest, indent=2, sort_keys=True).encode())),
        )
    logger.info("tenant %s backed up to %s", slug, manifest_key)
    return BackupResult(archive_key=archive_key, manifest_key=manifest_key, manifest=manifest)


def backup_list(*, slug: str) -> list[str]:
    """Manifest keys of a tenant's backups, oldest first."""
    storage = backup_storage()
    base = f"{_prefix()}/{slug}"
    try:
        dirs, _ = storage.listdir(base)
    except (FileNotFoundError, NotADirectoryError):
        return []
    keys = [f"{base}/{name}/manifest.json" for name in sorted(dirs)]
    return [key for key in keys if storage.exists(key)]


# --- restore ----------------------------------------------------------------------------------


def _corrupt(message: str) -> ApplicationError:
    return ApplicationError("backup_corrupt", message, status=422)


def _load_manifest(manifest_key: str) -> dict:
    storage = backup_storage()
    if not storage.exists(manifest_key):
        raise ApplicationError(
            "backup_not_found", f"No backup manifest at “{manifest_key}”.", status=404
        )
    with storage.open(manifest_key, "rb") as fh:
        try:
            manifest = json.loads(fh.read())
        except ValueError:
            raise _corrupt("The backup manifest is not valid JSON.") from None
    if manifest.get("kind") != "tenant-backup" or manifest.get("format") != FORMAT:
        raise _corrupt("The manifest is not a tenant backup this version can read.")
    return manifest


def _rename_pattern(source: str) -> re.Pattern:
    names = "|".join([re.escape(f'"{source}"'), re.escape(source)])
    # The source schema's name where it qualifies an object (``alpha.table``, also inside
    # 'alpha.seq'::regclass literals) or is the object (``CREATE SCHEMA alpha;``).
    return re.compile(rf'(?<![\w$".])(?:{names})(?=\.)|(?<=SCHEMA )(?:{names})(?=;)')


def _replay(dump: Path, source: str, target: str, progress: Progress) -> None:
    """Execute pg_dump's plain output with the schema renamed, COPY blocks streamed."""
    pattern = _rename_pattern(source)
    quoted = quote_schema_name(target)

    def rename(text: str) -> str:
        return pattern.sub(lambda _m: quoted, text)

    raw = connection.cursor().cursor  # psycopg's own cursor, for COPY
    statements: list[str] = []

    def flush() -> None:
        sql = "\n".join(line for line in statements if line and not line.startswith("--"))
        statements.clear()
        if sql.strip():
            raw.execute(rename(sql))

    tables = 0
    with dump.open("r", encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            match = _COPY.match(line)
            if match:
                flush()
                header = rename(line).removesuffix(" FROM stdin;") + " FROM STDIN"
                with raw.copy(header) as copy:
                    for data in fh:
                        if data == "\\.\n" or data == "\\.":
                            break
                        copy.write(data)
                tables += 1
                continue
            if _SKIP_LINE.match(line):
                continue
            statements.append(line)
    flush()
    progress(f"  replayed the schema and {tables} tables of data")


def _map_path(path: str, source: str, target: str) -> str:
    if source == target:
        return path
    if path.startswith(f"{source}/"):
        return f"{target}/{path[len(source) + 1 :]}"
    return f"{target}/restored/{path}"


def tenant_restore(
    *,
    manifest_key: str,
    slug: str | None = None,
    replace: bool = False,
    name: str | None = None,
    owner_email: str | None = None,
    progress: Progress = _quiet,
) -> RestoreResult:
    """Restore a backup into a new tenant ``slug`` (its schema and files renamed), or with
    ``replace`` over the tenant it was taken from (its data and files replaced by the backup;
    an offboarded tenant comes back active)."""
    if connection.in_atomic_block:
        raise ApplicationError(
            "restore_in_transaction", "Restore runs its own transactions.", status=500
        )
    connection.set_schema_to_public()
    manifest = _load_manifest(manifest_key)
    source = manifest["tenant"]["slug"]
    target = slug or source
    if target == source and not replace:
        raise ApplicationError(
            "restore_target_exists",
            f"Restoring over “{source}” replaces its data: pass replace, or a new slug.",
            status=409,
        )
    if target != source and replace:
        raise ApplicationError(
            "restore_replace_other",
            "replace restores over the tenant the backup was taken from; use a new slug "
            "without replace to make a copy.",
            status=400,
        )
    unknown = set(manifest["migrations"]) - {f"{a}.{n}" for a, n in expected_migrations()[0]}
    if unknown:
        raise ApplicationError(
            "backup_newer_than_code",
            f"The backup has migrations this code does not: {sorted(unknown)[:5]}. Deploy the "
            "newer code first.",
            status=409,
        )
    if replace:
        tenant = Tenant.objects.filter(schema_name=target).first()
        if tenant is None:
            raise TenantNotFound(target)
    else:
        from .services import tenant_register

        details = manifest["tenant"]
        tenant = tenant_register(
            name=name or details["name"],
            slug=target,
            owner_email=owner_email or details["owner_email"],
            contact_email=details["contact_email"],
            timezone_name=details["timezone"],
            currency=details["currency"],
            locale=details["locale"],
        )
    try:
        return _restore_into(tenant, manifest, manifest_key, replace=replace, progress=progress)
    except Exception:
        if not replace:
            # A half-made copy must not linger: beat would finish it as an empty new tenant.
            connection.set_schema_to_public()
            Tenant.objects.filter(pk=tenant.pk, status=Tenant.Status.PROVISIONING).delete()
        raise


def _restore_into(
    tenant: Tenant, manifest: dict, manifest_key: str, *, replace: bool, progress: Progress
) -> RestoreResult:
    source = manifest["tenant"]["slug"]
    target = tenant.schema_name
    storage = backup_storage()
    scratch = f"_restore_{secrets.token_hex(6)}"
    with tempfile.TemporaryDirectory(prefix="tenant-restore-") as tmp:
        tmpdir = Path(tmp)
        archive = tmpdir / "archive.tar.gz"
        progress(f"downloading {manifest['archive']['key']}")
        with storage.open(manifest["archive"]["key"], "rb") as src, archive.open("wb") as dst:
            for block in iter(lambda: src.read(CHUNK), b""):
                dst.write(block)
        if _sha256_file(archive) != manifest["archive"]["sha256"]:
            raise _corrupt("The archive's checksum does not match its manifest.")
        files: dict[str, bytes] = {}
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("schema.sql")
            dump = tmpdir / "schema.sql"
            dump.write_bytes(member.read())
            if _sha256_file(dump) != manifest["schema"]["sha256"]:
                raise _corrupt("schema.sql does not match its checksum.")
            for entry in manifest["files"]:
                member = tar.extractfile(f"files/{entry['path']}")
                data = member.read() if member else b""
                if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                    raise _corrupt(f"The file {entry['path']} does not match its checksum.")
                files[entry["path"]] = data
        progress(f"archive verified: schema + {len(files)} files")

        try:
            with transaction.atomic():
                _replay(dump, source, scratch, progress)
                counts = _row_counts(scratch)
                if counts != manifest["tables"]:
                    raise _corrupt("The restored row counts differ from the manifest.")
        except ApplicationError:
            raise
        except Exception as exc:
            logger.exception("restoring %s failed", manifest_key)
            raise ApplicationError(
                "restore_failed", f"Replaying the backup failed: {exc}"[:2000], status=500
            ) from exc
    migrated = False
    try:
        if set(manifest["migrations"]) != set(_applied_migrations(scratch)) or (
            {f"{a}.{n}" for a, n in expected_migrations()[0]} - set(manifest["migrations"])
        ):
            progress("the backup is older than the code: migrating it")
            call_command(
                "migrate_schemas",
                schema_name=scratch,
                tenant=True,
                interactive=False,
                verbosity=0,
                stdout=io.StringIO(),
            )
            connection.set_schema_to_public()
            migrated = True
        mapping = {path: _map_path(path, source, target) for path in files}
        if target != source:
            _rewrite_paths(scratch, {old: new for old, new in mapping.items() if old != new})
        _swap_in(tenant, scratch, replace=replace)
    except Exception:
        connection.set_schema_to_public()
        schema_drop(schema_name=scratch)
        raise
    # Files after the schema: a failure here leaves data restored and is safe to repeat.
    existing = set(_storage_walk(default_storage, target)) if replace else set()
    for i, (path, data) in enumerate(sorted(files.items())):
        dest = mapping[path]
        if default_storage.exists(dest):
            default_storage.delete(dest)
        saved = default_storage.save(dest, File(io.BytesIO(data)))
        if saved != dest:
            raise ApplicationError(
                "restore_file_conflict", f"Could not write {dest} (got {saved}).", status=500
            )
        existing.discard(dest)
        progress(f"  file {i + 1}/{len(files)}: {dest}")
    for stray in sorted(existing):  # files made after the backup, under the tenant's prefix
        default_storage.delete(stray)
    tenant.refresh_from_db()
    logger.info("backup %s restored into %s", manifest_key, target)
    return RestoreResult(
        tenant=tenant, rows=sum(manifest["tables"].values()), files=len(files), migrated=migrated
    )


def _rewrite_paths(schema_name: str, mapping: dict[str, str]) -> None:
    """Point the copy's rows at its own files: every text column (FileFields, and paths kept
    in plain CharFields such as the brand's logo) whose whole value is a moved path."""
    if not mapping:
        return
    values = ", ".join(["(%s, %s)"] * len(mapping))
    params = [item for pair in mapping.items() for item in pair]
    schema = quote_schema_name(schema_name)
    with connection.cursor() as cursor:
        for model in _tenant_models():
            for field in model._meta.concrete_fields:
                if not isinstance(field, models.CharField | models.TextField | models.FileField):
                    continue
                table = f"{schema}.{connection.ops.quote_name(model._meta.db_table)}"
                column = connection.ops.quote_name(field.column)
                cursor.execute(
                    f"UPDATE {table} t SET {column} = m.new FROM (VALUES {values}) AS m(old, new) "
                    f"WHERE t.{column} = m.old",
                    params,
                )


def _swap_in(tenant: Tenant, scratch: str, *, replace: bool) -> None:
    target = tenant.schema_name
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        with connection.cursor() as cursor:
            if replace and schema_exists(target):
                old = f"_replaced_{secrets.token_hex(6)}"
                cursor.execute(
                    f"ALTER SCHEMA {quote_schema_name(target)} RENAME TO {quote_schema_name(old)}"
                )
                cursor.execute(f"DROP SCHEMA {quote_schema_name(old)} CASCADE")
            cursor.execute(
                f"ALTER SCHEMA {quote_schema_name(scratch)} RENAME TO {quote_schema_name(target)}"
            )
        now = timezone.now()
        if locked.status in {Tenant.Status.PROVISIONING, Tenant.Status.OFFBOARDED}:
            Domain.objects.get_or_create(
                domain=locked.platform_host,
                defaults={"tenant": locked, "is_primary": True, "verified_at": now},
            )
            Tenant.objects.filter(pk=locked.pk).update(
                status=Tenant.Status.ACTIVE,
                provisioned_at=locked.provisioned_at or now,
                status_changed_at=now,
                provisioning_error="",
                primary_domain="",
            )
        routing.invalidate_on_commit()


# --- offboarding ------------------------------------------------------------------------------


def tenant_offboard(*, slug: str, progress: Progress = _quiet) -> BackupResult:
    """Take a business off the platform: suspend it, export a backup (it must succeed), then
    drop its schema, its domains and its files. The tenant row stays (status ``offboarded``,
    the backup's manifest key in ``offboard_backup``), so the slug stays reserved and
    ``tenant_restore(manifest_key=..., replace=True)`` can bring it back."""
    from .services import tenant_suspend

    connection.set_schema_to_public()
    tenant = Tenant.objects.filter(schema_name=slug).first()
    if tenant is None:
        raise TenantNotFound(slug)
    if tenant.status == Tenant.Status.OFFBOARDED:
        raise ApplicationError(
            "invalid_status_transition", "This tenant is already offboarded.", status=409
        )
    if tenant.status == Tenant.Status.ACTIVE:
        tenant_suspend(slug=slug)  # no writes while the export runs
        progress(f"{slug} suspended")
    result = tenant_backup(slug=slug, reason="offboard", progress=progress)
    files = tenant_files(tenant)
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).update(
            status=Tenant.Status.OFFBOARDED,
            status_changed_at=timezone.now(),
            offboard_backup=result.manifest_key,
            primary_domain="",
        )
        Domain.objects.filter(tenant=tenant).delete()
        schema_drop(schema_name=slug)
        routing.invalidate_on_commit()
    for path in files:
        default_storage.delete(path)
    progress(f"{slug} offboarded: schema dropped, {len(files)} files deleted")
    return result
