"""The family data export works every time: it reads in one REPEATABLE READ READ ONLY
snapshot, so writes committing while it runs (real PostgreSQL, other threads on their own
connections) never make it fail, and it never mixes rows from before and after a write."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from portal.accounts.models import EmergencyContact, Family, Student
from portal.privacy.models import AuditEntry
from portal.privacy.services import family_export
from tenants.services import tenant_provision
from tests.factories import GuardianFactory, StudentFactory

EXPORTS = 25


@pytest.fixture
def export_tenant(committed):
    committed.append("exportrace")
    tenant = tenant_provision(
        slug="exportrace", name="Export Races", owner_email="o@export.test"
    ).tenant
    connection.set_schema_to_public()
    return tenant


def _writer(tenant, family_id: int, stop: threading.Event, errors: list, kind: str) -> None:
    """Commits, in a loop, changes that keep an invariant inside each transaction: the family's
    name counts its emergency contacts; the family always has three students."""
    try:
        connection.set_tenant(tenant)
        n = 0
        while not stop.is_set():
            n += 1
            with transaction.atomic():
                family = Family.objects.select_for_update().get(pk=family_id)
                if kind == "contacts":
                    EmergencyContact.objects.create(
                        family_id=family_id, name=f"Contact {n}", phone="555-0100"
                    )
                    count = EmergencyContact.objects.filter(family_id=family_id).count()
                    family.name = f"Export family {count}"
                    family.save(update_fields=["name"])
                else:
                    oldest = Student.objects.filter(family_id=family_id).order_by("pk").first()
                    Student.objects.create(
                        family_id=family_id,
                        first_name=f"Kid {n}",
                        last_name="Export",
                        date_of_birth=oldest.date_of_birth,
                    )
                    oldest.delete()
    except Exception as exc:  # reported by the test
        errors.append(f"{kind} writer: {exc!r}")
    finally:
        connection.close()


@pytest.mark.integration
def test_export_succeeds_and_is_consistent_while_others_write(export_tenant):
    with tenant_context(export_tenant):
        guardian = GuardianFactory(email="parent@export.test")
        family = guardian.family
        Family.objects.filter(pk=family.pk).update(name="Export family 0")
        for name in ("Ana", "Ben", "Cy"):
            StudentFactory(family=family, first_name=name)
    stop = threading.Event()
    errors: list[str] = []
    writers = [
        threading.Thread(target=_writer, args=(export_tenant, family.pk, stop, errors, kind))
        for kind in ("contacts", "students")
    ]
    for writer in writers:
        writer.start()
    outcomes = []
    try:
        connection.set_tenant(export_tenant)
        for _ in range(EXPORTS):
            try:
                data = family_export(family=Family.objects.get(pk=family.pk))
            except Exception as exc:
                outcomes.append(f"failed: {exc!r}")
                continue
            name = data["family"]["name"]
            contacts = len(data["emergency_contacts"])
            students = len(data["students"])
            if name != f"Export family {contacts}" or students != 3:
                outcomes.append(f"inconsistent: {name!r}, {contacts} contacts, {students} kids")
            else:
                outcomes.append("ok")
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=60)
    assert errors == []
    assert outcomes == ["ok"] * EXPORTS, outcomes
    with tenant_context(export_tenant):
        # The writers really wrote meanwhile, and every export was audited.
        assert EmergencyContact.objects.filter(family=family).count() > 0
        assert AuditEntry.objects.filter(action="export", family_id=family.pk).count() == EXPORTS
    connection.set_schema_to_public()


@pytest.mark.integration
def test_export_reads_in_a_repeatable_read_read_only_transaction(export_tenant, monkeypatch):
    import portal.privacy.services as privacy

    seen = []
    real = privacy._export_read

    def spy(family_id):
        with connection.cursor() as cursor:
            cursor.execute("SHOW transaction_isolation")
            isolation = cursor.fetchone()[0]
            cursor.execute("SHOW transaction_read_only")
            seen.append((isolation, cursor.fetchone()[0]))
        return real(family_id)

    monkeypatch.setattr(privacy, "_export_read", spy)
    with tenant_context(export_tenant):
        family = GuardianFactory(email="parent@export.test").family
        family_export(family=family)
        assert AuditEntry.objects.filter(action="export", family_id=family.pk).count() == 1
    connection.set_schema_to_public()
    assert seen == [("repeatable read", "on")]
