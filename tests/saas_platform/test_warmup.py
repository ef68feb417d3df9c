"""The quiet lane's worker serves itself its first request (``saas_platform.warmup``)."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import connection
from django.utils import timezone

from saas_platform import gunicorn_conf, warmup
from saas_platform.wsgi import application
from tenants import routing
from tenants.models import Domain, Tenant


def _first_launched_host() -> str:
    """The first of ``warm_up_hosts``, worked out the long way round."""
    tenants = sorted(
        (t for t in Tenant.objects.all() if t.status == Tenant.Status.ACTIVE and t.is_launched),
        key=lambda t: t.pk,
    )
    for tenant in tenants:
        for domain in Domain.objects.filter(tenant=tenant):
            if domain.is_primary and domain.verified_at is not None:
                return domain.domain
    raise AssertionError("no launched business in the test database")


def test_warm_up_hosts_are_the_launched_businesses_first_added_first(tenant_a, tenant_b):
    Tenant.objects.filter(pk__in=[tenant_a.pk, tenant_b.pk]).update(launched_at=timezone.now())
    hosts = warmup.warm_up_hosts()
    assert hosts[0] == _first_launched_host()
    assert {tenant_a.primary_host, tenant_b.primary_host} <= set(hosts)
    assert len(hosts) == len(set(hosts)) <= warmup.WARM_UP_BUSINESSES
    assert warmup.warm_up_hosts(1) == [hosts[0]]
    first = Domain.objects.get(domain=hosts[0]).tenant
    # Not launched, suspended, or a primary domain not verified: left out.
    for change in (
        {"launched_at": None},
        {"status": Tenant.Status.SUSPENDED},
    ):
        Tenant.objects.filter(pk=first.pk).update(**change)
        assert hosts[0] not in warmup.warm_up_hosts()
        assert warmup.warm_up_hosts()[0] == _first_launched_host()
        Tenant.objects.filter(pk=first.pk).update(
            launched_at=timezone.now(), status=Tenant.Status.ACTIVE
        )
    Domain.objects.filter(tenant=first).update(verified_at=None)
    assert hosts[0] not in warmup.warm_up_hosts()
    assert warmup.warm_up_hosts()[0] == _first_launched_host()
    assert connection.schema_name == "public"


def test_warm_up_hosts_are_none_without_a_launched_business(db):
    Tenant.objects.update(launched_at=None)
    assert warmup.warm_up_hosts() == []


def test_warm_up_serves_a_class_search_and_reads_the_next_businesses(
    tenant_a, tenant_b, monkeypatch, in_test_transaction
):
    """The first business's search goes through the whole application (its route looked up,
    so the routing, the search and its caches ran in this process); the next business's route
    and portal settings are read, so its first search reads neither; the thread's connections
    are closed."""
    from django.test.utils import CaptureQueriesContext

    from kernel.process_cache import tenant_config
    from portal.config.selectors import portal_settings_get

    Tenant.objects.filter(pk__in=[tenant_a.pk, tenant_b.pk]).update(launched_at=timezone.now())
    hosts = [tenant_a.primary_host, tenant_b.primary_host]
    monkeypatch.setattr(warmup, "warm_up_hosts", lambda: hosts)
    routing.router.clear()
    tenant_config.clear()
    before = routing.router.lookups
    assert warmup.warm_up(application) == 200
    assert in_test_transaction == [True]
    assert routing.router.lookups == before + 2
    assert connection.schema_name == "public"
    assert routing.router.resolve(tenant_a.primary_host) == tenant_a
    assert routing.router.resolve(tenant_b.primary_host) == tenant_b
    assert routing.router.lookups == before + 2  # kept: the next requests look up nothing
    connection.set_tenant(tenant_b)
    with CaptureQueriesContext(connection) as ctx:
        assert portal_settings_get() is not None
    assert ctx.captured_queries == []  # kept too


def test_warm_businesses_skips_a_business_it_cannot_read_and_reads_the_rest(
    tenant_a, tenant_b, monkeypatch, caplog
):
    from portal.config import selectors

    routing.router.clear()
    real = selectors.portal_settings_get

    def failing_for_a():
        if connection.schema_name == tenant_a.schema_name:
            raise RuntimeError("Redis is away")
        return real()

    monkeypatch.setattr(selectors, "portal_settings_get", failing_for_a)
    hosts = [tenant_a.primary_host, "unknown.example.test", tenant_b.primary_host]
    with caplog.at_level(logging.WARNING, logger="saas_platform.warmup"):
        assert warmup.warm_businesses(hosts) == 1  # b; no business at the unknown host
    assert "1 businesses not read" in caplog.text and tenant_a.primary_host in caplog.text
    assert connection.schema_name == "public"
    assert warmup.warm_businesses([]) == 0


def test_warm_up_environ_is_an_anonymous_https_get():
    environ = warmup.warm_up_environ("alpha.example.test")
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["PATH_INFO"] == warmup.WARM_UP_PATH == "/api/v1/offerings"
    assert environ["HTTP_HOST"] == environ["SERVER_NAME"] == "alpha.example.test"
    assert environ["wsgi.url_scheme"] == "https"
    assert not any(key in environ for key in ("HTTP_AUTHORIZATION", "HTTP_COOKIE"))
    assert environ["wsgi.input"].read() == b""


def test_warm_up_without_a_business_serves_nothing(monkeypatch, caplog, in_test_transaction):
    called: list = []
    monkeypatch.setattr(warmup, "warm_up_hosts", lambda: [])
    with caplog.at_level(logging.INFO, logger="saas_platform.warmup"):
        assert warmup.warm_up(lambda *a: called.append(a)) is None
    assert called == []
    assert "no launched business" in caplog.text


@pytest.mark.parametrize("failing", ["host", "application", "answer"])
def test_warm_up_that_fails_logs_it_and_raises_nothing(
    monkeypatch, caplog, failing, in_test_transaction
):
    def broken(*args):
        raise RuntimeError("Redis is away")

    def failing_answer(environ, start_response):
        start_response("200 OK", [])
        yield b"["
        raise RuntimeError("Redis is away")

    if failing == "host":
        monkeypatch.setattr(warmup, "warm_up_hosts", broken)
        app = application
    else:
        monkeypatch.setattr(warmup, "warm_up_hosts", lambda: ["alpha.example.test"])
        app = broken if failing == "application" else failing_answer
    with caplog.at_level(logging.WARNING, logger="saas_platform.warmup"):
        assert warmup.warm_up(app) is None
    assert "warm-up: not done (RuntimeError: Redis is away)" in caplog.text
    assert in_test_transaction == [True]


class _Worker:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.wsgi = object()


@pytest.mark.parametrize(
    ("quiet", "env", "warmed"), [(True, None, True), (True, "0", False), (False, None, False)]
)
def test_only_the_lane_worker_warms_up_after_it_starts(monkeypatch, quiet, env, warmed):
    """``post_worker_init``: the quiet lane's worker starts its warm-up (unless the setting
    says no); a regular worker, whose first request comes at once, does not."""
    started: list = []
    monkeypatch.setattr(gunicorn_conf, "install_queue_stamps", lambda worker: None)
    monkeypatch.setattr("kernel.api.token_use.flusher_start", lambda: None)
    monkeypatch.setattr(warmup, "warm_up_in_background", started.append)
    if env is None:
        monkeypatch.delenv("GUNICORN_LANE_WARM_UP", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_LANE_WARM_UP", env)
    worker = _Worker(quiet)
    gunicorn_conf.post_worker_init(worker)
    assert started == ([worker.wsgi] if warmed else [])


def test_warm_up_runs_in_a_thread_of_its_own_in_the_normal_policy(monkeypatch):
    import os

    seen: list = []

    def record(app):
        seen.append((threading.current_thread().name, os.sched_getscheduler(0), app))

    monkeypatch.setattr(warmup, "warm_up", record)
    app = object()
    warmup.warm_up_in_background(app).join(5)
    assert seen == [("warm-up", os.SCHED_OTHER, app)]
