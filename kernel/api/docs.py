"""The API docs pages (Redoc) of both APIs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView

from kernel import csp


class ApiDocsView(SpectacularRedocView):
    """Redoc from our own static files (drf-spectacular-sidecar), without the web fonts
    drf-spectacular's template loads from Google: the page works offline and under the
    Content-Security-Policy (script-src 'self').

    The policy is the site's own plus ``worker-src 'self' blob:``: Redoc runs its search index
    in a worker it creates from a blob URL. Only these pages allow that."""

    template_name = "kernel/api_docs.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        nonce = str(getattr(request, "csp_nonce", "")) or "none"
        response["Content-Security-Policy"] = csp.policy(nonce) + "; worker-src 'self' blob:"
        return response
