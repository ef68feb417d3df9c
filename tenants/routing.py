"""Host -> tenant, in one place.

Every request starts here: the root host gets the platform's URL map in the public schema; a
tenant's host gets its schema and the tenant URL map; any other host gets a 404 page that names
no tenant. Lookups are cached in process memory, so a warm process pays no query per request.
A change to tenants or domains clears this process's cache at once and bumps a generation
counter in Redis that other processes check at most once a second; the TTL bounds staleness if
Redis is unreachable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import set_urlconf
from django.utils import timezone

from kernel.redis import redis_client as _redis
from kernel.redis import redis_key

from .models import Domain, Tenant

logger = logging.getLogger(__name__)

GENERATION_KEY = "tenants:routing:generation"
GENERATION_CHECK_SECONDS = 1.0
MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class _Entry:
    tenant: Tenant | None
    expires_at: float


class HostRouter:
    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._generation_checked_at = 0.0
        self.lookups = 0  # database lookups made; read by tests and benchmarks

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            # The next request reads the generation again and keeps it: an entry cached after
            # this must not be dropped for a change made before it (a test's first request
            # after a clear, then a second over a second later, looked its tenant up twice).
            self._generation = None
            self._generation_checked_at = 0.0

    def _check_generation(self, now: float) -> None:
        if now - self._generation_checked_at < GENERATION_CHECK_SECONDS:
            return
        self._generation_checked_at = now
        generation = _read_generation()
        if generation is None:
            return
        if self._generation is not None and generation != self._generation:
            self.clear()
        self._generation = generation

    def resolve(self, host: str) -> Tenant | None:
        now = time.monotonic()
        self._check_generation(now)
        entry = self._entries.get(host)
        if entry is not None and entry.expires_at > now:
            return entry.tenant
        # Only verified domains route: a custom domain is a claim until its DNS record is seen.
        tenant = (
            Tenant.objects.filter(domains__domain=host, domains__verified_at__isnull=False)
            .exclude(status__in=[Tenant.Status.PROVISIONING, Tenant.Status.OFFBOARDED])
            .first()
        )
        self.lookups += 1
        with self._lock:
            self._entries[host] = _Entry(tenant, now + settings.TENANT_ROUTING_CACHE_TTL)
            self._entries.move_to_end(host)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return tenant


router = HostRouter()


def _read_generation() -> int | None:
    try:
        value = _redis().get(redis_key(GENERATION_KEY))
    except Exception:  # Redis down: fall back to the TTL, never fail the request
        return None
    return int(value) if value is not None else 0


def invalidate() -> None:
    """Forget cached routes here, and tell other processes to do the same."""
    router.clear()
    try:
        _redis().incr(redis_key(GENERATION_KEY))
    except Exception:
        logger.warning(
            "could not bump the routing generation in Redis; other processes "
            "will see the change within TENANT_ROUTING_CACHE_TTL"
        )


def invalidate_on_commit() -> None:
    transaction.on_commit(invalidate)


def root_hosts() -> frozenset[str]:
    return frozenset({settings.PLATFORM_DOMAIN, f"www.{settings.PLATFORM_DOMAIN}"})


def _host_of(request: HttpRequest) -> str:
    host = request.get_host().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def unknown_host_response(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {
                "code": "unknown_host",
                "message": "No portal is served at this address.",
                "fields": {},
            },
            status=404,
        )
    html = render_to_string(
        "tenants/unknown_host.html", {"platform_domain": settings.PLATFORM_DOMAIN}
    )
    return HttpResponse(html, status=404)


def suspended_response(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    message = f"{tenant.name}'s customer portal is currently unavailable. Please try again later."
    if _wants_json(request):
        return JsonResponse(
            {"code": "tenant_suspended", "message": message, "fields": {}}, status=403
        )
    html = render_to_string(
        "tenants/unavailable.html",
        {"business_name": tenant.name, "contact_email": tenant.contact_email},
    )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = "3600"
    return response


TLS_ASK_PATH = "/_tls/ask"


def tls_ask_response(request: HttpRequest) -> HttpResponse:
    """``GET /_tls/ask?domain=<host>``: the reverse proxy's on-demand TLS check (Caddy's
    ``ask``). 200 when a certificate may be issued for the host, 404 otherwise. Answered on
    any Host header (the proxy calls the web service directly), before routing."""
    from .domains import tls_host_allowed

    if request.method not in ("GET", "HEAD"):
        return JsonResponse(
            {"code": "method_not_allowed", "message": "Use GET.", "fields": {}}, status=405
        )
    domain = request.GET.get("domain", "")
    if not domain:
        return JsonResponse(
            {
                "code": "domain_required",
                "message": "Pass the host name as ?domain=.",
                "fields": {"domain": ["Required."]},
            },
            status=400,
        )
    allowed = tls_host_allowed(domain)
    response = JsonResponse(
        {"domain": domain.lower(), "allowed": allowed}, status=200 if allowed else 404
    )
    response["Cache-Control"] = "no-store"
    return response


class TenantRoutingMiddleware:
    """Must come first (after the health check): it picks the schema, the URL map and the time
    zone (the tenant's on its hosts, UTC on the platform's)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connection.set_schema_to_public()
        if request.path == TLS_ASK_PATH:
            return tls_ask_response(request)
        host = _host_of(request)
        if host in root_hosts():
            # django-tenants' admin templates read request.tenant.schema_name.
            request.tenant = connection.tenant
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            # The platform's own pages run in UTC (settings.TIME_ZONE), whatever ran before.
            with timezone.override(None):
                return self.get_response(request)
        tenant = router.resolve(host)
        if tenant is None:
            return unknown_host_response(request)
        if tenant.status == Tenant.Status.SUSPENDED:
            return suspended_response(request, tenant)
        request.tenant = tenant
        connection.set_tenant(tenant)
        request.urlconf = settings.ROOT_URLCONF
        set_urlconf(request.urlconf)
        # The business's time zone for the whole request: forms (the admin's too) read a
        # date-time typed by staff in it, templates, serializers and timezone.localdate()
        # show and count days in it. Restored afterwards, so nothing leaks to the next request.
        with timezone.override(tenant.zone):
            return self.get_response(request)


__all__ = ["Domain", "HostRouter", "TenantRoutingMiddleware", "invalidate", "router"]
