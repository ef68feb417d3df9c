"""Admission control: shed load only when the server is actually over its latency target.

Replaces the fixed per-portal search limit ("Whoa!"). Each worker process measures its own
queueing delay: the gunicorn hook in ``saas_platform/gunicorn_conf.py`` stamps every request
when it is handed to the worker's thread pool, and this middleware reads how long it waited for a
thread (``queued_for()``). A proxy's ``X-Request-Start: t=<microseconds>`` header is used instead
when ``ADMISSION_TRUST_REQUEST_START`` is on (the proxy must overwrite it).

The controller is CoDel's (Nichols & Jacobson, "Controlling Queue Delay"): a *standing* queue,
not a burst, is what matters, so the process is overloaded when the *smallest* queueing delay
seen over a whole interval (``ADMISSION_INTERVAL_MS``, 500) is above the target
(``ADMISSION_TARGET_MS``, 50), and stays so until an interval's smallest delay is back under it.
A burst that drains within the interval sheds nothing; a cached search is therefore never shed
while the server keeps its target.

Only when overloaded, each sheddable request faces the per-tenant fair share: tenants seen by
this process in the last two intervals share its capacity equally; a tenant that sent more than
its share is shed, unless it is still under its floor, ``PortalSettings.class_search_rate_limit``
requests a minute for the whole portal (one GCRA script call in Redis, the old limiter's
algorithm, so a small business is never shed because a big one is rushing). Requests of tenants
under their share are admitted, so one business's rush cannot starve another's portal.

Never shed: anything but GET/HEAD (a write is work already under way), the cart, checkout,
orders and payments, the waiting room itself, sign-in, staff and admin pages, static files,
health checks, and any request carrying a live waiting-room pass of its business (the
signature checked, only when the request would be shed otherwise: a forged or lapsed pass, or
another business's, is shed like any request). Shed web pages get the branded
waiting room (``ADMISSION_WEB_RESPONSE``, a callable of the web delivery) and the API gets
``429`` + ``Retry-After`` + ``{"code": "server_busy"}``.

Redis unreachable: the floor is not checked (over-share tenants are shed), a warning is logged
at most every 10 s; the controller itself needs no Redis.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import defaultdict

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kernel.redis import redis_client as _redis
from kernel.redis import redis_key

logger = logging.getLogger(__name__)

CODE = "server_busy"
PASS_COOKIE = "wr_pass"  # noqa: S105 - a cookie name
PASS_HEADER = "HTTP_X_WAITING_ROOM_PASS"  # noqa: S105 - a header name
WARN_EVERY_SECONDS = 10.0
BREAKER_SECONDS = 5.0

# Paths never shed (prefixes). The waiting room's own endpoints must stay cheap and reachable.
NEVER_SHED = (
    "/static/",
    "/healthz",
    "/readyz",
    "/cart",
    "/checkout",
    "/orders",
    "/pay",
    "/waiting-room",
    "/login",
    "/logout",
    "/admin",
    "/staff",
    "/theme.css",
    "/webhooks",
    "/api/v1/cart",
    "/api/v1/checkout",
    "/api/v1/orders",
    "/api/v1/openings",
    "/api/v1/auth",
    "/api/v1/staff",
    "/api/v1/portal",
)

# --- queueing delay, stamped by the server -------------------------------------------------

_local = threading.local()


def mark_queued(at: float | None) -> None:
    """The server (gunicorn hook) says when the request now starting was queued for a thread
    (``time.monotonic()``), or None when it does not know."""
    _local.queued_at = at


def queued_at() -> float | None:
    """When the request now starting was queued for a thread (``time.monotonic()``), as the
    server said, without taking it (the benchmarks' CPU log reads it before the middleware)."""
    return getattr(_local, "queued_at", None)


def queued_for(request) -> float | None:
    """Seconds this request waited for a worker thread, or None when unknown."""
    at = queued_at()
    _local.queued_at = None
    if at is not None:
        return max(0.0, time.monotonic() - at)
    if getattr(settings, "ADMISSION_TRUST_REQUEST_START", False):
        raw = request.META.get("HTTP_X_REQUEST_START", "")
        raw = raw.removeprefix("t=")
        if raw.isdigit():
            return max(0.0, time.time() - int(raw) / 1_000_000)
    return None


# --- the controller ------------------------------------------------------------------------


class Controller:
    """CoDel's overload test plus a per-tenant share, in one process; thread-safe."""

    def __init__(self, *, target: float, interval: float) -> None:
        self.target = target
        self.interval = interval
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.overloaded = False
        self.window_start: float | None = None  # set by the first sample or check
        self.window_min: float | None = None
        self.counts: dict[str, int] = defaultdict(int)  # this interval, per tenant
        self.previous: dict[str, int] = {}  # the last interval
        self.shed = 0
        self.admitted = 0
        self.observed = 0

    def observe(self, delay: float, now: float | None = None) -> None:
        """One request's queueing delay."""
        now = time.monotonic() if now is None else now
        with self.lock:
            self.observed += 1
            self._roll(now)
            if self.window_min is None or delay < self.window_min:
                self.window_min = delay
            if delay > self.target * 4:
                # A queue four times the target is not a burst: do not wait for the interval.
                self.overloaded = True

    def _roll(self, now: float) -> None:
        if self.window_start is None:
            self.window_start = now
        if now - self.window_start < self.interval:
            return
        stale = now - self.window_start >= 2 * self.interval
        if stale:
            self.overloaded = False  # no request for a whole interval: idle
        elif self.window_min is not None:
            self.overloaded = self.window_min > self.target
        self.previous = {} if stale else dict(self.counts)
        self.counts = defaultdict(int)
        self.window_min = None
        self.window_start = now

    def over_share(self, tenant: str) -> bool:
        """Has ``tenant`` had more than its equal share of this process lately?"""
        with self.lock:
            seen = defaultdict(int, self.previous)
            for key, value in self.counts.items():
                seen[key] += value
            total = sum(seen.values())
            if total == 0 or len(seen) <= 1:
                return bool(seen.get(tenant))  # alone and overloaded: itself is the rush
            share = total / len(seen)
            return seen.get(tenant, 0) > share

    def count(self, tenant: str) -> None:
        with self.lock:
            self.counts[tenant] += 1
            self.admitted += 1

    def is_overloaded(self, now: float | None = None) -> bool:
        with self.lock:
            self._roll(time.monotonic() if now is None else now)
            return self.overloaded


controller = Controller(
    target=getattr(settings, "ADMISSION_TARGET_MS", 50) / 1000,
    interval=getattr(settings, "ADMISSION_INTERVAL_MS", 500) / 1000,
)


# --- the fair-share floor (Redis GCRA, one script call, only when overloaded) ---------------

# KEYS[1]: the tenant's key. ARGV[1]: requests per period, ARGV[2]: period (ms).
# Stores "<theoretical arrival time in ms>:<limit>" on the Redis server's clock; returns 1 when
# the request is within the floor.
_GCRA = """
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = period / limit
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  local sep = string.find(stored, ':', 1, true)
  tat = tonumber(string.sub(stored, 1, sep - 1))
  local old_limit = tonumber(string.sub(stored, sep + 1))
  if tat < now then
    tat = now
  elseif old_limit ~= limit then
    tat = now + (tat - now) * old_limit / limit
  end
end
local new_tat = tat + interval
if new_tat - now > period then
  return 0
end
redis.call('SET', KEYS[1], string.format('%.3f:%d', new_tat, limit), 'PX',
           math.ceil(new_tat - now) + 1)
return 1
"""


class _Floor:
    script = None
    client_id = None
    open_until = 0.0
    last_warning = 0.0
    failures = 0


_touched: set[str] = set()


def floor_key(schema: str) -> str:
    _touched.add(schema)
    return redis_key("admission", "floor", schema)


def within_floor(schema: str, per_minute: int) -> bool:
    """One request against the tenant's floor; False when over it or Redis is down."""
    if time.monotonic() < _Floor.open_until:
        return False
    try:
        client = _redis()
        if _Floor.script is None or _Floor.client_id != id(client):
            _Floor.script = client.register_script(_GCRA)
            _Floor.client_id = id(client)
        return bool(_Floor.script(keys=[floor_key(schema)], args=[per_minute, 60_000]))
    except Exception as exc:  # the floor is a courtesy: never take the portal down for it
        now = time.monotonic()
        _Floor.open_until = now + BREAKER_SECONDS
        _Floor.failures += 1
        if now - _Floor.last_warning >= WARN_EVERY_SECONDS:
            _Floor.last_warning = now
            logger.warning("admission floor: Redis unreachable (%s: %s)", type(exc).__name__, exc)
        return False


def floor_reset_touched() -> None:
    """Forget the floors this process counted (the test harness)."""
    _Floor.open_until = 0.0
    schemas = list(_touched)
    _touched.clear()
    if not schemas:
        return
    with contextlib.suppress(Exception):  # best effort (tests)
        _redis().delete(*[redis_key("admission", "floor", s) for s in schemas])


# --- the middleware ------------------------------------------------------------------------


def sheddable(request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    return not request.path.startswith(NEVER_SHED)


def holds_live_pass(request, schema: str) -> bool:
    """A family the line let in (the apps' header or the web's cookie, a live pass of this
    business): never shed. Checked only when the request would be shed otherwise (and before
    the floor's Redis call, which a family let in must not use up), so a pass's signature costs
    nothing while the server keeps up."""
    from portal.catalog.waiting_room import pass_live

    now = timezone.now()
    return any(
        pass_live(token, schema=schema, now=now)
        for token in (request.META.get(PASS_HEADER, ""), request.COOKIES.get(PASS_COOKIE, ""))
    )


def retry_after() -> int:
    """Seconds to wait: spread so shed clients do not come back in one wave."""
    return random.randint(2, 6)  # noqa: S311 - jitter, not security


def busy_api_response(seconds: int, *, cors: bool = False) -> JsonResponse:
    response = JsonResponse(
        {
            "code": CODE,
            "message": _(
                "So many families are here right now that we need a moment. "
                "Please try again in a few seconds; nothing you had is lost."
            ),
            "fields": {},
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    if cors:
        response["Access-Control-Allow-Origin"] = "*"  # the website widget's JSON
    return response


class AdmissionControlMiddleware:
    """Right after routing and the security headers: measure, and shed only when overloaded."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        hook = getattr(settings, "ADMISSION_WEB_RESPONSE", "")
        self.web_response = import_string(hook) if hook else None

    def __call__(self, request):
        delay = queued_for(request)
        if delay is not None:
            controller.observe(delay)
        tenant = getattr(request, "tenant", None)
        schema = getattr(tenant, "schema_name", "public")
        if (
            schema != "public"
            and getattr(settings, "ADMISSION_ENABLED", True)
            and sheddable(request)
            and controller.is_overloaded()
            and controller.over_share(schema)
            and not holds_live_pass(request, schema)
            and not self._within_floor(request, schema)
        ):
            controller.shed += 1
            return self.shed(request)
        if schema != "public":
            controller.count(schema)
        return self.get_response(request)

    @staticmethod
    def _within_floor(request, schema: str) -> bool:
        from portal.config.selectors import portal_settings_get

        return within_floor(schema, portal_settings_get(request).class_search_rate_limit)

    def shed(self, request):
        seconds = retry_after()
        if request.path.startswith("/embed/"):
            return busy_api_response(seconds, cors=True)
        if request.path.startswith("/api/") or self.web_response is None:
            return busy_api_response(seconds)
        response = self.web_response(request, seconds)
        response["Retry-After"] = str(seconds)
        response["Cache-Control"] = "no-store"
        return response
