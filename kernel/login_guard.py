"""Sign-in throttling and lockout, per tenant and client address, kept in Redis.

Every password sign-in goes through ``django.contrib.auth.authenticate()`` — the API's
``/api/v1/auth/token``, the web portal's login form, both admin sites' login pages and the
platform's ``/api/platform/v1/auth/token`` — and so through :class:`LockoutModelBackend`, the
first of ``AUTHENTICATION_BACKENDS``:

- ``LOGIN_FAILURE_LIMIT`` wrong passwords for one account from one address lock that account
  out *from that address* for ``LOGIN_LOCKOUT_SECONDS`` (a person mistyping elsewhere, or the
  real owner on another network, is not locked out by an attacker);
- ``LOGIN_IP_FAILURE_LIMIT`` wrong passwords from one address, whatever the accounts, lock the
  address out (password spraying);
- a correct password clears the account's counter for that address;
- ``LOGIN_PLATFORM_FAILURE_LIMIT`` wrong passwords from one address *across every tenant and
  the platform host* lock that address out everywhere (a spray spread over many businesses
  stays under each business's own limit). These keys alone are outside the tenant namespace.

"Address" is the client's, as ``kernel.client_address`` derives it behind the trusted
proxies: behind Caddy ``REMOTE_ADDR`` is Caddy, and counting it would let 30 wrong passwords
from anywhere lock every sign-in of a business.

While locked, even the right password is refused and no password hash is computed. The counters
are cache keys, and the cache's key function (``django_tenants.cache.make_key``) puts the current
schema in every key: tenant A's counters and locks are invisible on tenant B's host and on the
platform host, exactly as their user tables are. (This is why the lock does not live in a table:
django-axes' AccessAttempt would have to be a tenant app *and* a shared app to cover both kinds of
host, and would turn every failed sign-in into a database write.)

``authenticate()`` can only answer "no user", so the backend marks the request
(``request.login_locked`` = seconds to wait); callers turn that into ``login_locked`` (429 with
``Retry-After``), and :class:`LoginLockoutMiddleware` does it for the admin login pages. Redis
being down fails open: sign-in works without throttling (the per-route rate limits remain).

Why hand-written: django-axes' cache handler keys its counters per tenant too, but compares one
failure limit with every key (5 per account and client *and* 30 per client cannot both hold) and
has no counter across tenants; django-defender keeps its own Redis keys, so the same email on two
tenants shares one counter; django-ratelimit limits views, not ``authenticate()``, so the admin
sites' login pages would escape it. docs/security.md ("django-axes, evaluated") has the table.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kernel.client_address import client_address as _client_address
from kernel.errors import ApplicationError
from kernel.redis import redis_client, redis_key

logger = logging.getLogger(__name__)

KEY_PREFIX = "login-guard"


def _limits() -> tuple[int, int, int]:
    return (
        int(getattr(settings, "LOGIN_FAILURE_LIMIT", 5)),
        int(getattr(settings, "LOGIN_IP_FAILURE_LIMIT", 30)),
        int(getattr(settings, "LOGIN_LOCKOUT_SECONDS", 900)),
    )


def _platform_limit() -> int:
    return int(getattr(settings, "LOGIN_PLATFORM_FAILURE_LIMIT", 100))


def client_address(request) -> str:
    """The client's address as ``kernel.client_address`` derives it ("-" if none)."""
    return _client_address(request) or "-"


def _account_key(ip: str, username: str) -> str:
    digest = hashlib.sha256(f"{ip}|{(username or '').strip().lower()}".encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:acct:{digest}"


def _ip_key(ip: str) -> str:
    return f"{KEY_PREFIX}:ip:{ip}"


def _platform_key(ip: str) -> str:
    """Outside the tenant's key namespace on purpose: one counter per address for all hosts."""
    return redis_key(KEY_PREFIX, "platform", hashlib.sha256(ip.encode()).hexdigest()[:32])


def _platform_locked_for(ip: str) -> int:
    until = redis_client().get(f"{_platform_key(ip)}:lock")
    if not until:
        return 0
    return max(0, math.ceil(float(until) - time.time()))


def _platform_count(ip: str, window: int) -> int:
    key = f"{_platform_key(ip)}:n"
    pipe = redis_client().pipeline()
    pipe.set(key, 0, ex=window, nx=True)  # the window starts at the first failure
    pipe.incr(key)
    return int(pipe.execute()[1])


def _platform_lock(ip: str, seconds: int) -> None:
    redis_client().set(f"{_platform_key(ip)}:lock", time.time() + seconds, ex=seconds)


def _locked_for(key: str) -> int:
    """Seconds left on the lock stored under ``key`` (0: not locked)."""
    until = cache.get(f"{key}:lock")
    if not until:
        return 0
    return max(0, math.ceil(float(until) - time.time()))


def _lock(key: str, seconds: int) -> None:
    cache.set(f"{key}:lock", time.time() + seconds, timeout=seconds)


def _count(key: str, window: int) -> int:
    cache.add(f"{key}:n", 0, timeout=window)
    try:
        return cache.incr(f"{key}:n")
    except ValueError:  # expired between add and incr
        cache.set(f"{key}:n", 1, timeout=window)
        return 1


def lockout_remaining(*, request, username: str) -> int:
    """Seconds this address must still wait before signing in as ``username`` (0: may try)."""
    ip = client_address(request)
    try:
        return max(
            _locked_for(_account_key(ip, username)),
            _locked_for(_ip_key(ip)),
            _platform_locked_for(ip),
        )
    except Exception:  # Redis down: fail open
        logger.warning("login guard unavailable; sign-in not throttled", exc_info=True)
        return 0


def login_failed(*, request, username: str) -> int:
    """Count a wrong password; returns the lock now in force (seconds, 0 if none)."""
    per_account, per_ip, seconds = _limits()
    ip = client_address(request)
    try:
        account, address = _account_key(ip, username), _ip_key(ip)
        locked = 0
        if _count(account, seconds) >= per_account:
            _lock(account, seconds)
            locked = seconds
        if _count(address, seconds) >= per_ip:
            _lock(address, seconds)
            locked = seconds
        if _platform_count(ip, seconds) >= _platform_limit():
            _platform_lock(ip, seconds)
            locked = seconds
        if locked:
            logger.warning("sign-in locked for %ss after repeated failures from %s", seconds, ip)
        return locked
    except Exception:
        logger.warning("login guard unavailable; failure not counted", exc_info=True)
        return 0


def login_succeeded(*, request, username: str) -> None:
    ip = client_address(request)
    try:
        cache.delete(f"{_account_key(ip, username)}:n")
    except Exception:
        logger.warning("login guard unavailable", exc_info=True)


def login_guard_reset(*, request=None, username: str | None = None, ip: str | None = None) -> None:
    """Lift locks (support tool and tests): the account's for that address, the address's in
    this tenant, and the address's platform-wide lock."""
    ip = ip or client_address(request)
    keys = [_ip_key(ip)]
    if username is not None:
        keys.append(_account_key(ip, username))
    cache.delete_many([f"{key}:{part}" for key in keys for part in ("n", "lock")])
    redis_client().delete(f"{_platform_key(ip)}:n", f"{_platform_key(ip)}:lock")


def _mark(request, seconds: int) -> None:
    if request is None:
        return
    request.login_locked = seconds
    inner = getattr(request, "_request", None)  # a DRF Request wraps the HttpRequest
    if inner is not None:
        inner.login_locked = seconds


def login_locked_error(seconds: int) -> ApplicationError:
    minutes = max(1, math.ceil(seconds / 60))
    return ApplicationError(
        "login_locked",
        _(
            "Too many failed sign-in attempts. Try again in %(minutes)d minutes, or reset "
            "your password."
        )
        % {"minutes": minutes},
        status=429,
        headers={"Retry-After": str(max(1, seconds))},
    )


def raise_if_locked(request) -> None:
    """For callers of authenticate(): turn the backend's mark into ``login_locked`` (429)."""
    seconds = getattr(request, "login_locked", 0)
    if seconds:
        raise login_locked_error(seconds)


class LockoutModelBackend(ModelBackend):
    """ModelBackend behind the lockout check. It is authoritative for email + password: when it
    refuses, it raises PermissionDenied so no later backend checks the same password again."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if username is None or password is None:
            return None
        remaining = lockout_remaining(request=request, username=username)
        if remaining:
            _mark(request, remaining)
            raise PermissionDenied("login_locked")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            locked = login_failed(request=request, username=username)
            if locked:
                _mark(request, locked)
            raise PermissionDenied("invalid_credentials")
        login_succeeded(request=request, username=username)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


class LoginLockoutMiddleware:
    """Pages that call authenticate() without knowing about the lock (the admin login forms):
    a locked attempt answers 429 with ``Retry-After`` and says why."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        seconds = getattr(request, "login_locked", 0)
        if not seconds:
            return response
        if response.status_code < 400:
            from django.shortcuts import render

            response = render(
                request,
                "kernel/login_locked.html",
                {"error": login_locked_error(seconds)},
                status=429,
            )
        if not response.has_header("Retry-After"):
            response["Retry-After"] = str(max(1, seconds))
        return response
