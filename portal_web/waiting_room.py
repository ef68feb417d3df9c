"""The waiting room pages: the page shed visitors get while the server is over its latency
target (``busy_page``, wired as ``settings.ADMISSION_WEB_RESPONSE``) and the registration
opening's queue (``opening_page``, ``opening_status``)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import translation


def busy_page(request, seconds: int):
    """Called by saas_platform.admission before sessions and locale run: picks the visitor's
    language itself. Branded (the portal's theme and logo), tries again on its own."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = render(
            request,
            "portal_web/waiting_busy.html",
            {"retry_after": seconds, "next": request.get_full_path()},
            status=429,
        )
    response["Content-Language"] = language
    return response
