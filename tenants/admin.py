"""Platform admins manage tenants in the root host's Django admin. Writes that change a
tenant's lifecycle go through tenants.services, as the API's do."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import connection

from kernel.admin_sites import platform_admin_site
from kernel.errors import ApplicationError
from kernel.staff_permissions import perm, staff_has_perm

from . import domains as domain_services
from . import services
from .models import Domain, Plan, SchemaTemplate, SpareSchema, Subscription, Tenant


class DomainInline(admin.TabularInline):
    """Read-only: a domain is added, verified (only by its DNS check) and removed through
    tenants.domains, from the platform console or the business's own admin and API."""

    model = Domain
    extra = 0
    fields = ("domain", "is_primary", "is_custom", "verified_at", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
    """View only, with the DNS check as the one way to verify: nobody marks a domain verified
    by hand (``verified_at`` is written by ``tenants.domains.domain_verify`` alone)."""

    list_display = ("domain", "tenant", "is_primary", "is_custom", "verified_at", "created_at")
    search_fields = ("domain", "tenant__name", "tenant__schema_name")
    list_filter = ("is_primary", "is_custom")
    actions = ["verify_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Check the DNS record and verify")
    def verify_now(self, request, queryset):
        for domain in queryset:
            try:
                domain_services.domain_verify(domain=domain)
            except ApplicationError as exc:
                self.message_user(request, f"{domain.domain}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{domain.domain} is verified.", messages.SUCCESS)


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


# --- tenant hosts: a business's staff manage their own custom domains -----------------------


class OwnDomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ("domain",)

    def clean_domain(self):
        try:
            return domain_services.domain_validate_new(
                tenant=connection.tenant, domain=self.cleaned_data["domain"]
            )
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


class OwnDomainAdmin(admin.ModelAdmin):
    """Registered on the tenant hosts' admin site: only the current tenant's domains, and
    every write through tenants.domains (validation, DNS verification, routing caches)."""

    form = OwnDomainForm
    list_display = ("domain", "is_primary", "verified", "dns_record")
    actions = ["verify_now", "make_primary"]

    def _allowed(self, request) -> bool:
        return connection.schema_name != settings.PUBLIC_SCHEMA_NAME and staff_has_perm(
            request.user, perm("manage_domains")
        )

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return False  # a domain is added, verified, made primary or removed; never edited

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request) and (obj is None or obj.is_custom)

    def get_queryset(self, request):
        return Domain.objects.filter(tenant_id=connection.tenant.pk)

    def get_fields(self, request, obj=None):
        return ("domain",) if obj is None else ("domain", "is_primary", "verified", "dns_record")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("domain", "is_primary", "verified", "dns_record")

    @admin.display(boolean=True)
    def verified(self, obj):
        return obj.is_verified

    @admin.display(description="DNS record to add")
    def dns_record(self, obj):
        if not obj.is_custom or obj.is_verified:
            return "—"
        return (
            f"TXT {domain_services.record_name(obj.domain)} "
            f"“{domain_services.record_value(obj.verification_token)}”"
        )

    def save_model(self, request, obj, form, change):
        created = domain_services.domain_add(tenant=connection.tenant, domain=obj.domain)
        obj.pk = created.pk
        obj.tenant_id = created.tenant_id
        obj.verification_token = created.verification_token

    def delete_model(self, request, obj):
        domain_services.domain_remove(domain=obj)

    def delete_queryset(self, request, queryset):
        for domain in queryset:
            domain_services.domain_remove(domain=domain)

    @admin.action(description="Verify the DNS record now")
    def verify_now(self, request, queryset):
        for domain in queryset:
            try:
                domain_services.domain_verify(domain=domain)
            except ApplicationError as exc:
                self.message_user(request, f"{domain.domain}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{domain.domain} is verified.", messages.SUCCESS)

    @admin.action(description="Make the primary domain")
    def make_primary(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one domain.", messages.ERROR)
            return
        domain = queryset.get()
        try:
            domain_services.domain_make_primary(domain=domain)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"{domain.domain} is now primary.", messages.SUCCESS)


admin.site.register(Domain, OwnDomainAdmin)


@admin.register(Plan, site=platform_admin_site)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "monthly_price", "currency", "student_limit", "grace_days")
    list_filter = ("is_active",)


@admin.register(Subscription, site=platform_admin_site)
class SubscriptionAdmin(admin.ModelAdmin):
    """Read-only: Stripe's webhooks and tenants.plans write subscriptions."""

    list_display = ("tenant", "status", "current_period_end", "over_limit_since")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
