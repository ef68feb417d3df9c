"""The one Redis connection (the cache's own pool) and the one key naming, for the code that
talks to Redis directly: routing and configuration generations, the search limiter, the
availability and search-page caches.

Every key starts with the cache's ``KEY_PREFIX`` (``CACHE_KEY_PREFIX``), so two deployments, or
two test runs, sharing a Redis never read each other's counters."""

from __future__ import annotations

from django.conf import settings


def redis_client():
    from django.core.cache import cache

    return cache._cache.get_client(write=True)


def redis_key(*parts: str) -> str:
    return ":".join([settings.CACHES["default"].get("KEY_PREFIX", ""), *parts])
