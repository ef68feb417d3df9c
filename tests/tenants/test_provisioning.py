import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from kernel.errors import ApplicationError
from kernel.users.models import User
from tenants import hooks, routing, schema_clone, schema_pool
from tenants.models import Domain, SchemaTemplate, Tenant
from tenants.services import (
    tenant_owner_set_password_url,
    tenant_provision,
    tenant_reactivate,
    tenant_register,
    tenant_suspend,
)
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

NEW = {"slug": "gamma", "name": "Gamma Dance", "owner_email": "Owner@Gamma.test"}


def _structure(schema: str) -> dict:
    """Tables, columns, constraints, indexes and sequences of a schema, names normalised."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity "
            "FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 2",
            [schema],
        )
        columns = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = %s::regnamespace ORDER BY 1, 2",
            [f'"{schema}"'],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = %s ORDER BY 1, 2",
            [schema],
        )
        indexes = cursor.fetchall()
        cursor.execute("SELECT app, name FROM " + f'"{schema}".django_migrations ORDER BY id')
        migrations = cursor.fetchall()
    text = repr((columns, constraints, indexes))
    text = text.replace(f'"{schema}".', "").replace(f"{schema}.", "")
    # pg_dump prints a partial index's IN-list with the casts moved inside the array; PostgreSQL
    # then stores the same predicate in that spelling. Compare without casts and parentheses.
    text = re.sub(r"::[a-z ]+(\[\])?|[()]", "", text)
    return {
        "ddl": text,
        "migrations": migrations,
    }


@pytest.mark.integration  # runs every migration on a fresh schema (the slow path), seconds
def test_clone_is_identical_to_a_migrated_schema():
    schema_clone.schema_migrate(schema_name="migrated_copy")
    schema_clone.schema_clone(schema_name="cloned_copy")
    migrated, cloned = _structure("migrated_copy"), _structure("cloned_copy")
    assert cloned["ddl"] == migrated["ddl"]
    assert cloned["migrations"] == migrated["migrations"]
    assert len(cloned["migrations"]) > 10


def test_clone_copies_rows_written_by_migrations_and_sequences_continue():
    schema_clone.schema_clone(schema_name="seq_check")
    with connection.cursor() as cursor:
        cursor.execute('SELECT count(*), max(id) FROM "seq_check".django_content_type')
        count, max_id = cursor.fetchone()
        cursor.execute(
            'INSERT INTO "seq_check".django_content_type (app_label, model) '
            "VALUES ('x', 'y') RETURNING id"
        )
        new_id = cursor.fetchone()[0]
        cursor.execute('SELECT count(*) FROM "seq_check".auth_permission')
        permissions = cursor.fetchone()[0]
    assert count > 0
    assert new_id == max_id + 1
    assert permissions > 0


def test_provision_creates_a_routable_tenant_with_owner_settings_and_link():
    result = tenant_provision(**NEW)
    tenant = result.tenant
    assert result.created
    assert tenant.status == Tenant.Status.ACTIVE
    assert tenant.provisioned_at is not None
    assert tenant.owner_email == "owner@gamma.test"
    assert list(tenant.domains.values_list("domain", "is_primary")) == [
        ("gamma.testserver.local", True)
    ]
    assert schema_exists("gamma")
    with tenant_context(tenant):
        owner = User.objects.get()
        assert owner.email == "owner@gamma.test"
        assert owner.is_staff and owner.is_superuser
        assert not owner.has_usable_password()
        from portal.config.models import PortalSettings

        assert PortalSettings.objects.get().welcome_heading == "Welcome to Gamma Dance"
    assert result.set_password_url.startswith("http://gamma.testserver.local/account/set-password/")
    connection.set_schema_to_public()
    # Routable, but not launched: families see "opening soon" until the platform launches it.
    assert tenant.launched_at is None
    response = client_for(tenant).get("/")
    assert response.status_code == 503
    assert "customer portal is opening soon" in response.content.decode()
    Tenant.objects.filter(pk=tenant.pk).update(launched_at=timezone.now())
    routing.router.clear()
    response = client_for(tenant).get("/")
    assert response.status_code == 200
    assert b"Gamma Dance" in response.content


def test_owner_gets_the_set_password_email_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = tenant_provision(**NEW)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@gamma.test"]
    assert message.subject == "Your Gamma Dance portal is ready"
    assert result.set_password_url in message.body


def test_set_password_link_lets_the_owner_sign_in():
    result = tenant_provision(**NEW)
    client = client_for(result.tenant)
    path = result.set_password_url.removeprefix("http://gamma.testserver.local")
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert b"Choose your password" in response.content
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "a-long-pass-phrase-9", "new_password2": "a-long-pass-phrase-9"}
    )
    assert response.status_code == 302
    with tenant_context(result.tenant):
        assert User.objects.get(email="owner@gamma.test").check_password("a-long-pass-phrase-9")
    connection.set_schema_to_public()
    assert tenant_owner_set_password_url(tenant=result.tenant) is None
    # The link is single-use.
    response = client.get(path, follow=True)
    assert b"This link has expired" in response.content


def test_provisioning_twice_is_refused_unless_exist_ok():
    tenant_provision(**NEW)
    with pytest.raises(ApplicationError) as excinfo:
        tenant_provision(**NEW)
    assert excinfo.value.code == "slug_taken"
    again = tenant_provision(**NEW, exist_ok=True)
    assert not again.created
    assert Tenant.objects.filter(schema_name="gamma").count() == 1
    assert Domain.objects.filter(tenant__schema_name="gamma").count() == 1


def test_duplicate_slug_is_refused_and_nothing_changes(tenant_a):
    before = Tenant.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        tenant_register(name="Other", slug=tenant_a.schema_name, owner_email="x@y.test")
    assert excinfo.value.code == "slug_taken"
    assert excinfo.value.status == 409
    assert Tenant.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"slug": "www"}, "slug_reserved"),
        ({"slug": "Bad Slug"}, "slug_invalid_characters"),
        ({"name": "  "}, "name_required"),
        ({"name": "x" * 101}, "name_too_long"),
        ({"owner_email": "not-an-email"}, "owner_email_invalid"),
        ({"contact_email": "nope@"}, "contact_email_invalid"),
        ({"timezone_name": "Mars/Olympus"}, "timezone_invalid"),
        ({"currency": "XYZ"}, "currency_unsupported"),
        ({"locale": "tlh"}, "locale_unsupported"),
    ],
)
def test_bad_details_are_refused_with_their_own_code(changes, code):
    with pytest.raises(ApplicationError) as excinfo:
        tenant_provision(**{**NEW, **changes})
    assert excinfo.value.code == code
    assert not Tenant.objects.filter(schema_name=changes.get("slug", "gamma")).exists()
    assert not schema_exists("gamma")


def test_a_failing_step_leaves_nothing_that_routes_and_resume_finishes(monkeypatch):
    def broken_hook(*, tenant):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(hooks._hooks, "tests.broken", broken_hook)
    with pytest.raises(ApplicationError) as excinfo:
        tenant_provision(**NEW)
    assert excinfo.value.code == "provisioning_failed"
    tenant = Tenant.objects.get(schema_name="gamma")
    assert tenant.status == Tenant.Status.PROVISIONING
    assert tenant.provisioning_error == "RuntimeError: disk on fire"
    assert not Domain.objects.filter(tenant=tenant).exists()
    with tenant_context(tenant):
        assert not User.objects.exists()  # the owner was rolled back with the failing step
    connection.set_schema_to_public()
    assert client_for(tenant).get("/").status_code == 404

    monkeypatch.delitem(hooks._hooks, "tests.broken")
    result = tenant_provision(slug="gamma")
    assert result.created
    assert result.tenant.status == Tenant.Status.ACTIVE
    assert result.tenant.provisioning_error == ""
    routing.router.clear()
    assert client_for(result.tenant).get("/console/login/").status_code == 200


def test_a_failing_clone_creates_no_schema(monkeypatch):
    schema_pool.pool_drain()  # force the inline clone
    monkeypatch.setattr(schema_clone, "render_ddl", lambda template, name: "CREATE TABLE broken (")
    with pytest.raises(ApplicationError) as excinfo:
        tenant_provision(**NEW)
    assert excinfo.value.code == "provisioning_failed"
    assert not schema_exists("gamma")
    assert Tenant.objects.get(schema_name="gamma").provisioning_error.startswith("ProgrammingError")


def test_resuming_an_unknown_slug_without_details_is_not_found():
    with pytest.raises(ApplicationError) as excinfo:
        tenant_provision(slug="nobody")
    assert excinfo.value.code == "tenant_not_found"


def test_a_stale_template_cannot_be_refreshed_inside_a_transaction():
    SchemaTemplate.objects.update(fingerprint="stale")
    schema_clone.template_forget()
    with pytest.raises(ApplicationError) as excinfo:
        tenant_provision(**NEW)
    assert excinfo.value.code == "template_refresh_in_transaction"
    assert not schema_exists("gamma")


def test_suspend_and_reactivate(tenant_a):
    assert tenant_suspend(slug=tenant_a.schema_name).status == Tenant.Status.SUSPENDED
    assert tenant_suspend(slug=tenant_a.schema_name).status == Tenant.Status.SUSPENDED  # idempotent
    assert tenant_reactivate(slug=tenant_a.schema_name).status == Tenant.Status.ACTIVE


def test_reactivating_an_active_tenant_is_a_noop_and_provisioning_one_is_refused(tenant_a):
    assert tenant_reactivate(slug=tenant_a.schema_name).status == Tenant.Status.ACTIVE
    tenant_register(name="Half", slug="half", owner_email="o@half.test")
    with pytest.raises(ApplicationError) as excinfo:
        tenant_suspend(slug="half")
    assert excinfo.value.code == "invalid_status_transition"
    assert excinfo.value.status == 409
    with pytest.raises(ApplicationError) as excinfo:
        tenant_suspend(slug="missing")
    assert excinfo.value.code == "tenant_not_found"


def test_cli_tenant_create(capsys):
    call_command(
        "tenant_create", "--name", "Gamma Dance", "--slug", "gamma", "--owner-email", "o@gamma.test"
    )
    out = capsys.readouterr().out
    assert "Provisioned Gamma Dance at http://gamma.testserver.local/" in out
    assert "http://gamma.testserver.local/account/set-password/" in out
    assert Tenant.objects.get(schema_name="gamma").status == Tenant.Status.ACTIVE


def test_cli_reports_bad_input_without_a_traceback():
    with pytest.raises(
        CommandError, match=r"The slug “api” is reserved; choose another. \[slug_reserved\]"
    ):
        call_command("tenant_create", "--name", "X", "--slug", "api", "--owner-email", "o@x.test")


def test_cli_suspend(tenant_a, capsys):
    call_command("tenant_suspend", tenant_a.schema_name)
    assert "is suspended" in capsys.readouterr().out
    call_command("tenant_suspend", tenant_a.schema_name, "--reactivate")
    assert "is active" in capsys.readouterr().out
    with pytest.raises(CommandError, match="tenant_not_found"):
        call_command("tenant_suspend", "missing")
