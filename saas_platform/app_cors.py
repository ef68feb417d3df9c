"""Cross-origin access to the family API for the family app's web build, and only for it.

The native apps need no CORS. The app's web export (tests, the demo, store screenshots) runs on
an origin of its own, so the origins listed in ``APP_WEB_ORIGINS`` (empty by default: no CORS
at all, docs/security.md) may call the family API on tenant hosts and the platform directory on
the root host. Never with credentials: the app sends a bearer token it holds, so a page from
another origin cannot borrow a signed-in family's session cookies."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse

PATHS = ("/api/v1/", "/api/platform/v1/directory")
# Every header the app sends (mobile/src): the waiting room's ticket and pass included, without
# which the web build's polls and its requests with a pass failed their preflight.
ALLOW_HEADERS = (
    "Authorization, Content-Type, Accept, Accept-Language, Idempotency-Key, "
    "X-Waiting-Room-Ticket, X-Waiting-Room-Pass"
)
EXPOSE_HEADERS = "Retry-After, ETag, Content-Disposition"


class AppWebCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        origin = request.headers.get("Origin")
        allowed = (
            origin is not None
            and origin in settings.APP_WEB_ORIGINS
            and request.path.startswith(PATHS)
        )
        if not allowed:
            return self.get_response(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response["Access-Control-Max-Age"] = "600"
        else:
            response = self.get_response(request)
            response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
        return response
