"""The public origin of a request, for links in answers that shared caches keep. (The allowed
hosts middleware, which asks tenant routing, is wiring: saas_platform.allowed_hosts.)"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port


def public_origin(request: HttpRequest) -> str:
    """``scheme://host[:port]`` for links in answers that shared caches may keep (the website
    widget, its script, cached search pages): the host name the request was routed by, with the
    configured scheme and port (``PLATFORM_URL_SCHEME``, ``PLATFORM_URL_PORT``), never the port
    or scheme the client sent, so ``Host: acme.example.com:6666`` cannot put ``:6666`` into a
    response that a cache then hands to everyone."""
    domain, _port = split_domain_port(request.get_host())
    port = f":{settings.PLATFORM_URL_PORT}" if settings.PLATFORM_URL_PORT else ""
    return f"{settings.PLATFORM_URL_SCHEME}://{domain}{port}"
