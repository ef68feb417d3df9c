"""Per-tenant backup and restore: a tenant with families, enrollments, ledger rows and uploaded
files goes to storage as an archive + manifest and comes back equal, into a new tenant or over
itself; offboarding exports before it drops."""

from __future__ import annotations

import io
import json
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import quote_schema_name, schema_exists, tenant_context
from PIL import Image

from kernel.errors import ApplicationError
from tenants import backup, routing
from tenants.models import Domain, Tenant
from tenants.services import tenant_provision
from tests.helpers import client_for

# pg_dump, replays into scratch schemas and migrations, on committed data (seconds each).
pytestmark = pytest.mark.integration


def _png(colour: str, size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    return out.getvalue()


def _fill(tenant: Tenant) -> dict[str, bytes]:
    """Families, an enrollment made through checkout, ledger rows and two uploaded files (one
    under the tenant's prefix, one a FileField outside it)."""
    from portal.billing.models import LedgerEntry
    from portal.catalog.models import StaffProfile
    from portal.enrollment import services as enrollment
    from portal.enrollment.models import Enrollment
    from portal.orders import services as orders
    from tests.factories import GuardianFactory, OfferingFactory, StudentFactory
    from theming.services import brand_get, brand_image_upload

    with tenant_context(tenant):
        offering = OfferingFactory(
            name="Tiny Tumblers",
            tuition=0,
            registration_fee=0,
            start_date=timezone.localdate() + timedelta(days=7),
            start_time=clock(16),
            end_time=clock(17),
        )
        families = []
        for i in range(3):
            guardian = GuardianFactory(email=f"parent{i}@{tenant.schema_name}.test")
            student = StudentFactory(family=guardian.family, first_name=f"Kid{i}")
            families.append((guardian.family, student))
        family, student = families[0]
        enrollment.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
        orders.checkout(family=family)
        assert Enrollment.objects.filter(status="active").count() == 1
        for i, (fam, _) in enumerate(families):
            LedgerEntry.objects.create(
                family=fam,
                kind="charge",
                description=f"Tuition {i}",
                amount=12000 + i,
                currency="USD",
                source_key=f"test-charge-{i}",
            )
        LedgerEntry.objects.create(
            family=family,
            kind="payment",
            description="Cash",
            amount=-5000,
            currency="USD",
            source_key="test-payment-0",
        )
        logo = _png("#3366cc")
        brand_image_upload(field="logo", name="logo.png", data=logo)
        logo_path = brand_get().logo
        photo = _png("#cc6633", 40)
        coach = StaffProfile(display_name="Coach Kim")
        coach.photo.save("coach.png", ContentFile(photo), save=True)
        photo_path = coach.photo.name
    connection.set_schema_to_public()
    assert logo_path.startswith(f"{tenant.schema_name}/")
    assert photo_path.startswith(f"{tenant.schema_name}/staff/")
    return {logo_path: logo, photo_path: photo}


def _tables(schema: str, mapping: dict[str, str] | None = None) -> dict[str, list]:
    """Every row of every table, ordered; strings equal to a moved file path are mapped."""
    mapping = mapping or {}
    out = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema])
        for (table,) in cursor.fetchall():
            cursor.execute(f"SELECT * FROM {quote_schema_name(schema)}.{table} ORDER BY 1")
            rows = [
                tuple(mapping.get(v, v) if isinstance(v, str) else v for v in row)
                for row in cursor.fetchall()
            ]
            out[table] = sorted(rows, key=repr)
    return out


def _read(path: str) -> bytes:
    with default_storage.open(path, "rb") as fh:
        return fh.read()


@pytest.fixture
def cleanup_backups():
    yield
    storage = backup.backup_storage()
    for key in backup._storage_walk(storage, backup._prefix()):
        storage.delete(key)


def _round_trip(committed) -> None:
    from portal.accounts.models import Family
    from portal.billing.models import LedgerEntry

    source = tenant_provision(slug="rt-src", name="Round Trip", owner_email="o@rt.test").tenant
    committed.extend(["rt-src", "rt-copy"])
    files = _fill(source)
    original = _tables("rt-src")
    assert len(original["portal_billing_ledgerentry"]) == 5  # the checkout wrote one
    assert len(original["portal_accounts_family"]) == 3

    messages: list[str] = []
    result = backup.tenant_backup(slug="rt-src", progress=messages.append)
    assert any("pg_dump" in m for m in messages)
    storage = backup.backup_storage()
    assert result.manifest_key.startswith("backups/rt-src/")
    assert result.manifest_key.endswith("/manifest.json")
    stored = json.loads(storage.open(result.manifest_key, "rb").read())
    assert stored["tenant"]["slug"] == "rt-src" and stored["tenant"]["name"] == "Round Trip"
    assert stored["tables"]["portal_billing_ledgerentry"] == 5
    assert {f["path"] for f in stored["files"]} == set(files)
    assert len(stored["archive"]["sha256"]) == 64 and storage.exists(stored["archive"]["key"])
    assert backup.backup_list(slug="rt-src") == [result.manifest_key]

    # Into a new tenant: the schema renamed, files under the new prefix, paths rewritten.
    copy = backup.tenant_restore(
        manifest_key=result.manifest_key, slug="rt-copy", name="Round Trip Copy"
    )
    assert copy.tenant.status == Tenant.Status.ACTIVE and copy.tenant.name == "Round Trip Copy"
    assert copy.files == 2 and copy.rows == sum(stored["tables"].values())
    mapping = {path: backup._map_path(path, "rt-src", "rt-copy") for path in files}
    assert all(new.startswith("rt-copy/") for new in mapping.values())
    assert _tables("rt-copy") == _tables("rt-src", mapping)
    for path, data in files.items():
        assert _read(mapping[path]) == data
    assert Domain.objects.get(domain=copy.tenant.platform_host).verified_at is not None
    with tenant_context(copy.tenant):  # sequences came along: new rows get fresh ids
        added = Family.objects.create(name="New in the copy")
        assert added.pk > max(row[0] for row in original["portal_accounts_family"])
        added.delete()
    connection.set_schema_to_public()
    # A copy under a new slug is a new business: it routes, unlaunched until the platform
    # launches it.
    assert copy.tenant.launched_at is None
    assert client_for(copy.tenant).get("/").status_code == 503
    Tenant.objects.filter(pk=copy.tenant.pk).update(launched_at=copy.tenant.created_at)
    routing.router.clear()
    page = client_for(copy.tenant).get("/")
    assert page.status_code == 200 and "Round Trip Copy" in page.content.decode()

    # Over the same tenant: later changes are undone, later files removed.

    with tenant_context(source):
        LedgerEntry.objects.filter(source_key="test-payment-0").delete()
        Family.objects.create(name="Added after the backup")
    connection.set_schema_to_public()
    stray = default_storage.save("rt-src/brand/later.png", ContentFile(_png("#000000")))
    assert _tables("rt-src") != original
    replaced = backup.tenant_restore(manifest_key=result.manifest_key, replace=True)
    assert replaced.tenant.pk == source.pk
    assert _tables("rt-src") == original
    assert not default_storage.exists(stray)
    for path, data in files.items():
        assert _read(path) == data

    # Offboarding exports first, then drops; the export brings the tenant back.
    offboarded = backup.tenant_offboard(slug="rt-copy")
    tenant = Tenant.objects.get(schema_name="rt-copy")
    assert tenant.status == Tenant.Status.OFFBOARDED
    assert tenant.offboard_backup == offboarded.manifest_key
    assert not schema_exists("rt-copy")
    assert not Domain.objects.filter(tenant=tenant).exists()
    assert not any(default_storage.exists(p) for p in mapping.values())
    assert client_for(tenant).get("/").status_code == 404
    assert offboarded.manifest["reason"] == "offboard"
    assert offboarded.manifest["tenant"]["status"] == Tenant.Status.SUSPENDED
    back = backup.tenant_restore(manifest_key=offboarded.manifest_key, replace=True)
    assert back.tenant.status == Tenant.Status.ACTIVE
    assert _tables("rt-copy") == _tables("rt-src", mapping)
    with pytest.raises(ApplicationError) as exc:
        backup.tenant_offboard(slug="rt-src-missing")
    assert exc.value.code == "tenant_not_found"

    # Bad input: nothing is created or changed.
    tenants_before = Tenant.objects.count()
    for kwargs, code in (
        ({"manifest_key": "backups/none/manifest.json", "slug": "rt-x"}, "backup_not_found"),
        ({"manifest_key": result.manifest_key}, "restore_target_exists"),
        ({"manifest_key": result.manifest_key, "slug": "rt-copy"}, "slug_taken"),
        ({"manifest_key": result.manifest_key, "slug": "Bad Slug"}, "slug_invalid_characters"),
        (
            {"manifest_key": result.manifest_key, "slug": "rt-y", "replace": True},
            "restore_replace_other",
        ),
    ):
        with pytest.raises(ApplicationError) as exc:
            backup.tenant_restore(**kwargs)
        assert exc.value.code == code, (kwargs, exc.value.code)
    tampered = dict(stored, archive={**stored["archive"], "sha256": "0" * 64})
    newer = dict(stored, migrations=[*stored["migrations"], "portal_api.9999_future"])
    for manifest, code in ((tampered, "backup_corrupt"), (newer, "backup_newer_than_code")):
        key = storage.save(
            "backups/rt-src/tampered/manifest.json",
            ContentFile(json.dumps(manifest).encode()),
        )
        with pytest.raises(ApplicationError) as exc:
            backup.tenant_restore(manifest_key=key, slug="rt-z")
        assert exc.value.code == code
        storage.delete(key)
    assert Tenant.objects.count() == tenants_before
    assert not schema_exists("rt-z")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE '\\_restore\\_%%'")
        assert cursor.fetchone()[0] == 0


def test_round_trip_local_storage(committed, cleanup_backups):
    _round_trip(committed)


def test_commands(committed, cleanup_backups):
    tenant_provision(slug="rt-cmd", name="Command Trip", owner_email="o@cmd.test")
    committed.extend(["rt-cmd", "rt-cmd-copy"])
    out = io.StringIO()
    call_command("tenant_backup", "rt-cmd", stdout=out)
    text = out.getvalue()
    assert "Backed up rt-cmd" in text
    key = text.strip().splitlines()[-1].removeprefix("manifest: ")
    listed = io.StringIO()
    call_command("tenant_backup", "rt-cmd", list=True, stdout=listed)
    assert listed.getvalue().split() == [key]
    out = io.StringIO()
    call_command("tenant_restore", key, "--into", "rt-cmd-copy", stdout=out)
    assert "Restored" in out.getvalue() and "rt-cmd-copy" in out.getvalue()
    with pytest.raises(CommandError, match="pass --yes"):
        call_command("tenant_offboard", "rt-cmd", stdout=io.StringIO())
    with pytest.raises(CommandError, match="restore_target_exists"):
        call_command("tenant_restore", key, stdout=io.StringIO())
    out = io.StringIO()
    call_command("tenant_offboard", "rt-cmd-copy", "--yes", stdout=out)
    assert "Offboarded" in out.getvalue()
    assert Tenant.objects.get(schema_name="rt-cmd-copy").status == Tenant.Status.OFFBOARDED


def test_round_trip_through_s3(committed, s3_storage, s3_backups, cleanup_backups):
    """The same round trip with media and backups on an S3 server (SeaweedFS), each in its own
    bucket: nothing of a backup lands in the media bucket."""
    _round_trip(committed)
    keys = s3_backups.object_keys("backups/")
    assert any(k.startswith("backups/rt-src/") and k.endswith("/archive.tar.gz") for k in keys)
    assert any(k.startswith("backups/rt-copy/") and k.endswith("/manifest.json") for k in keys)
    assert s3_storage.object_keys("backups/") == []
    media = s3_storage.object_keys("rt-src/")
    assert any(k.startswith("rt-src/brand/logo-") for k in media)


def test_backups_are_private_and_encrypted_even_when_media_is_public(
    committed, s3_server, s3_backups, cleanup_backups, settings
):
    """Media is public (the brand images load from the bucket): an anonymous GET of a media
    object answers 200. An anonymous GET of a backup object is refused, and the object is
    encrypted at rest."""
    import urllib.error
    import urllib.request

    from tests.s3 import PUBLIC_BUCKET, s3_options

    client = s3_server.client()
    if PUBLIC_BUCKET not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        client.create_bucket(Bucket=PUBLIC_BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_options(s3_server, PUBLIC_BUCKET, querystring_auth=False),
        },
    }
    settings.AWS_STORAGE_BUCKET_NAME = PUBLIC_BUCKET
    tenant_provision(slug="rt-priv", name="Private Backups", owner_email="o@priv.test")
    committed.append("rt-priv")
    logo = default_storage.save("rt-priv/brand/logo.png", ContentFile(_png("#112233")))
    try:
        result = backup.tenant_backup(slug="rt-priv")

        def anonymous_get(bucket: str, key: str) -> int:
            try:
                url = f"{s3_server.endpoint}/{bucket}/{key}"
                return urllib.request.urlopen(url).status  # noqa: S310 (the test server)
            except urllib.error.HTTPError as exc:
                return exc.code

        assert anonymous_get(PUBLIC_BUCKET, logo) == 200  # the server does serve anonymous reads
        for key in (result.archive_key, result.manifest_key):
            assert anonymous_get(s3_backups.name, key) == 403, key
            head = client.head_object(Bucket=s3_backups.name, Key=key)
            assert head["ServerSideEncryption"] == "AES256", key
        # Nothing of the backup is in the media bucket.
        listed = client.list_objects_v2(Bucket=PUBLIC_BUCKET, Prefix="backups/")
        assert listed.get("KeyCount", 0) == 0
        # Backups stored with media are refused outright.
        private = settings.STORAGES
        settings.STORAGES = {**private, "backups": private["default"]}
        with pytest.raises(ImproperlyConfigured, match="must not be stored with media"):
            backup.tenant_backup(slug="rt-priv")
        settings.STORAGES = private
    finally:
        default_storage.delete(logo)


def test_local_backups_are_outside_media_and_owner_only(committed, cleanup_backups, settings):
    tenant_provision(slug="rt-local", name="Local Backups", owner_email="o@local.test")
    committed.append("rt-local")
    result = backup.tenant_backup(slug="rt-local")
    storage = backup.backup_storage()
    path = Path(storage.path(result.archive_key))
    assert not path.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert not default_storage.exists(result.archive_key)


def test_restoring_an_older_backup_migrates_it(committed, cleanup_backups, settings):
    tenant_provision(slug="rt-old", name="Old Backup", owner_email="o@old.test")
    committed.extend(["rt-old", "rt-new"])
    result = backup.tenant_backup(slug="rt-old")
    # The code gains a migration after the backup was taken.
    from tenants import schema_clone

    settings.MIGRATION_MODULES = {"portal_api": "tests.tenants.deploy_probe"}
    schema_clone._expected = None
    try:
        restored = backup.tenant_restore(manifest_key=result.manifest_key, slug="rt-new")
    finally:
        settings.MIGRATION_MODULES = {}
        schema_clone._expected = None
    assert restored.migrated
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'rt-new' "
            "AND tablename = 'deploy_probe'"
        )
        assert cursor.fetchone()[0] == 1
        cursor.execute(
            'SELECT count(*) FROM "rt-new".django_migrations '
            "WHERE app = 'portal_api' AND name = '0001_probe'"
        )
        assert cursor.fetchone()[0] == 1
