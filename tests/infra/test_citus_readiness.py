"""What moving tenant schemas onto Citus 12 schema-based sharding needs of the code
(docs/operations.md, "Past one PostgreSQL"): each tenant schema becomes a distributed schema on
one worker node, so

- no foreign key may join a tenant schema to another schema (another tenant's or an ordinary
  public table): checked in the models and in the database's own catalog;
- no query may name a schema: tenant requests address their tables through ``search_path``
  only, so each stays inside the one schema Citus routes it to;
- public-schema reads (tenant routing, portal settings) are cached: a warm tenant request runs
  no query on a public table, which after the move lives on the coordinator;
- no sequence is shared across schemas: every column default's sequence lives in its table's
  own schema (so it moves with it)."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db


def _tenant_only_labels() -> set[str]:
    shared = {c.label for c in apps.get_app_configs() if c.name in settings.SHARED_APPS}
    tenant = {c.label for c in apps.get_app_configs() if c.name in settings.TENANT_APPS}
    return tenant - shared


def test_no_model_foreign_key_leaves_its_tenant_schema():
    tenant_only = _tenant_only_labels()
    shared_only = {
        c.label
        for c in apps.get_app_configs()
        if c.name in settings.SHARED_APPS and c.name not in settings.TENANT_APPS
    }
    offenders = []
    for model in apps.get_models():
        if model._meta.app_label not in tenant_only:
            continue
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and field.related_model):
                continue
            if field.related_model._meta.app_label in shared_only:
                offenders.append(f"{model._meta.label}.{field.name} -> public")
    assert offenders == []


def test_no_database_foreign_key_or_sequence_crosses_schemas(tenant_a, tenant_b):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT src.nspname, c.conname, dst.nspname
            FROM pg_constraint c
            JOIN pg_class s ON s.oid = c.conrelid JOIN pg_namespace src ON src.oid = s.relnamespace
            JOIN pg_class d ON d.oid = c.confrelid JOIN pg_namespace dst ON dst.oid = d.relnamespace
            WHERE c.contype = 'f' AND src.nspname <> dst.nspname
            """
        )
        cross_fks = cursor.fetchall()
        cursor.execute(
            """
            SELECT tn.nspname, t.relname, sn.nspname, seq.relname
            FROM pg_depend dep
            JOIN pg_class seq ON seq.oid = dep.objid AND seq.relkind = 'S'
            JOIN pg_namespace sn ON sn.oid = seq.relnamespace
            JOIN pg_class t ON t.oid = dep.refobjid
            JOIN pg_namespace tn ON tn.oid = t.relnamespace
            WHERE dep.deptype IN ('a', 'i') AND sn.nspname <> tn.nspname
            """
        )
        cross_owned = cursor.fetchall()
        cursor.execute(
            """
            SELECT n.nspname, c.relname, pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%'
              AND n.nspname IN (%s, %s)
            """,
            [tenant_a.schema_name, tenant_b.schema_name],
        )
        defaults = cursor.fetchall()
    assert cross_fks == []
    assert cross_owned == []
    # Unqualified nextval('x_seq') resolves in the table's own schema; a qualified one must
    # name that same schema.
    foreign = [
        (schema, table, expr)
        for schema, table, expr in defaults
        if (m := re.search(r"nextval\('(?:\"?([^\".']+)\"?\.)?", expr))
        and m.group(1)
        and m.group(1) != schema
    ]
    assert foreign == []


SCHEMA_NAMED = re.compile(r'(?<![\w"])"?(public|alpha|beta|_tenant_template)"?\."', re.I)


def test_tenant_requests_name_no_schema_and_read_nothing_public_when_warm(family_a):
    offering = make_offering(name="Beam", capacity=5)
    client = family_a.client()
    paths = [
        "/api/v1/portal",
        "/api/v1/offerings",
        f"/api/v1/offerings/{offering.pk}",
        "/api/v1/cart",
        "/api/v1/family",
        "/",
        "/classes/",
    ]
    for path in paths:  # warm the per-process caches
        client.get(path)
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as ctx:
        for path in paths:
            assert client.get(path).status_code == 200, path
            connection.set_schema_to_public()
    sql = [q["sql"] for q in ctx.captured_queries]
    assert [s for s in sql if SCHEMA_NAMED.search(s)] == []
    public_tables = ("tenants_tenant", "tenants_domain")
    assert [s for s in sql if any(t in s for t in public_tables)] == []
