from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "portal.privacy"
    label = "portal_privacy"
    verbose_name = "Privacy and audit"

    def ready(self) -> None:
        from django.contrib import admin

        from . import signals  # noqa: F401
        from .history import connect_task_history, inject_context_where_needed
        from .medical import guard_admin_site

        # The admin has discovered every admin module by now (django.contrib.admin is ready
        # before any portal app); tests/portal/privacy checks every registered admin is
        # guarded.
        guard_admin_site(admin.site)
        connect_task_history()
        inject_context_where_needed()
        _same_autodetector_for_migrate_schemas()


def _same_autodetector_for_migrate_schemas() -> None:
    """pgtrigger's ready() gives ``makemigrations`` and Django's ``migrate`` an autodetector
    that knows triggers; django-tenants' ``migrate`` (migrate_schemas) pins Django's plain one,
    which Django's system check refuses (commands.E001). Give it the same one."""
    from django.core.management.commands import makemigrations
    from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

    MigrateSchemasCommand.autodetector = makemigrations.Command.autodetector
