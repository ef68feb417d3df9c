from __future__ import annotations

from .models import PortalSettings


def portal_settings_ensure(*, tenant=None) -> PortalSettings:
    """The tenant's settings row, created with defaults when missing (provisioning hook; runs
    in the tenant's schema, idempotent)."""
    defaults = {}
    if tenant is not None:
        defaults["welcome_heading"] = f"Welcome to {tenant.name}"
    settings_row, _ = PortalSettings.objects.get_or_create(
        id=PortalSettings.SINGLETON_ID, defaults=defaults
    )
    return settings_row
