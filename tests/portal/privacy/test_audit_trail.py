"""The audit trail of money and enrollments is written by PostgreSQL triggers
(portal.privacy.history): in every tenant schema however it was made (template, clone, spare
pool), for saves and QuerySet.update() alike, with who acted (request or task), append-only,
and readable by staff in the admin."""

from __future__ import annotations

import pghistory.runtime
import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from portal.enrollment.models import Enrollment
from portal.privacy import history
from portal.privacy.history import context_needed, tracked_models
from portal.requests.models import MakeupToken
from portal.requests.services import makeup_tokens_expire
from tenants.schema_clone import schema_clone
from tenants.services import tenant_provision
from tests.helpers import make_actor, tenant_today
from tests.portal.enrollment_helpers import enroll, make_offering

EXPECTED = {
    "portal_attendance.Attendance",
    "portal_billing.AutopayCharge",
    "portal_billing.LedgerEntry",
    "portal_billing.Payment",
    "portal_billing.Refund",
    "portal_billing.StaffPosting",
    "portal_enrollment.Enrollment",
    "portal_enrollment.Order",
    "portal_enrollment.OrderLine",
    "portal_enrollment.RegistrationFeeCharge",
    "portal_enrollment.WaitlistEntry",
    "portal_orders.OrderTender",
    "portal_requests.MakeupToken",
    "portal_requests.Request",
    "portal_store.GiftCertificate",
    "portal_store.PunchPass",
    "portal_store.PunchRedemption",
}


def triggers_in(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND NOT t.tgisinternal",
            [schema],
        )
        return set(cursor.fetchall())


def expected_triggers() -> set[tuple[str, str]]:
    out = set()
    for model in tracked_models():
        for label in ("insert", "update", "delete"):
            out.add((model._meta.db_table, f"pgtrigger_{label}_{label}_"))
    return out


def functions_in(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = %s",
            [schema],
        )
        return {name for (name,) in cursor.fetchall()}


def assert_all_triggers(schema: str) -> None:
    # The helpers the trigger functions call live in the tenant's own schema too.
    assert {"_pgh_attach_context", "_pgtrigger_should_ignore"} <= functions_in(schema)
    found = triggers_in(schema)
    for table, prefix in expected_triggers():
        assert any(t == table and name.startswith(prefix) for t, name in found), (
            schema,
            table,
            prefix,
        )


def test_the_tracked_models_are_the_money_and_enrollment_models():
    assert {m._meta.label for m in tracked_models()} == EXPECTED


@pytest.mark.django_db
def test_the_session_tenants_and_a_fresh_clone_have_every_trigger(tenant_a):
    assert_all_triggers(tenant_a.schema_name)
    schema_clone(schema_name="audit_clone")  # rolled back with the test's transaction
    assert_all_triggers("audit_clone")
    with schema_context("audit_clone"):
        assert MakeupToken.objects.count() == 0


@pytest.mark.integration
def test_a_tenant_provisioned_from_the_spare_pool_records_changes(committed):
    today = tenant_today()
    committed.append("auditpool")
    tenant = tenant_provision(slug="auditpool", name="Audit Pool", owner_email="o@ap.test").tenant
    connection.set_schema_to_public()
    assert_all_triggers(tenant.schema_name)
    with tenant_context(tenant):
        from tests.factories import GuardianFactory, ProgramFactory, StudentFactory

        guardian = GuardianFactory(email="p@ap.test")
        student = StudentFactory(family=guardian.family)
        token = MakeupToken.objects.create(
            family=guardian.family,
            student=student,
            program=ProgramFactory(),
            kind="class",
            expires_on=today,
        )
        MakeupToken.objects.filter(pk=token.pk).update(status="expired")
        events = token.events.order_by("pgh_id")
        assert [(e.pgh_label, e.status) for e in events] == [
            ("insert", "available"),
            ("update", "expired"),
        ]


def test_an_audit_batch_refuses_to_run_outside_a_transaction(committed):
    """Its entries must commit or roll back with the changes they record
    (tests/security/test_privacy.py holds what it writes)."""
    from portal.privacy.audit import audit_batch

    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"), audit_batch():
        pass


@pytest.mark.django_db
def test_a_queryset_update_is_recorded(family_a):
    today = tenant_today()
    enrollment = enroll(family_a.family, family_a.student, make_offering(tuition=0))
    Enrollment.objects.filter(pk=enrollment.pk).update(status="dropped", end_date=today)
    last = enrollment.events.order_by("-pgh_id").first()
    assert (last.pgh_label, last.status, last.end_date) == ("update", "dropped", today)
    assert not hasattr(last, "staff_note")  # personal text is never copied


@pytest.mark.django_db
def test_a_service_update_in_bulk_is_recorded(family_a):
    today = tenant_today()
    program = make_offering().program
    token = MakeupToken.objects.create(
        family=family_a.family,
        student=family_a.student,
        program=program,
        kind="class",
        expires_on=today - timezone.timedelta(days=1),
    )
    assert makeup_tokens_expire() == 1
    assert [e.pgh_label for e in token.events.order_by("pgh_id")] == ["insert", "update"]


@pytest.mark.django_db
def test_the_history_is_append_only(family_a):
    today = tenant_today()
    program = make_offering().program
    token = MakeupToken.objects.create(
        family=family_a.family, student=family_a.student, program=program, kind="class",
        expires_on=today,
    )  # fmt: skip
    event = token.events.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        type(event).objects.filter(pk=event.pk).update(status="expired")
    with pytest.raises(DatabaseError), transaction.atomic():
        type(event).objects.filter(pk=event.pk).delete()


@pytest.mark.django_db
def test_a_request_records_who_acted(family_a):
    offering = make_offering(tuition=0)
    response = family_a.client().post(
        "/api/v1/cart/items",
        {"offering": offering.pk, "student": family_a.student.pk},
        format="json",
        HTTP_X_REQUEST_ID="req-audit-1",
    )
    assert response.status_code == 201, response.content
    response = family_a.client().post("/api/v1/checkout", HTTP_X_REQUEST_ID="req-audit-2")
    assert response.status_code in (200, 201), response.content
    connection.set_tenant(family_a.tenant)
    enrollment = Enrollment.objects.get(student=family_a.student)
    event = enrollment.events.order_by("pgh_id").first()
    metadata = event.pgh_context.metadata
    assert metadata["user"] == family_a.guardian.user.pk
    assert metadata["user_email"] == family_a.guardian.email
    assert metadata["actor"] == "family"
    assert metadata["request_id"] == "req-audit-2"
    assert metadata["url"] == "/api/v1/checkout" and metadata["method"] == "POST"


@pytest.mark.django_db
def test_a_task_records_its_name(family_a):
    today = tenant_today()
    from portal.requests.tasks import expire_makeup_tokens_task

    program = make_offering().program
    token = MakeupToken.objects.create(
        family=family_a.family, student=family_a.student, program=program, kind="class",
        expires_on=today - timezone.timedelta(days=1),
    )  # fmt: skip
    expire_makeup_tokens_task.apply()
    event = token.events.order_by("-pgh_id").first()
    assert event.pgh_label == "update"
    metadata = event.pgh_context.metadata
    assert metadata["task"] == expire_makeup_tokens_task.name
    assert metadata["actor"] == "system" and metadata["task_id"]


@pytest.mark.django_db
def test_staff_read_the_history_in_the_admin_and_cannot_change_it(in_tenant_a, family_a):
    from tests.helpers import client_for

    # A paid class: reserved at checkout, active once paid (a free one is written active).
    enrollment = enroll(family_a.family, family_a.student, make_offering(tuition=12000))
    owner = make_actor(in_tenant_a, email="boss@alpha.test", staff=True, superuser=True)
    client = client_for(in_tenant_a)
    with tenant_context(in_tenant_a):
        client.force_login(owner.user)
    page = client.get("/admin/pghistory/middlewareevents/?model=portal_enrollment.Enrollment")
    assert page.status_code == 200
    html = page.content.decode()
    # One row per change: the tracked model, the object and what changed.
    assert "portal_enrollment.Enrollment" in html
    assert f'<td class="field-pgh_obj_id">{enrollment.pk}</td>' in html
    assert "{&quot;status&quot;: [&quot;reserved&quot;, &quot;active&quot;]" in html
    connection.set_tenant(in_tenant_a)
    assert client.get("/admin/pghistory/middlewareevents/add/").status_code == 403
    # The enrollment's own page links to its history.
    connection.set_tenant(in_tenant_a)
    change = client.get(f"/admin/portal_enrollment/enrollment/{enrollment.pk}/change/")
    assert change.status_code == 200
    link = f"obj=portal_enrollment.Enrollment%3A{enrollment.pk}&amp;method=tracks"
    assert link in change.content.decode()
    connection.set_tenant(in_tenant_a)
    one = client.get(
        f"/admin/pghistory/middlewareevents/?obj=portal_enrollment.Enrollment%3A{enrollment.pk}"
        "&method=tracks"
    )
    assert one.status_code == 200
    assert "{&quot;status&quot;: [&quot;reserved&quot;, &quot;active&quot;]" in one.content.decode()
    connection.set_tenant(in_tenant_a)
    assert enrollment.events.exists()
    coach = make_actor(in_tenant_a, email="coach@alpha.test", staff=True)
    client = client_for(in_tenant_a)
    with tenant_context(in_tenant_a):
        client.force_login(coach.user)
    assert client.get("/admin/pghistory/middlewareevents/").status_code == 403


@pytest.mark.parametrize(
    ("sql", "needed"),
    [
        ('INSERT INTO "portal_enrollment_enrollment" ("family_id") VALUES (%s)', True),
        ('UPDATE "portal_enrollment_order" SET "status" = %s WHERE "id" = %s', True),
        ('DELETE FROM "portal_billing_payment" WHERE "id" = %s', True),
        ('update "alpha"."portal_store_punchpass" set "uses" = 1', True),
        ('INSERT INTO "portal_privacy_auditentry" ("at") VALUES (%s)', False),
        ("UPDATE portal_catalog_offering AS o SET seats_taken = 3 WHERE o.id = %s", False),
        ('DELETE FROM ONLY "bench-opening"."portal_enrollment_hold" WHERE id = 1', False),
        ('SAVEPOINT "s1_x2"', False),
        ('RELEASE SAVEPOINT "s1_x2"', False),
        ('ROLLBACK TO SAVEPOINT "s1_x2"', False),
        ("SET LOCAL lock_timeout = '3s'", False),
        (b'INSERT INTO "portal_activity_activityitem" ("kind") VALUES (%s)', False),
        # Anything whose target is not in its first words keeps the context.
        ("WITH x AS (SELECT 1) UPDATE portal_catalog_offering SET seats_taken = 0", True),
        ("MERGE INTO portal_enrollment_enrollment e USING x ON true WHEN MATCHED DO NOTHING", True),
        ("COPY portal_enrollment_enrollment FROM STDIN", True),
        ("TRUNCATE portal_enrollment_enrollment", True),
    ],
)
def test_only_statements_that_may_fire_a_history_trigger_carry_the_context(sql, needed):
    assert context_needed(sql) is needed


def test_pghistory_opens_its_contexts_with_the_narrower_wrapper():
    assert pghistory.runtime._inject_history_context is history._inject_where_needed


@pytest.mark.django_db
def test_every_table_with_history_triggers_is_known_to_the_wrapper(tenant_a):
    """The wrapper leaves the context out of writes to tables it does not know as tracked:
    every table the database has history triggers on must be one it knows."""
    triggered = {
        table
        for table, name in triggers_in(tenant_a.schema_name)
        if name.startswith(("pgtrigger_insert_", "pgtrigger_update_", "pgtrigger_delete_"))
    }
    assert triggered and triggered <= history._tracked_tables()


@pytest.mark.django_db
def test_a_checkout_sends_the_context_only_with_its_tracked_writes(family_a):
    offering = make_offering(tuition=0)
    client = family_a.client()
    response = client.post(
        "/api/v1/cart/items",
        {"offering": offering.pk, "student": family_a.student.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/checkout", HTTP_X_REQUEST_ID="req-audit-3")
    assert response.status_code in (200, 201), response.content
    with_context = [q["sql"] for q in queries if "pghistory.context_id" in q["sql"]]
    without = [
        q["sql"]
        for q in queries
        if "pghistory.context_id" not in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "SAVEPOINT"))
    ]
    tracked = history._tracked_tables()
    assert with_context and without
    for sql in with_context:
        table = sql.split("; ", 1)[1].split('"')[1]
        assert table in tracked, sql
    for sql in without:
        assert not any(f'"{table}"' in sql.split(" (", 1)[0] for table in tracked), sql
    # And the tracked rows still name the request.
    connection.set_tenant(family_a.tenant)
    enrollment = Enrollment.objects.get(student=family_a.student)
    assert {e.pgh_context.metadata["request_id"] for e in enrollment.events.all()} == {
        "req-audit-3"
    }
