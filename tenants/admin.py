"""Platform admins manage tenants in the root host's Django admin. Writes that change a
tenant's lifecycle go through tenants.services, as the API's do."""

from django.contrib import admin, messages

from saas_platform.admin_sites import platform_admin_site
from saas_platform.errors import ApplicationError

from . import services
from .models import Domain, SchemaTemplate, SpareSchema, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ("domain", "is_primary", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Tenant, site=platform_admin_site)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "schema_name", "status", "currency", "timezone", "created_at")
    list_filter = ("status", "currency", "locale")
    search_fields = ("name", "schema_name", "contact_email", "owner_email")
    readonly_fields = (
        "schema_name",
        "status",
        "created_at",
        "provisioned_at",
        "status_changed_at",
        "provisioning_error",
    )
    fields = (
        "name",
        "schema_name",
        "status",
        "timezone",
        "currency",
        "locale",
        "contact_email",
        "owner_email",
        "created_at",
        "provisioned_at",
        "status_changed_at",
        "provisioning_error",
    )
    inlines = [DomainInline]
    actions = ["suspend", "reactivate"]

    def has_add_permission(self, request):
        # New tenants are provisioned by the API or `manage.py tenant_create` (schema clone).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Suspend the selected portals")
    def suspend(self, request, queryset):
        self._run(request, queryset, services.tenant_suspend, "suspended")

    @admin.action(description="Reactivate the selected portals")
    def reactivate(self, request, queryset):
        self._run(request, queryset, services.tenant_reactivate, "reactivated")

    def _run(self, request, queryset, service, verb):
        for tenant in queryset:
            try:
                service(slug=tenant.schema_name)
            except ApplicationError as exc:
                self.message_user(request, f"{tenant.name}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{tenant.name} {verb}.", messages.SUCCESS)


@admin.register(Domain, site=platform_admin_site)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary", "created_at")
    search_fields = ("domain", "tenant__name", "tenant__schema_name")
    list_filter = ("is_primary",)
    raw_id_fields = ("tenant",)


@admin.register(SchemaTemplate, site=platform_admin_site)
class SchemaTemplateAdmin(admin.ModelAdmin):
    list_display = ("schema_name", "fingerprint", "refreshed_at")
    readonly_fields = (
        "schema_name",
        "fingerprint",
        "migrations",
        "seeded_tables",
        "refreshed_at",
        "ddl",
    )

    def has_add_permission(self, request):
        return False


@admin.register(SpareSchema, site=platform_admin_site)
class SpareSchemaAdmin(admin.ModelAdmin):
    list_display = ("schema_name", "fingerprint", "created_at")
    readonly_fields = ("schema_name", "fingerprint", "created_at")

    def has_add_permission(self, request):
        return False
