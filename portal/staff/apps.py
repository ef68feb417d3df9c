from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "portal.staff"
    label = "portal_staff"
    verbose_name = "Staff roles"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from tenants.hooks import register_provisioning_hook

        from .services import owner_role_ensure, roles_sync_after_migrate

        register_provisioning_hook("portal.staff.owner_role", owner_role_ensure)

        # Listed last in TENANT_APPS, so by the time this app's post_migrate is sent every
        # other app's permissions exist in the schema being migrated (the clone template
        # included, so new tenants get the role groups with the rows it copies).
        post_migrate.connect(roles_sync_after_migrate, sender=self, dispatch_uid="staff_roles")
