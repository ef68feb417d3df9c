"""Saved settings reach every process's cache (``kernel.process_cache``) at once."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from kernel.process_cache import tenant_config

from .models import PortalSettings


@receiver(post_save, sender=PortalSettings, dispatch_uid="config_settings_saved")
@receiver(post_delete, sender=PortalSettings, dispatch_uid="config_settings_deleted")
def portal_settings_changed(sender, instance, **kwargs) -> None:
    from portal.catalog.search_cache import catalog_changed

    tenant_config.invalidate()
    catalog_changed()  # search pages follow settings (kinds shown, levels shown)
