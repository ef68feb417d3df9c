from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "portal.privacy"
    label = "portal_privacy"
    verbose_name = "Privacy and audit"

    def ready(self) -> None:
        from django.contrib import admin

        from . import signals  # noqa: F401
        from .medical import guard_admin_site

        # The admin has discovered every admin module by now (django.contrib.admin is ready
        # before any portal app); tests/portal/privacy checks every registered admin is
        # guarded.
        guard_admin_site(admin.site)
