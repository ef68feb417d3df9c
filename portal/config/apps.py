from django.apps import AppConfig


class PortalConfigConfig(AppConfig):
    name = "portal.config"
    label = "portal_config"
    verbose_name = "Portal settings"

    def ready(self) -> None:
        from tenants.hooks import register_provisioning_hook

        from . import signals  # noqa: F401
        from .services import portal_settings_ensure

        register_provisioning_hook("portal.config.defaults", portal_settings_ensure)
