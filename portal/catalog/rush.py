"""Registration-day rush: the per-tenant class-search limit (the "Whoa!" message).

``search_admit(request)`` is called by every class search (the API's search and "find the right
class", the web search page). It asks Redis, in one atomic Lua script (GCRA, the generic cell
rate algorithm), whether the tenant has room for one more search this minute; the limit is
``PortalSettings.class_search_rate_limit`` searches per minute for the whole portal, spread
evenly (one every 60/limit seconds, with a burst of up to the whole minute's allowance). Over
the limit it raises ``ApplicationError("search_busy", MESSAGE, status=429,
headers={"Retry-After": "30"})``.

Never shed: a signed-in family *in checkout*, i.e. one with a cart hold that has not lapsed or
an order awaiting payment that has not lapsed. Those families are looked up only when the limit
is reached, so admitted searches pay nothing for the rule. Shed families are not counted.

Redis unreachable: the search is let through and a warning logged (at most every 10 s per
process); after a failure the limiter stays open without trying Redis for
``BREAKER_SECONDS``, so a Redis that hangs cannot slow searches down either.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from portal.config.selectors import portal_settings_get
from saas_platform.errors import ApplicationError
from saas_platform.redis import redis_client as _redis
from saas_platform.redis import redis_key

logger = logging.getLogger(__name__)

MESSAGE = (
    "Whoa! There are a lot of people searching for classes right now, hang tight while we get "
    "the most up-to-date availability. This page will refresh itself in 30 seconds. Thank you "
    "for your patience."
)
RETRY_AFTER_SECONDS = 30
PERIOD_SECONDS = 60
BREAKER_SECONDS = 5.0
WARN_EVERY_SECONDS = 10.0

# GCRA. KEYS[1]: the tenant's key. ARGV[1]: searches per period, ARGV[2]: period (ms).
# Stores "<theoretical arrival time in ms>:<limit>" (Redis server clock, so every process
# agrees); when the business changes its limit, the searches already counted are carried over
# at the new rate. Returns 1 (admitted) or 0 (over the limit).
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


_touched: set[str] = set()  # schemas this process counted searches for (test clean-up)


class _State:
    script = None
    client_id = None
    open_until = 0.0  # the breaker: skip Redis until then (monotonic)
    last_warning = 0.0
    failures = 0
    shed = 0  # counters for tests and benchmarks (per process)
    admitted = 0
    exempt = 0
    early_shed = 0  # of ``shed``: answered by EarlyShedMiddleware


def _script():
    client = _redis()
    if _State.script is None or _State.client_id != id(client):
        _State.script = client.register_script(_GCRA)
        _State.client_id = id(client)
    return _State.script


def limiter_key(schema: str | None = None) -> str:
    schema = schema or connection.schema_name
    _touched.add(schema)
    return redis_key("rush", "search", schema)


def _fail_open(exc: Exception) -> None:
    now = time.monotonic()
    _State.open_until = now + BREAKER_SECONDS
    _State.failures += 1
    if now - _State.last_warning >= WARN_EVERY_SECONDS:
        _State.last_warning = now
        logger.warning(
            "search limiter: Redis unreachable (%s: %s); letting searches through "
            "(%d failures so far in this process)",
            type(exc).__name__,
            exc,
            _State.failures,
        )


def _take(limit: int) -> bool:
    """One search from the tenant's allowance; True when admitted (or Redis is down)."""
    if time.monotonic() < _State.open_until:
        return True
    try:
        return bool(_script()(keys=[limiter_key()], args=[limit, PERIOD_SECONDS * 1000]))
    except Exception as exc:  # protection must not take the portal down
        _fail_open(exc)
        return True


def family_in_checkout(user) -> bool:
    """A signed-in guardian whose family has a live cart hold or an unpaid order still open."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    from portal.enrollment.models import Hold, Order

    now = timezone.now()
    holds = Hold.objects.filter(
        family__guardians__user=user, status=Hold.Status.ACTIVE, expires_at__gt=now
    )
    if holds.exists():
        return True
    return Order.objects.filter(
        family__guardians__user=user,
        status=Order.Status.AWAITING_PAYMENT,
        expires_at__gt=now,
    ).exists()


def search_busy() -> ApplicationError:
    return ApplicationError(
        "search_busy",
        MESSAGE,
        status=429,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def search_admit(request) -> None:
    """Count one class search against the tenant's limit; raise ``search_busy`` (429,
    ``Retry-After: 30``) when it is over, unless the requester is a family in checkout.
    ``request``: a Django ``HttpRequest`` or a DRF ``Request``."""
    raw = getattr(request, "_request", request)
    if getattr(raw, "_search_admitted", False):
        return  # counted already by EarlyShedMiddleware
    limit = portal_settings_get(raw).class_search_rate_limit
    if _take(limit):
        _State.admitted += 1
        return
    if family_in_checkout(getattr(request, "user", None)):
        _State.exempt += 1
        return
    _State.shed += 1
    raise search_busy()


def limiter_reset(schema: str | None = None) -> None:
    """Forget a tenant's count (tests; staff raising the limit mid-rush need not call it)."""
    _State.open_until = 0.0
    try:
        _redis().delete(limiter_key(schema))
    except Exception as exc:
        _fail_open(exc)


def limiter_reset_touched() -> None:
    """Forget the counts of every tenant this process searched (the test harness)."""
    schemas = list(_touched)
    for schema in schemas:
        limiter_reset(schema)
    _touched.clear()


# The API's class searches, answered before sessions, authentication and DRF when a visitor's
# search is over the limit.
EARLY_PATHS = frozenset({"/api/v1/offerings", "/api/v1/offerings/match"})


class EarlyShedMiddleware:
    """Sheds a visitor's API class search right after routing: no session, no authentication,
    no DRF, one Redis script call. In a rush most searches are shed, so the cost of saying
    "Whoa!" is what decides how much CPU is left for the searches that are admitted.

    Only requests that could never be exempt are handled here: GETs of the search endpoints
    without credentials (no Authorization header, no session cookie) on an enabled portal that
    shows its catalog to visitors. Everything else (families, possibly in checkout; a disabled
    portal's 503; a hidden catalog's 401) goes the usual way and is counted by the view. An
    admitted search is marked so the view does not count it twice."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "GET"
            and request.path in EARLY_PATHS
            and "HTTP_AUTHORIZATION" not in request.META
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and getattr(getattr(request, "tenant", None), "schema_name", "public") != "public"
        ):
            portal = portal_settings_get(request)
            if portal.portal_enabled and portal.list_visible_when_logged_out:
                if not _take(portal.class_search_rate_limit):
                    _State.shed += 1
                    _State.early_shed += 1
                    error = search_busy()
                    response = JsonResponse(error.as_dict(), status=error.status)
                    for name, value in error.headers.items():
                        response[name] = value
                    return response
                _State.admitted += 1
                request._search_admitted = True
        return self.get_response(request)
