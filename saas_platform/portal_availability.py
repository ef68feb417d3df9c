"""A business that switches its portal off: every family page and API call answers with the
"currently unavailable" message. Staff keep their console, their API and the admin (to switch it
back on, and to run the business meanwhile), and the owner's set-password link."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

from portal.config.selectors import portal_settings_get

UNAVAILABLE = "Our Customer Portal is currently unavailable."
STAFF_PREFIXES = (
    "/console/",
    "/admin/",
    "/static/",
    "/media/",
    "/account/set-password/",
    "/api/v1/staff/",
)


class PortalAvailabilityMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or getattr(tenant, "schema_name", "public") == "public":
            return self.get_response(request)
        if request.path.startswith(STAFF_PREFIXES):
            return self.get_response(request)
        if portal_settings_get(request).portal_enabled:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"code": "portal_disabled", "message": UNAVAILABLE, "fields": {}}, status=503
            )
        else:
            response = render(
                request, "portal_web/unavailable.html", {"tenant": tenant}, status=503
            )
        response["Retry-After"] = "300"
        return response
