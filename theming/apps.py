from django.apps import AppConfig


class ThemingConfig(AppConfig):
    name = "theming"
    verbose_name = "Branding and themes"

    def ready(self) -> None:
        from tenants.hooks import register_provisioning_hook

        from . import signals  # noqa: F401
        from .services import theme_ensure_published

        register_provisioning_hook("theming.default_theme", theme_ensure_published)
