"""Template refresh needs committed DDL (pg_dump reads through its own connection), so these
tests run outside the per-test transaction and clean up after themselves."""

import pytest
from django_tenants.utils import schema_exists

from tenants import schema_clone
from tenants.models import SchemaTemplate, Tenant
from tenants.services import tenant_provision

# Each test migrates the template schema from scratch and runs pg_dump (seconds each).
pytestmark = pytest.mark.integration


def test_a_stale_template_is_refreshed_before_cloning(committed, monkeypatch):
    SchemaTemplate.objects.update(fingerprint="stale")
    schema_clone.template_forget()
    refreshed = []
    original = schema_clone.template_refresh

    def spy(**kwargs):
        refreshed.append(True)
        return original(**kwargs)

    monkeypatch.setattr(schema_clone, "template_refresh", spy)
    committed.append("delta")
    result = tenant_provision(slug="delta", name="Delta Karate", owner_email="o@delta.test")
    assert refreshed == [True]
    assert result.tenant.status == Tenant.Status.ACTIVE
    assert schema_exists("delta")
    template = SchemaTemplate.objects.get()
    assert template.fingerprint == schema_clone.expected_migrations()[1]
    assert {table for table, _ in template.seeded_tables} >= {
        "django_migrations",
        "django_content_type",
    }


def test_refresh_command_reports_what_it_captured(committed, capsys):
    from django.core.management import call_command

    call_command("tenant_template_refresh")
    out = capsys.readouterr().out
    assert "Template _tenant_template refreshed in" in out
    assert "seeded tables" in out
