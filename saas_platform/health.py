"""GET /healthz on every host, answered before tenant routing so that load balancers and
Kubernetes probes can use any Host header (including a pod IP).

Probes need only the status code (200 or 503) and ``status``. Which dependency is down is said
only on the platform host: a tenant's host, a custom domain or an unknown name gets no map of
the platform's internals."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def check_database() -> str:
    try:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health check: database unreachable: %s", exc)
        return "unavailable"
    return "ok"


def check_redis() -> str:
    from kernel.redis import redis_client

    try:
        redis_client().ping()
    except Exception as exc:
        logger.warning("health check: redis unreachable: %s", exc)
        return "unavailable"
    return "ok"


def _on_platform_host(request) -> bool:
    # The raw header: get_host() would refuse pod IPs and other names ALLOWED_HOSTS leaves out.
    host = (request.META.get("HTTP_HOST") or "").lower()
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return host.rstrip(".") == settings.PLATFORM_DOMAIN


class HealthCheckMiddleware:
    path = "/healthz"

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.path != self.path:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return JsonResponse(
                {"code": "method_not_allowed", "message": "Use GET.", "fields": {}}, status=405
            )
        checks = {"database": check_database(), "redis": check_redis()}
        healthy = all(value == "ok" for value in checks.values())
        body = {"status": "ok" if healthy else "unavailable"}
        if _on_platform_host(request):
            body.update(checks)
        response = JsonResponse(body, status=200 if healthy else 503)
        response["Cache-Control"] = "no-store"
        return response
