"""Saved settings reach every process's cache (``kernel.process_cache``) at once."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from kernel.process_cache import tenant_config

from .models import Announcement, PortalSettings


@receiver(post_save, sender=PortalSettings, dispatch_uid="config_settings_saved")
@receiver(post_delete, sender=PortalSettings, dispatch_uid="config_settings_deleted")
def portal_settings_changed(sender, instance, **kwargs) -> None:
    from portal.catalog.search_cache import catalog_changed

    tenant_config.invalidate()
    catalog_changed()  # search pages follow settings (kinds shown, levels shown)


@receiver(post_save, sender=Announcement, dispatch_uid="config_announcement_saved")
@receiver(post_delete, sender=Announcement, dispatch_uid="config_announcement_deleted")
@receiver(
    m2m_changed, sender=Announcement.programs.through, dispatch_uid="config_announcement_programs"
)
def announcement_changed(sender, instance, **kwargs) -> None:
    tenant_config.invalidate()  # the banners every page shows (selectors.announcement_banners)
