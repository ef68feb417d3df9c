from __future__ import annotations

from django.db import connection
from rest_framework import permissions

from kernel.errors import ApplicationError
from portal.accounts.errors import family_suspended_error
from portal.accounts.models import Family
from portal.accounts.selectors import guardian_for_user
from portal.config.selectors import portal_settings_get


def mobile_app_disabled_error(tenant) -> ApplicationError:
    return ApplicationError(
        "mobile_app_disabled",
        f"{tenant.name} has turned its app off. Use the portal on the web instead.",
        status=403,
    )


class IsFamilyMember(permissions.BasePermission):
    """A signed-in guardian of a family that is not suspended. Sets ``request.guardian``."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # -> 401 not_authenticated
        guardian = guardian_for_user(user)
        if guardian is None:
            raise ApplicationError(
                "not_a_family_account", "This account does not belong to a family.", status=403
            )
        if guardian.family.status == Family.Status.SUSPENDED:
            raise family_suspended_error(connection.tenant)
        if request.auth is not None and not portal_settings_get(request).mobile_app_enabled:
            # Bearer tokens are the apps' sign-in (the web portal uses its session): with the
            # app switched off, an app signed in earlier stops too.
            raise mobile_app_disabled_error(connection.tenant)
        request.guardian = guardian
        return True


class CatalogVisible(permissions.BasePermission):
    """Visitors browse the catalog only when the business shows it to them."""

    allows_visitors = True  # documented as public (kernel.api.openapi.AutoSchema)

    def has_permission(self, request, view) -> bool:
        if request.user is not None and request.user.is_authenticated:
            return True
        if portal_settings_get(request).list_visible_when_logged_out:
            return True
        raise ApplicationError(
            "login_required", "Sign in to see the classes this business offers.", status=401
        )
