from django.contrib import admin
from django.db import connection
from django_tenants.utils import get_public_schema_name

from .models import PortalSettings


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    fieldsets = (
        ("Portal", {"fields": ("portal_enabled",)}),
        ("Home page", {"fields": ("welcome_heading", "welcome_message")}),
    )

    def has_module_permission(self, request):
        # Tenant schemas only: the public schema has no portal settings.
        return connection.schema_name != get_public_schema_name() and super().has_module_permission(
            request
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
