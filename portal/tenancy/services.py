"""Writes about a business's standing that need its schema's facts: launching (only once the
launch checklist is complete)."""

from __future__ import annotations

from saas_platform.errors import ApplicationError
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.selectors import tenant_get

from .selectors import launch_checklist


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
