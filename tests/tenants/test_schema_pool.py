import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_exists

from tenants import schema_pool
from tenants.models import SpareSchema, Tenant
from tenants.schema_clone import expected_migrations
from tenants.services import tenant_provision

pytestmark = pytest.mark.django_db

NEW = {"slug": "gamma", "name": "Gamma Dance", "owner_email": "owner@gamma.test"}


def test_the_session_pool_holds_one_spare_for_the_current_migrations():
    spare = SpareSchema.objects.get()
    assert spare.fingerprint == expected_migrations()[1]
    assert spare.schema_name.startswith("_spare_")
    assert schema_exists(spare.schema_name)


def test_provisioning_claims_a_spare_by_renaming_it():
    spare = SpareSchema.objects.get()
    tenant_provision(**NEW)
    assert not SpareSchema.objects.exists()
    assert not schema_exists(spare.schema_name)
    assert schema_exists("gamma")
    with connection.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM "gamma".django_migrations')
        assert cursor.fetchone()[0] == len(expected_migrations()[0])


def test_an_empty_pool_falls_back_to_cloning():
    schema_pool.pool_drain()
    assert schema_pool.schema_create(schema_name="gamma") is False
    assert schema_exists("gamma")
    assert Tenant.objects.count() == 2  # nothing else touched


def test_a_claim_refills_the_pool_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert schema_pool.schema_create(schema_name="gamma") is True
    spares = list(SpareSchema.objects.all())
    assert len(spares) == 1
    assert schema_exists(spares[0].schema_name)


def test_a_rolled_back_claim_returns_the_spare():
    spare = SpareSchema.objects.get()
    with pytest.raises(RuntimeError, match="a later step failed"), transaction.atomic():
        assert schema_pool.schema_create(schema_name="gamma") is True
        raise RuntimeError("a later step failed")
    assert SpareSchema.objects.get() == spare
    assert schema_exists(spare.schema_name)
    assert not schema_exists("gamma")


def test_fill_drops_spares_made_for_other_migrations_and_tops_up():
    old = SpareSchema.objects.get()
    SpareSchema.objects.filter(pk=old.pk).update(fingerprint="older-migrations")
    assert schema_pool.pool_fill(size=2) == 2
    assert not schema_exists(old.schema_name)
    fingerprints = set(SpareSchema.objects.values_list("fingerprint", flat=True))
    assert fingerprints == {expected_migrations()[1]}
    assert SpareSchema.objects.count() == 2
    assert schema_pool.pool_fill(size=2) == 0  # already full


def test_only_one_filler_runs_at_a_time():
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [schema_pool._FILL_LOCK_KEY])
        schema_pool.pool_drain()
        assert schema_pool.pool_fill(size=2) == 0
    finally:
        other.close()
