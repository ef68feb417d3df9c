"""Content Security Policy for every page the platform serves.

Scripts run only from our own origin, from Stripe.js (the Payment Element) and inline when they
carry the request's nonce (``<script nonce="{{ request.csp_nonce }}">``). Stripe's iframes
(js.stripe.com, hooks.stripe.com for 3-D Secure) may be framed and api.stripe.com called;
nothing else third-party is allowed. ``STRIPE_JS_URL``'s origin is added too, so a local
localstripe stand-in works in development. Uploaded brand images may come from the object store
(``MEDIA_ORIGIN``, derived from the S3 settings).

Clickjacking: ``frame-ancestors 'none'`` here and ``X-Frame-Options: DENY``
(django.middleware.clickjacking) on every response, except the website-widget endpoints
(``/embed.js``, ``/embed/...``), which exist to be used from other sites.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.functional import SimpleLazyObject

STRIPE_SCRIPT = ("https://js.stripe.com", "https://*.js.stripe.com")
STRIPE_FRAME = ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com")
STRIPE_CONNECT = ("https://api.stripe.com",)
STRIPE_IMG = ("https://*.stripe.com",)
# Website-widget endpoints: meant to be used from any site (portal_web.embed).
EMBED_PREFIXES = ("/embed.js", "/embed/")


def origin_of(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme in {"http", "https"} and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def _media_origins() -> tuple[str, ...]:
    explicit = getattr(settings, "MEDIA_ORIGIN", "")
    if explicit:
        return (explicit,)
    return ()


def policy(nonce: str) -> str:
    stripe_js = origin_of(getattr(settings, "STRIPE_JS_URL", ""))
    extra = (stripe_js,) if stripe_js and stripe_js not in STRIPE_SCRIPT else ()
    directives = {
        "default-src": ("'self'",),
        "script-src": ("'self'", f"'nonce-{nonce}'", *STRIPE_SCRIPT, *extra),
        "style-src": ("'self'", "'unsafe-inline'"),
        "img-src": ("'self'", "data:", *STRIPE_IMG, *_media_origins(), *extra),
        "font-src": ("'self'", "data:"),
        "connect-src": ("'self'", *STRIPE_CONNECT, *extra),
        "frame-src": (*STRIPE_FRAME, *extra),
        "frame-ancestors": ("'none'",),
        "form-action": ("'self'",),
        "base-uri": ("'self'",),
        "object-src": ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def is_embed_path(path: str) -> bool:
    return path.startswith(EMBED_PREFIXES)


class ContentSecurityPolicyMiddleware:
    """Sets ``request.csp_nonce`` and the Content-Security-Policy header. Must come before
    XFrameOptionsMiddleware in MIDDLEWARE (it then sees that middleware's header and lifts it
    from the embed endpoints)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = SimpleLazyObject(lambda: secrets.token_urlsafe(16))
        response = self.get_response(request)
        if is_embed_path(request.path_info):
            if "X-Frame-Options" in response:
                del response["X-Frame-Options"]
            return response
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy(str(request.csp_nonce))
        return response
