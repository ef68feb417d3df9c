"""A business's first class search in a process that has served another business's (the quiet
lane's worker after its warm-up, ``saas_platform.warmup``): its thread CPU when the process has
not read the business's routing entry and portal settings yet, against when ``warm_businesses``
read them beforehand, and against a warm search. Asserts nothing on time.

    .venv/bin/python -m pytest tests/bench/first_search.py --reuse-db -q -s

Two businesses of 20 upcoming classes each, their first pages of search results warm in Redis.
Each round clears this process's caches (routes, tenant settings, the pages' offerings), serves
business A's search through the WSGI application gunicorn serves, then business B's: cold, or
after ``warm_businesses([B])`` (whose own CPU is printed too), then once more warm. The two
ways alternate, ``ROUNDS`` each; medians printed (docs/benchmarks.md, "Twenty-seventh pass").
"""

from __future__ import annotations

import statistics
import time

import pytest
from django.db import connection
from django.utils import timezone

from kernel.process_cache import tenant_config
from portal.catalog import search_cache
from saas_platform import warmup
from saas_platform.wsgi import application
from tenants import routing
from tenants.models import Tenant
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db

ROUNDS = 15


def _search_cpu_ms(host: str) -> float:
    """Thread CPU of one anonymous class search of ``host``, answered and closed."""
    statuses: list[str] = []
    started = time.thread_time()
    answer = application(
        warmup.warm_up_environ(host),
        lambda status, headers, exc_info=None: statuses.append(status),
    )
    b"".join(answer)
    answer.close()
    spent = (time.thread_time() - started) * 1000
    assert statuses[0].startswith("200"), statuses
    return spent


def _cold_process() -> None:
    routing.router.clear()
    tenant_config.clear()
    search_cache._page_ids.clear()


def test_print_first_search(tenant_a, tenant_b, in_test_transaction):
    Tenant.objects.filter(pk__in=[tenant_a.pk, tenant_b.pk]).update(launched_at=timezone.now())
    for tenant in (tenant_a, tenant_b):
        connection.set_tenant(tenant)
        for n in range(20):
            make_offering(name=f"Class {n}")
    connection.set_schema_to_public()
    a, b = tenant_a.primary_host, tenant_b.primary_host
    for host in (a, b, a, b):  # the pages in Redis, the compiles done
        _search_cpu_ms(host)
    runs: dict[str, list[float]] = {"cold": [], "read": [], "reads": [], "warm": []}
    for _ in range(ROUNDS):
        for way in ("cold", "read"):
            _cold_process()
            _search_cpu_ms(a)  # the warm-up's own search
            if way == "read":
                started = time.thread_time()
                assert warmup.warm_businesses([b]) == 1
                runs["reads"].append((time.thread_time() - started) * 1000)
            runs[way].append(_search_cpu_ms(b))
            runs["warm"].append(_search_cpu_ms(b))
    cold, read, warm = (statistics.median(runs[w]) for w in ("cold", "read", "warm"))
    print(
        f"\nBusiness B's first class search after business A's, thread CPU (median of "
        f"{ROUNDS} each, alternated)\n"
        f"  its route and settings not read yet        {cold:6.2f} ms\n"
        f"  read beforehand by warm_businesses         {read:6.2f} ms "
        f"(the reads: {statistics.median(runs['reads']):.2f} ms)\n"
        f"  a warm search                              {warm:6.2f} ms"
    )
