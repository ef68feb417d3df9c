"""manage.py deploy_migrate: skips current schemas cheaply, migrates the others in parallel
worker processes, records each schema under the run's id and resumes after a failure."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import quote_schema_name

from tenants import deploy, schema_clone
from tenants.models import DeployRun, DeployRunSchema, SchemaTemplate, SpareSchema
from tenants.schema_pool import pool_fill
from tenants.services import tenant_provision

# Parallel migration worker processes, each migrating schemas for real (seconds per test).
pytestmark = pytest.mark.integration

PROBE = "portal_api.0001_probe"


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def _recorded(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT app || '.' || name FROM {quote_schema_name(schema)}.django_migrations"
        )
        return {row[0] for row in cursor.fetchall()}


def _content_types(schema: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ct.app_label, ct.model, p.codename FROM {quote_schema_name(schema)}."
            f"django_content_type ct LEFT JOIN {quote_schema_name(schema)}.auth_permission p "
            "ON p.content_type_id = ct.id ORDER BY 1, 2, 3"
        )
        return cursor.fetchall()


def _reset_migration_caches() -> None:
    schema_clone._expected = None
    schema_clone.template_forget()


@pytest.fixture
def deploy_env(committed, settings):
    """Three committed tenants, and the code shipping one migration they lack."""
    for slug in ("dm-one", "dm-two", "dm-three"):
        tenant_provision(slug=slug, name=f"Deploy {slug}", owner_email=f"o@{slug}.test")
        committed.append(slug)
    connection.set_schema_to_public()
    settings.MIGRATION_MODULES = {"portal_api": "tests.tenants.deploy_probe"}
    _reset_migration_caches()
    yield committed
    settings.MIGRATION_MODULES = {}
    _reset_migration_caches()
    connection.set_schema_to_public()
    DeployRun.objects.all().delete()
    # Undo the throwaway migration in the session tenants too.
    with connection.cursor() as cursor:
        for schema in deploy.tenant_schemas():
            quoted = quote_schema_name(schema)
            cursor.execute(f"DROP TABLE IF EXISTS {quoted}.deploy_probe")
            cursor.execute(
                f"DELETE FROM {quoted}.django_migrations "
                "WHERE app = 'portal_api' AND name = '0001_probe'"
            )
    # Put the template and the pool back to the code's real migrations for later tests.
    schema_clone.template_refresh()
    pool_fill()


@pytest.mark.django_db
def test_current_schemas_are_found_in_one_query_per_chunk(tenant_a, tenant_b, monkeypatch):
    target, _ = deploy.migration_target()
    assert deploy.schemas_current(["alpha", "beta"], target) == {"alpha", "beta"}
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM alpha.django_migrations WHERE id = "
            "(SELECT max(id) FROM alpha.django_migrations)"
        )
        cursor.execute("CREATE SCHEMA never_migrated")
    monkeypatch.setattr(deploy, "CHECK_CHUNK", 2)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        current = deploy.schemas_current(["alpha", "beta", "never_migrated"], target)
    assert current == {"beta"}
    # Two chunks: a catalogue lookup each, and a count query for the one with a history table.
    assert len(queries) == 3
    # A migration the code ships that no schema has: none is current.
    assert deploy.schemas_current(["alpha", "beta"], target | {"portal_api.9999_new"}) == set()


def test_deploy_migrates_pending_schemas_in_parallel_and_skips_current_ones(deploy_env):
    target, fingerprint = deploy.migration_target()
    assert PROBE in target
    stale_spare = SpareSchema.objects.create(schema_name="_spare_stale00", fingerprint="old")
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "_spare_stale00"')
    spares = SpareSchema.objects.count()  # all cloned before the new migration existed
    out, err = io.StringIO(), io.StringIO()
    call_command("deploy_migrate", workers=2, stdout=out, stderr=err)
    text = out.getvalue()
    assert "template refreshed" in text and f"spares: {spares} dropped" in text
    run = DeployRun.objects.get()
    assert run.fingerprint == fingerprint and run.status == DeployRun.Status.DONE
    schemas = deploy.tenant_schemas()
    assert {"alpha", "beta", "dm-one", "dm-two", "dm-three"} <= set(schemas)
    assert run.schemas_migrated == len(schemas) and run.schemas_failed == 0
    template_types = _content_types("_tenant_template")
    for schema in schemas:
        assert "deploy_probe" in _tables(schema), schema
        assert target <= _recorded(schema)
        # What the post-migrate signals write matches a schema built by plain migrate.
        assert _content_types(schema) == template_types, schema
    assert "migrating tenant schemas: 100%" in err.getvalue()  # tqdm's progress bar
    # The template and the pool carry the new migration too.
    assert SchemaTemplate.objects.get().fingerprint == fingerprint
    assert "deploy_probe" in _tables("_tenant_template")
    assert not SpareSchema.objects.filter(pk=stale_spare.pk).exists()
    assert not _tables("_spare_stale00")
    for spare in SpareSchema.objects.all():
        assert spare.fingerprint == fingerprint and "deploy_probe" in _tables(spare.schema_name)

    # Nothing left to apply: every schema is skipped by the check, none is migrated.
    out = io.StringIO()
    call_command("deploy_migrate", workers=2, new_run=True, stdout=out, stderr=io.StringIO())
    second = DeployRun.objects.order_by("-pk").first()
    assert second.pk != run.pk and second.status == DeployRun.Status.DONE
    assert second.schemas_skipped == len(schemas) and second.schemas_migrated == 0
    assert "0 to migrate" in out.getvalue() and "template current" in out.getvalue()


def test_a_failed_schema_is_recorded_and_the_rerun_resumes(deploy_env):
    # dm-two already has the table the migration creates: its migration fails.
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "dm-two".deploy_probe (id integer)')
    with pytest.raises(CommandError, match="1 failed"):
        call_command("deploy_migrate", workers=2, stdout=io.StringIO(), stderr=io.StringIO())
    run = DeployRun.objects.get()
    assert run.status == DeployRun.Status.FAILED and run.schemas_failed == 1
    failed = run.schemas.get(outcome=DeployRunSchema.Outcome.FAILED)
    assert failed.schema_name == "dm-two" and "deploy_probe" in failed.error
    migrated = set(
        run.schemas.filter(outcome=DeployRunSchema.Outcome.MIGRATED).values_list(
            "schema_name", flat=True
        )
    )
    assert {"dm-one", "dm-three"} <= migrated
    assert PROBE not in _recorded("dm-two")

    with connection.cursor() as cursor:
        cursor.execute('DROP TABLE "dm-two".deploy_probe')
    migrated_calls = []
    original = deploy.schema_migrate_existing

    def spy(name):
        migrated_calls.append(name)
        return original(name)

    deploy.schema_migrate_existing = spy
    try:
        out = io.StringIO()
        report = deploy.deploy_migrate(workers=1, log=out.write, progress_stream=io.StringIO())
    finally:
        deploy.schema_migrate_existing = original
    assert report.resumed and report.run.pk == run.pk
    assert migrated_calls == ["dm-two"]  # the others were finished earlier in this run
    assert report.already_done == len(deploy.tenant_schemas()) - 1
    run.refresh_from_db()
    assert run.status == DeployRun.Status.DONE and run.schemas_failed == 0
    assert PROBE in _recorded("dm-two") and "deploy_probe" in _tables("dm-two")
    assert "resuming deploy run" in out.getvalue()


def test_resuming_an_unknown_run_is_refused(db):
    with pytest.raises(CommandError, match="deploy_run_not_found"):
        call_command("deploy_migrate", run_id=987654, skip_public=True, stdout=io.StringIO())
