"""A business that has not been launched yet: its family portal and family API answer "opening
soon" to visitors and families. Its staff (signed in) see everything, so they can shape and
preview the portal before launch; the console, the admin, the staff API, the set-password
and password-reset links and static files stay open to everyone (staff sign in through them).

Placed after the authentication middleware (it reads ``request.user``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

OPEN_BEFORE_LAUNCH = (
    "/console/",
    "/admin/",
    "/api/v1/staff/",
    "/account/set-password/",
    "/account/password-reset/",
    "/account/reset/",
    "/static/",
    "/media/",
    "/theme.css",
    "/webhooks/",
)


def not_launched_response(request: HttpRequest, tenant) -> HttpResponse:
    # In the visitor's language (LocaleMiddleware runs before this one).
    message = gettext("%(business_name)s's customer portal is opening soon.") % {
        "business_name": tenant.name
    }
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "portal_not_launched", "message": message, "fields": {}}, status=503
        )
    else:
        html = render_to_string(
            "tenants/opening_soon.html",
            {
                "business_name": tenant.name,
                "contact_email": tenant.contact_email,
                "LANGUAGE_CODE": translation.get_language() or "en",
            },
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = "3600"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


class LaunchGateMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if (
            tenant is None
            or getattr(tenant, "schema_name", "public") == "public"
            or getattr(tenant, "launched_at", True) is not None
            or request.path.startswith(OPEN_BEFORE_LAUNCH)
        ):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return self.get_response(request)
        return not_launched_response(request, tenant)
