"""Home page and the process-wide error pages of the family portal."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.config.selectors import announcement_news

from .context import portal_context_get


def home(request):
    # A disabled portal never gets here (saas_platform.portal_availability).
    context = portal_context_get(request)
    family = context.get("family")
    # Banners show on every page (base.html, ``banners``); news items only here.
    page = {"news": list(announcement_news(family=family)), "nav": "home"}
    if family is not None and family.status != "suspended":
        page["dashboard"] = _family_dashboard(family)
    return render(request, "portal_web/home.html", page)


def _family_dashboard(family) -> dict:
    """The signed-in family's home: its next classes (absences and makeups applied, as on the
    schedule), what it owes and the next autopay, policies to sign, seats offered to it, and
    its open requests. Reads only."""
    from datetime import timedelta

    from django.utils import timezone

    from portal.accounts.selectors import policies_pending
    from portal.billing.selectors import ledger_get
    from portal.enrollment.models import WaitlistEntry
    from portal.enrollment.selectors import waitlist_list
    from portal.orders.autopay import autopay_next
    from portal.requests.selectors import family_meetings, request_pending_list

    today = timezone.localdate()
    meetings = family_meetings(family=family, start=today, end=today + timedelta(days=14))
    return {
        "meetings": meetings[:6],
        "ledger": ledger_get(family=family, period="30d"),
        "autopay": autopay_next(family=family),
        "policies": list(policies_pending(family)),
        "offers": [e for e in waitlist_list(family) if e.status == WaitlistEntry.Status.OFFERED],
        "requests": request_pending_list(family=family, limit=5),
    }


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
