"""``Cache-Control: no-store`` on every API answer that belongs to someone.

A family's or a staff member's answer (their orders, their roster, a token) must never be kept
by a shared cache, a browser's disk cache or an intermediate proxy. Any answer under ``/api/``
gets ``no-store`` when

- the view is not public: any permission class other than those in :data:`PUBLIC_PERMISSIONS`
  (family, staff, signed-in and platform-admin routes), whatever the status, errors included;
- or the request carried credentials (a bearer token or a signed-in session), whatever the view;
- or the view says so (``no_store = True``: the sign-in and sign-up routes answer with a token).

Public answers to anonymous requests (the catalog, the theme) keep the caching their views set.
"""

from __future__ import annotations

PUBLIC_PERMISSIONS = frozenset(
    {
        "rest_framework.permissions.AllowAny",
        "portal_api.permissions.CatalogVisible",
    }
)


def _name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def view_is_private(view_class) -> bool:
    if view_class is None:
        return False
    if getattr(view_class, "no_store", False):
        return True
    classes = getattr(view_class, "permission_classes", None) or []
    return any(_name(c) not in PUBLIC_PERMISSIONS for c in classes)


def _has_credentials(request) -> bool:
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and getattr(user, "is_authenticated", False))


class ApiNoStoreMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/api/"):
            return response
        match = getattr(request, "resolver_match", None)
        view_class = getattr(getattr(match, "func", None), "cls", None)
        if view_is_private(view_class) or _has_credentials(request):
            response["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response
