"""The business's standing read from its schema: health and usage (one query per business,
cached), and the launch checklist that launching enforces."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from portal.accounts.models import Policy
from portal.billing.models import Payment
from portal.enrollment.models import Enrollment, Order
from portal.tenancy import selectors
from portal.tenancy.services import tenant_launch_checked
from tenants.models import Tenant
from tenants.services import tenant_provision
from tests.factories import GuardianFactory, OfferingFactory, StudentFactory
from theming.services import theme_publish

pytestmark = pytest.mark.django_db


def _usage_world(tenant: Tenant) -> None:
    with tenant_context(tenant):
        guardian = GuardianFactory()
        first = StudentFactory(family=guardian.family)
        second = StudentFactory(family=guardian.family)
        offering = OfferingFactory()
        today = timezone.localdate()
        for student, status in ((first, "active"), (second, "pending")):
            Enrollment.objects.create(
                family=guardian.family,
                student=student,
                offering=offering,
                status=status,
                start_date=today,
            )
        Enrollment.objects.create(
            family=guardian.family,
            student=StudentFactory(family=guardian.family),
            offering=offering,
            status="dropped",
            start_date=today,
        )
        order = Order.objects.create(
            family=guardian.family,
            currency="USD",
            subtotal=12000,
            total=12000,
            idempotency_key="u1",
            status="confirmed",
        )
        for n, (status, amount, refunded, age) in enumerate(
            [
                ("succeeded", 12000, 2000, 1),  # 100.00 kept
                ("succeeded", 5000, 0, 45),  # outside the 30 days
                ("failed", 7000, 0, 2),  # an error
            ]
        ):
            when = timezone.now() - timedelta(days=age)
            Payment.objects.create(
                family=guardian.family,
                order=order,
                amount=amount,
                amount_refunded=refunded,
                currency="USD",
                status=status,
                stripe_payment_intent_id=f"pi_u{n}",
                attempt=n + 1,
                created_at=when,
                succeeded_at=when if status == "succeeded" else None,
            )
    connection.set_schema_to_public()


def test_usage_counts_one_query_per_business_and_is_cached(tenant_a, django_assert_num_queries):
    _usage_world(tenant_a)
    Tenant.objects.count()  # the connection sets its search path back to public first
    with django_assert_num_queries(1):
        usage = selectors.tenant_usage(tenant=tenant_a, fresh=True)
    assert usage.families >= 1
    assert usage.enrollments >= 1
    assert usage.active_students >= 2  # active and pending count; dropped does not
    assert usage.revenue_30d >= 10000
    assert usage.errors_30d >= 1
    assert usage.last_activity is not None
    with django_assert_num_queries(0):
        cached = selectors.tenant_usage(tenant=tenant_a)
    assert cached == usage
    assert selectors.active_students_count(schema_name=tenant_a.schema_name) == (
        usage.active_students
    )


def test_usage_of_a_business_without_a_schema_is_zero():
    tenant = Tenant.objects.create(
        schema_name="ghost", name="Ghost", owner_email="o@ghost.test", contact_email="o@ghost.test"
    )
    usage = selectors.tenant_usage(tenant=tenant, fresh=True)
    assert (usage.families, usage.enrollments, usage.revenue_30d, usage.errors_30d) == (0, 0, 0, 0)
    assert selectors.launch_checklist(tenant=tenant).missing == [
        "payments_connected",
        "branding_published",
        "catalog_not_empty",
        "policies_set",
    ]


def test_launch_is_refused_until_every_item_is_done_and_changes_nothing():
    tenant = tenant_provision(slug="kappa", name="Kappa Karate", owner_email="o@kappa.test").tenant
    connection.set_schema_to_public()
    checklist = selectors.launch_checklist(tenant=tenant)
    assert not checklist.complete
    assert checklist.missing == [
        "payments_connected",
        "branding_published",  # the provisioning default theme does not count
        "catalog_not_empty",
        "policies_set",
    ]
    with pytest.raises(ApplicationError) as refused:
        tenant_launch_checked(slug="kappa")
    assert refused.value.code == "launch_checklist_incomplete"
    assert refused.value.status == 409
    assert refused.value.fields == {"checklist": checklist.missing}
    assert Tenant.objects.get(pk=tenant.pk).launched_at is None
    Tenant.objects.filter(pk=tenant.pk).update(
        stripe_account_id="acct_k", stripe_charges_enabled=True
    )
    with tenant_context(tenant):
        theme_publish(published_by="o@kappa.test")
        OfferingFactory(status="draft")  # a draft class is not a catalog
        Policy.objects.create(title="Rules", body="…", is_active=False)
    connection.set_schema_to_public()
    tenant.refresh_from_db()
    assert selectors.launch_checklist(tenant=tenant).missing == [
        "catalog_not_empty",
        "policies_set",
    ]
    with tenant_context(tenant):
        OfferingFactory()
        Policy.objects.create(title="Waiver", body="…", kind="waiver")
    connection.set_schema_to_public()
    launched = tenant_launch_checked(slug="kappa")
    assert launched.launched_at is not None
    assert tenant_launch_checked(slug="kappa").launched_at == launched.launched_at
    with pytest.raises(ApplicationError) as unknown:
        tenant_launch_checked(slug="nope")
    assert unknown.value.code == "tenant_not_found"


def test_a_suspended_business_cannot_be_launched():
    from tenants.services import tenant_launch, tenant_suspend

    tenant_provision(slug="lambda", name="Lambda Swim", owner_email="o@lambda.test")
    connection.set_schema_to_public()
    tenant_suspend(slug="lambda")
    with pytest.raises(ApplicationError) as refused:
        tenant_launch(slug="lambda")
    assert refused.value.code == "invalid_status_transition"
    assert Tenant.objects.get(schema_name="lambda").launched_at is None
