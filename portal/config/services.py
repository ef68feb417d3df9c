from __future__ import annotations

from django.db import transaction

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


@transaction.atomic
def portal_settings_update(**changes) -> PortalSettings:
    """Change settings, validating the whole row (staff admin and API use this)."""
    row = PortalSettings.objects.select_for_update().get(id=PortalSettings.SINGLETON_ID)
    for field, value in changes.items():
        setattr(row, field, value)
    row.full_clean()
    row.save()
    return row
