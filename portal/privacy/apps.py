from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "portal.privacy"
    label = "portal_privacy"
    verbose_name = "Privacy and audit"

    def ready(self) -> None:
        from . import signals  # noqa: F401
