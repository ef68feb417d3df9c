"""DRF permission classes shared by every API delivery."""

from __future__ import annotations

from rest_framework import permissions

from kernel.errors import ApplicationError
from kernel.staff_permissions import perm, staff_has_perm


class StaffPermission(permissions.BasePermission):
    """A staff member holding the permission this route names for the request's method.

    Declared per view with :func:`staff_permission`; ``required`` maps an HTTP method (or
    ``"*"``) to a permission name. Nobody signed in gets 401; a signed-in user who is not
    staff 403 ``permission_denied``; staff without the permission 403
    ``staff_permission_required``, naming it."""

    message = "Only staff of this business may do this."

    required: dict[str, str] = {}

    @classmethod
    def permission_for(cls, method: str) -> str:
        method = method.upper()
        if method in ("HEAD", "OPTIONS"):
            method = "GET"
        return cls.required.get(method) or cls.required["*"]

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # -> 401 not_authenticated
        if not user.is_staff:
            return False  # -> 403 permission_denied: a family's login opens no staff route
        name = self.permission_for(request.method)
        if staff_has_perm(user, name):
            return True
        raise ApplicationError(
            "staff_permission_required",
            "Your role in this business does not allow this.",
            status=403,
            fields={"permission": [name]},
        )


def staff_permission(codename: str, **per_method: str) -> type[StaffPermission]:
    """The permission class of a staff route: ``staff_permission("refund_payment")``, or one
    permission per method: ``staff_permission("manage_app", post="queue_app_build")``."""
    required = {"*": perm(codename)}
    required.update({method.upper(): perm(name) for method, name in per_method.items()})
    label = "_".join(sorted(set(required.values()))).replace(".", "_")
    return type(f"StaffPermission_{label}", (StaffPermission,), {"required": required})
