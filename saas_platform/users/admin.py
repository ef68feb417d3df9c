from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from saas_platform.admin_sites import platform_admin_site

from .models import ApiToken, User


@admin.register(User)
@admin.register(User, site=platform_admin_site)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(ApiToken)
@admin.register(ApiToken, site=platform_admin_site)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__email", "name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    raw_id_fields = ("user",)

    def has_add_permission(self, request):
        # Raw token values are shown once, by the API that issues them.
        return False
