"""Writes about a business's standing that need its schema's facts: launching (only once the
launch checklist is complete)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from kernel.errors import ApplicationError
from portal.billing.money import amount_format
from portal.enrollment.models import Enrollment
from tenants import plans
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.selectors import tenant_get

from .selectors import active_students_count, launch_checklist, tenant_usage


def tenant_launch_checked(*, slug: str) -> Tenant:
    """Launch a business whose checklist is complete: its portal opens to families and the
    directory may list it. Refused with ``launch_checklist_incomplete`` (naming what is
    missing) otherwise; launching a launched business changes nothing."""
    tenant = tenant_get(slug=slug)
    if tenant.launched_at is not None:
        return tenant
    checklist = launch_checklist(tenant=tenant)
    if not checklist.complete:
        missing = [item.label for item in checklist.items if not item.done]
        raise ApplicationError(
            "launch_checklist_incomplete",
            "Finish the launch checklist first: " + ", ".join(missing) + ".",
            status=409,
            fields={"checklist": checklist.missing},
        )
    return tenant_services.tenant_launch(slug=slug)


def plan_enrollment_check(*, student_id: int) -> None:
    """Refuse a new student once the business is over its plan's student limit and the grace
    period has ended (``plan_student_limit_reached``). A student who already holds a live
    enrollment adds nothing to the count; a business without a limited plan pays no query."""
    tenant = connection.tenant
    if not getattr(tenant, "plan_id", None):
        return
    if Enrollment.objects.filter(student_id=student_id, status__in=Enrollment.LIVE).exists():
        return
    fresh = Tenant.objects.select_related("plan").get(pk=tenant.pk)
    if fresh.plan is None or fresh.plan.student_limit is None:
        return
    standing = plans.plan_standing(
        tenant=fresh, active_students=active_students_count(schema_name=fresh.schema_name)
    )
    if standing.blocked:
        raise ApplicationError(
            "plan_student_limit_reached",
            f"{fresh.name} cannot take new students online right now. Please contact them.",
            status=409,
        )


@dataclass(frozen=True)
class PlanView:
    plan: object
    price: str
    active_students: int
    limit: int | None
    over: bool
    blocked: bool
    grace_ends: object
    subscription: object


def plan_standing_get() -> PlanView:
    """The current business's plan, subscription and standing against its limit (the staff
    console's plan page and the platform console)."""
    return plan_standing_for(
        tenant=Tenant.objects.select_related("plan").get(pk=connection.tenant.pk)
    )


def plan_standing_for(*, tenant: Tenant) -> PlanView:
    standing = plans.plan_standing(
        tenant=tenant, active_students=tenant_usage(tenant=tenant).active_students
    )
    plan = tenant.plan
    return PlanView(
        plan=plan,
        price=amount_format(plan.monthly_price, currency=plan.currency) if plan else "",
        active_students=standing.active_students,
        limit=standing.limit,
        over=standing.over,
        blocked=standing.blocked,
        grace_ends=standing.grace_ends,
        subscription=plans.subscription_get(tenant=tenant),
    )
