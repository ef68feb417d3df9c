from django.contrib import admin

from .models import PortalSettings


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    fieldsets = (
        ("Portal", {"fields": ("portal_enabled",)}),
        ("Home page", {"fields": ("welcome_heading", "welcome_message")}),
    )

    def has_add_permission(self, request):
        # One row per business, created when the business is provisioned.
        return False

    def has_delete_permission(self, request, obj=None):
        return False
