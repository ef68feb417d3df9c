"""Allowed hosts: the platform's own names from ALLOWED_HOSTS, tenants' custom domains from the
routing table.

Django checks the Host header against a fixed ALLOWED_HOSTS list, but a business's own domain
(``portal.acme-gym.com``) becomes valid when it is verified, long after the process started. In
production ALLOWED_HOSTS therefore lists only ``<PLATFORM_DOMAIN>`` and ``.<PLATFORM_DOMAIN>``
(see settings.py), and this middleware, placed before tenant routing, also lets through a host
the routing table maps to a live tenant (a cached lookup, the same one routing makes next). Any
other host gets the routing's "no portal here" 404, exactly as an unknown subdomain does, and
never reaches a view that could build a link from it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host


def _allowed_patterns() -> list[str]:
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return allowed


class AllowedHostsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        from tenants import routing

        if request.path == getattr(routing, "TLS_ASK_PATH", None):
            # The proxy's on-demand TLS check is called on the web service's own address and
            # never uses the host (tenants.routing answers it).
            return self.get_response(request)
        raw_host = request._get_raw_host()
        domain, _port = split_domain_port(raw_host)
        if domain and validate_host(domain, _allowed_patterns()):
            return self.get_response(request)

        if domain and routing.router.resolve(domain) is not None:
            # A tenant's custom domain: valid because routing serves it. Django's own check in
            # get_host() only knows the static list, so answer it for this request.
            request.get_host = lambda: raw_host
            return self.get_response(request)
        return routing.unknown_host_response(request)
