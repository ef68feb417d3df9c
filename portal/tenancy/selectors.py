"""Reads of a business's schema for the platform: the launch checklist and health/usage.

Each reads one tenant's schema with ONE query (schema-qualified tables, so the connection's
search path is not switched), and usage is cached per tenant for ``USAGE_TTL`` seconds: the
platform console lists every business on one page."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.users.models import User
from portal.accounts.models import Family, Policy
from portal.billing.models import AutopayCharge, Payment, StripeEvent
from portal.catalog.models import Offering
from portal.enrollment.models import Enrollment
from portal.outbox.models import OutboxMessage
from tenants.models import Tenant
from theming.models import ThemeVersion

USAGE_TTL = 300
_WINDOW = timedelta(days=30)


def _table(schema: str, model: type[models.Model]) -> str:
    return f'"{schema}"."{model._meta.db_table}"'


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool
    hint: str


@dataclass(frozen=True)
class LaunchChecklist:
    items: list[ChecklistItem]

    @property
    def complete(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def missing(self) -> list[str]:
        return [item.key for item in self.items if not item.done]


def _schema_ready(tenant: Tenant) -> bool:
    """Active and suspended businesses have their schema (provisioning creates it before it
    marks them active; offboarding drops it after marking them offboarded)."""
    return tenant.status in (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED)


def launch_checklist(*, tenant: Tenant) -> LaunchChecklist:
    """What a business needs before it goes public: payments connected (Stripe says charges
    are enabled on its connected account), branding published by the business (a theme
    version beyond the provisioning default), a published class, camp or event, and an
    active policy (rules, waiver or billing authorisation) for families to accept."""
    branded = catalog = policies = False
    if _schema_ready(tenant):
        schema = tenant.schema_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {_table(schema, ThemeVersion)}"
                "   WHERE published_by <> '' AND published_by <> 'provisioning'),"
                f" EXISTS (SELECT 1 FROM {_table(schema, Offering)} WHERE status = %s),"
                f" EXISTS (SELECT 1 FROM {_table(schema, Policy)} WHERE is_active)",
                [Offering.Status.PUBLISHED],
            )
            branded, catalog, policies = cursor.fetchone()
    payments = bool(tenant.stripe_account_id) and tenant.stripe_charges_enabled
    return LaunchChecklist(
        items=[
            ChecklistItem(
                "payments_connected",
                str(_("Payments connected")),
                payments,
                str(_("The owner connects Stripe in the staff console (Payments).")),
            ),
            ChecklistItem(
                "branding_published",
                str(_("Branding published")),
                bool(branded),
                str(_("The owner publishes the portal's colours and logo (Branding).")),
            ),
            ChecklistItem(
                "catalog_not_empty",
                str(_("Catalog not empty")),
                bool(catalog),
                str(_("At least one published class, camp or event.")),
            ),
            ChecklistItem(
                "policies_set",
                str(_("Policies set")),
                bool(policies),
                str(_("At least one active policy (terms, waiver or billing authorization).")),
            ),
        ]
    )


@dataclass(frozen=True)
class TenantUsage:
    families: int
    enrollments: int
    active_students: int
    revenue_30d: int  # minor units of the tenant's currency, refunds deducted
    last_activity: datetime | None
    errors_30d: int  # failed card payments and autopay charges, failed webhook events
    computed_at: datetime


def _usage_key(tenant: Tenant) -> str:
    return f"platform:usage:{tenant.schema_name}"


def active_students_count(*, schema_name: str) -> int:
    """Students holding a live enrollment (reserved, pending or active): what plans limit."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(DISTINCT student_id) FROM {_table(schema_name, Enrollment)}"
            " WHERE status = ANY(%s)",
            [list(Enrollment.LIVE)],
        )
        return int(cursor.fetchone()[0])


def _usage_compute(tenant: Tenant) -> TenantUsage:
    now = timezone.now()
    if not _schema_ready(tenant):
        return TenantUsage(0, 0, 0, 0, None, 0, now)
    s = tenant.schema_name
    since = now - _WINDOW
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {_table(s, Family)}),"
            f" (SELECT count(*) FROM {_table(s, Enrollment)} WHERE status = %s),"
            f" (SELECT count(DISTINCT student_id) FROM {_table(s, Enrollment)}"
            "   WHERE status = ANY(%s)),"
            f" (SELECT coalesce(sum(amount - amount_refunded), 0) FROM {_table(s, Payment)}"
            "   WHERE status = %s AND succeeded_at >= %s),"
            f" GREATEST((SELECT max(last_login) FROM {_table(s, User)}),"
            f"   (SELECT max(created_at) FROM {_table(s, Enrollment)}),"
            f"   (SELECT max(created_at) FROM {_table(s, Payment)})),"
            f" (SELECT count(*) FROM {_table(s, Payment)} WHERE status = %s AND created_at >= %s)"
            f" + (SELECT count(*) FROM {_table(s, AutopayCharge)}"
            "   WHERE status = %s AND created_at >= %s)"
            f" + (SELECT count(*) FROM {_table(s, StripeEvent)}"
            "   WHERE error <> '' AND received_at >= %s)"
            f" + (SELECT count(*) FROM {_table(s, OutboxMessage)}"
            "   WHERE done_at IS NULL AND last_error <> '' AND created_at >= %s)",
            [
                Enrollment.Status.ACTIVE,
                list(Enrollment.LIVE),
                Payment.Status.SUCCEEDED,
                since,
                Payment.Status.FAILED,
                since,
                AutopayCharge.Status.FAILED,
                since,
                since,
                since,
            ],
        )
        row = cursor.fetchone()
    return TenantUsage(
        families=int(row[0]),
        enrollments=int(row[1]),
        active_students=int(row[2]),
        revenue_30d=int(row[3]),
        last_activity=row[4],
        errors_30d=int(row[5]),
        computed_at=now,
    )


def tenant_usage(*, tenant: Tenant, fresh: bool = False) -> TenantUsage:
    """Health and usage of one business, cached ``USAGE_TTL`` seconds (``fresh`` recomputes)."""
    key = _usage_key(tenant)
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return TenantUsage(**cached)
    usage = _usage_compute(tenant)
    cache.set(key, asdict(usage), USAGE_TTL)
    return usage
