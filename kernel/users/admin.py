from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from kernel.admin_sites import platform_admin_site

from .models import ApiToken, User


def granted_permissions(user) -> set[str]:
    """Every permission a user holds through its groups and its own grants, whether or not
    it is active (an inactive account keeps its rights for the day it is reactivated)."""
    rows = Permission.objects.filter(Q(group__user=user) | Q(user=user)).values_list(
        "content_type__app_label", "codename"
    )
    return {f"{app}.{codename}" for app, codename in rows}


def may_manage(editor, target) -> bool:
    """Staff may change or delete only accounts with no more rights than their own: a
    superuser only by a superuser, anyone else only if each of its permissions is also the
    editor's. Without this, a user with ``change_user`` could edit the owner's login or make
    itself superuser."""
    if editor.is_superuser:
        return True
    if target.is_superuser:
        return False
    return granted_permissions(target) <= editor.get_all_permissions()


def _grantable_groups(editor):
    if editor.is_superuser:
        return Group.objects.all()
    held = editor.get_all_permissions()
    beyond = [
        group.pk
        for group in Group.objects.prefetch_related("permissions__content_type")
        if {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()} - held
    ]
    return Group.objects.exclude(pk__in=beyond)


def _grantable_permissions(editor):
    if editor.is_superuser:
        return Permission.objects.all()
    query = Q(pk__in=[])
    for name in editor.get_all_permissions():
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(query)


@admin.register(User)
@admin.register(User, site=platform_admin_site)
class UserAdmin(DjangoUserAdmin):
    """Staff cannot grant rights they lack: only a superuser sets ``is_superuser``; groups
    and permissions offered (and accepted: the form refuses any other choice) are those
    whose every permission the editor holds; accounts with more rights than the editor's
    cannot be changed (password included) or deleted."""

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

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ("is_superuser",)
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = _grantable_groups(request.user)
        elif db_field.name == "user_permissions":
            kwargs["queryset"] = _grantable_permissions(request.user).select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_manage(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_manage(request.user, obj))


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """The role groups (portal/staff/roles.py) are defined in code and rewritten after each
    migration: nobody edits them here. Other groups hold only permissions the editor holds."""

    ROLE_GROUPS = ("owner", "manager", "front_desk", "coach")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "permissions":
            kwargs["queryset"] = _grantable_permissions(request.user).select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _editable(self, request, obj) -> bool:
        if obj is None:
            return True
        if obj.name in self.ROLE_GROUPS:
            return False
        held = request.user.get_all_permissions()
        return (
            request.user.is_superuser
            or {
                f"{p.content_type.app_label}.{p.codename}"
                for p in obj.permissions.select_related("content_type")
            }
            <= held
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(request, obj)


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
