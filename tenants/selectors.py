from __future__ import annotations

from django.db.models import Q, QuerySet

from .errors import TenantNotFound
from .models import Plan, Tenant


def tenant_list(*, status: str | None = None, q: str | None = None) -> QuerySet[Tenant]:
    qs = Tenant.objects.prefetch_related("domains").order_by("name", "schema_name")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(schema_name__icontains=q))
    return qs


def tenant_list_with_plans(*, status: str | None = None, q: str | None = None) -> list[Tenant]:
    """``tenant_list`` with each tenant's plan and subscription, at most 200 (the platform
    console's list)."""
    return list(tenant_list(status=status, q=q).select_related("plan", "subscription")[:200])


def plan_list_active() -> QuerySet[Plan]:
    """The plans a business can be put on."""
    return Plan.objects.filter(is_active=True)


def tenant_get(*, slug: str) -> Tenant:
    tenant = Tenant.objects.prefetch_related("domains").filter(schema_name=slug).first()
    if tenant is None:
        raise TenantNotFound(slug)
    return tenant


def directory_list(*, q: str | None = None) -> QuerySet[Tenant]:
    """Businesses the shared mobile app and the platform's landing page may list: active,
    launched, and not opted out of the directory."""
    return tenant_list(status=Tenant.Status.ACTIVE, q=q).filter(
        launched_at__isnull=False, listed_in_directory=True
    )
