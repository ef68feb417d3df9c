from django.contrib import admin

from .models import AppBuild, AppListing, BrandedApp


class AppListingInline(admin.StackedInline):
    model = AppListing
    extra = 0


@admin.register(BrandedApp)
class BrandedAppAdmin(admin.ModelAdmin):
    list_display = ("display_name", "ios_bundle_id", "android_package", "version")
    readonly_fields = ("identifiers_locked", "updated_at")
    inlines = [AppListingInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.identifiers_locked:
            fields += ["ios_bundle_id", "android_package"]
        return fields


@admin.register(AppBuild)
class AppBuildAdmin(admin.ModelAdmin):
    list_display = ("number", "status", "progress", "theme_version", "requested_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = [field.name for field in AppBuild._meta.fields]

    def has_add_permission(self, request):
        return False  # builds are requested through the API or the CLI, after pre-flight
