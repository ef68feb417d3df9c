"""A published (or removed) theme version reaches every process's cache at once."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from kernel.process_cache import tenant_config

from .models import ThemeVersion


@receiver(post_save, sender=ThemeVersion, dispatch_uid="theming_version_saved")
@receiver(post_delete, sender=ThemeVersion, dispatch_uid="theming_version_deleted")
def theme_version_changed(sender, instance, **kwargs) -> None:
    tenant_config.invalidate()
