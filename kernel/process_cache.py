"""Per-process caches of a tenant's configuration (portal settings, the published theme), so a
request to a warm portal runs no query for them.

Values are kept in process memory per tenant schema. A change clears this process's copy at once
and, after commit, bumps a per-tenant generation counter in Redis that every process reads at
most once a second per tenant (no SQL); a TTL bounds staleness if Redis is unreachable. Values
read inside a transaction that has not committed yet are served but never stored, so a
rolled-back change cannot stick in the cache.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from kernel.redis import redis_client as _redis
from kernel.redis import redis_key

logger = logging.getLogger(__name__)

GENERATION_KEY = "tenant-config:generation:{schema}"
GENERATION_CHECK_SECONDS = 1.0
TTL_SECONDS = 300.0
_MISSING = object()


def _generation_key(schema: str) -> str:
    return redis_key(GENERATION_KEY.format(schema=schema))


def in_uncommitted_transaction() -> bool:
    """Inside a transaction of our own (not the one a test case wraps around each test)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


class TenantConfigCache:
    def __init__(self) -> None:
        self._values: dict[tuple[str, str], tuple[Any, float]] = {}
        self._generations: dict[str, tuple[int | None, float]] = {}
        self._lock = threading.Lock()
        self.loads = 0  # loader calls (database reads); read by tests and benchmarks

    def clear(self, schema: str | None = None) -> None:
        with self._lock:
            if schema is None:
                self._values.clear()
                self._generations.clear()
            else:
                for key in [k for k in self._values if k[0] == schema]:
                    del self._values[key]

    def _check_generation(self, schema: str, now: float) -> None:
        known, checked_at = self._generations.get(schema, (None, 0.0))
        if now - checked_at < GENERATION_CHECK_SECONDS:
            return
        try:
            raw = _redis().get(_generation_key(schema))
        except Exception:  # Redis down: the TTL bounds staleness; never fail the request
            self._generations[schema] = (known, now)
            return
        generation = int(raw) if raw is not None else 0
        if known is not None and generation != known:
            self.clear(schema)
        self._generations[schema] = (generation, now)

    def get(self, name: str, loader: Callable[[], Any], *, copy_value: bool = False) -> Any:
        """The value of ``name`` for the current tenant schema, loaded by ``loader`` when this
        process has no fresh copy. ``copy_value``: hand out a shallow copy (model instances a
        caller might change)."""
        schema = connection.schema_name
        now = time.monotonic()
        self._check_generation(schema, now)
        hit = self._values.get((schema, name), _MISSING)
        if hit is not _MISSING and hit[1] > now:
            value = hit[0]
        else:
            value = loader()
            self.loads += 1
            if value is not None and not in_uncommitted_transaction():
                with self._lock:
                    self._values[(schema, name)] = (value, now + TTL_SECONDS)
        return copy.copy(value) if copy_value and value is not None else value

    def invalidate(self, schema: str | None = None) -> None:
        """Forget the tenant's cached configuration here now, and everywhere once the current
        transaction commits."""
        schema = schema or connection.schema_name
        self.clear(schema)

        def bump() -> None:
            self.clear(schema)
            try:
                _redis().incr(_generation_key(schema))
            except Exception:
                logger.warning(
                    "could not bump the configuration generation of %s in Redis; other "
                    "processes see the change within %d s",
                    schema,
                    TTL_SECONDS,
                )

        transaction.on_commit(bump)


tenant_config = TenantConfigCache()
