"""Home page and the process-wide error pages of the family portal."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.config.selectors import announcement_list

from .context import portal_context_get


def home(request):
    # A disabled portal never gets here (portal.config.middleware).
    context = portal_context_get(request)
    announcements = list(announcement_list(family=context.get("family")))
    return render(request, "portal_web/home.html", {"announcements": announcements, "nav": "home"})


def csrf_failure(request, reason: str = ""):
    """settings.CSRF_FAILURE_VIEW: a form posted with a stale or missing token (usually a page
    left open past the session, or cookies blocked). Branded on a tenant host, plain elsewhere;
    never Django's bare 403."""
    tenant = getattr(request, "tenant", None)
    back = request.META.get("HTTP_REFERER", "")
    if back and not back.startswith(f"{request.scheme}://{request.get_host()}/"):
        back = ""
    context = {"back_url": back or "/", "reason": reason}
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            {
                "code": "csrf_failed",
                "message": _("Your form expired. Reload the page and try again."),
                "fields": {},
            },
            status=403,
        )
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return render(request, "portal_web/csrf_failure_plain.html", context, status=403)
    return render(request, "portal_web/csrf_failure.html", context, status=403)
