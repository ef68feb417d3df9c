from __future__ import annotations

from django.db import connection
from rest_framework import permissions

from kernel.api.authentication import token_accepted
from kernel.errors import ApplicationError
from portal.accounts.errors import family_suspended_error
from portal.accounts.models import Family, Guardian
from portal.accounts.selectors import guardian_for_user
from portal.config.selectors import portal_settings_get


def mobile_app_disabled_error(tenant) -> ApplicationError:
    return ApplicationError(
        "mobile_app_disabled",
        f"{tenant.name} has turned its app off. Use the portal on the web instead.",
        status=403,
    )


def family_refusal(request, *, family_status: str, by_token: bool) -> ApplicationError | None:
    """Why a guardian of a family with this status may not go on (None: it may): the family
    is suspended, or it signed in with a bearer token (an app) and the business has switched
    its app off."""
    if family_status == Family.Status.SUSPENDED:
        return family_suspended_error(connection.tenant)
    if by_token and not portal_settings_get(request).mobile_app_enabled:
        # Bearer tokens are the apps' sign-in (the web portal uses its session): with the
        # app switched off, an app signed in earlier stops too.
        return mobile_app_disabled_error(connection.tenant)
    return None


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
        refusal = family_refusal(
            request, family_status=guardian.family.status, by_token=request.auth is not None
        )
        if refusal is not None:
            raise refusal
        request.guardian = guardian
        return True


def token_family_id(request) -> int | None:
    """``BearerTokenAuthentication`` and ``IsFamilyMember`` together in one statement, for the
    waiting room's join answered before the stack (``saas_platform.waiting_room_poll``): the
    family of the request's bearer token when both would let it through (the token active and
    unexpired, its use recorded; its user active and a guardian; the family not suspended; the
    app switched on). None for anything else, which the ordinary stack then answers (401, 403)
    as always. A Django request: its portal settings are memoised on it."""
    accepted = token_accepted(
        request,
        select="f.id, f.status",
        join=(
            f"LEFT JOIN {Guardian._meta.db_table} g ON g.user_id = u.id "
            f"LEFT JOIN {Family._meta.db_table} f ON f.id = g.family_id"
        ),
    )
    if accepted is None:
        return None
    family_id, status = accepted[1]
    if family_id is None:  # not a guardian: a staff member, say
        return None
    if family_refusal(request, family_status=status, by_token=True) is not None:
        return None
    return family_id


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
