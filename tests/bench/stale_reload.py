"""The class search that finds its business's seat availability copy stale: how long until its
answer is sent when it reloads the copy first (``saas_platform.wsgi``'s Django handler alone)
against when it answers from the stale copy and reloads after (``kernel.after_response``, the
application gunicorn serves). Asserts nothing on time.

    .venv/bin/python -m pytest tests/bench/stale_reload.py --reuse-db -q -s

A business of 200 upcoming classes (the opening benchmark's business B), its first page of
search results warm in Redis; each round removes the copy's freshness marker, then calls the
application as a WSGI server does and times the answer (iterated) and the whole call (closed:
the deferred reload included). The two applications alternate, 40 rounds each after 5 warm
ones; medians printed.
"""

from __future__ import annotations

import statistics
import time

import pytest
from django.core import signals
from django.db import close_old_connections, connection

from portal.catalog import availability
from saas_platform.warmup import warm_up_environ
from saas_platform.wsgi import application
from tests.factories import OfferingFactory

pytestmark = pytest.mark.django_db

ROUNDS = 40


def _stale_search(app, host: str, fresh: str) -> tuple[float, float]:
    """(ms until the answer was sent, ms until the call was done) of one search that finds
    the copy stale."""
    availability._redis().delete(fresh)
    statuses: list[str] = []
    started = time.perf_counter()
    answer = app(
        warm_up_environ(host), lambda status, headers, exc_info=None: statuses.append(status)
    )
    body = b"".join(answer)
    answered = time.perf_counter()
    getattr(answer, "close", lambda: None)()
    done = time.perf_counter()
    assert statuses[0].startswith("200") and body.startswith(b"{")
    return (answered - started) * 1000, (done - started) * 1000


def test_print_stale_reload(in_tenant_a, monkeypatch):
    # The test's transaction lives on this thread's connection: neither the handler nor the
    # deferred work may close it.
    monkeypatch.setattr("django.db.close_old_connections", lambda: None)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        for n in range(200):
            OfferingFactory(name=f"Calm class {n}")
        _, fresh, _ = availability._keys(connection.schema_name)
        connection.set_schema_to_public()
        host = in_tenant_a.primary_host
        inline = application.application  # Django's handler: the reload before the answer
        for _ in range(5):
            _stale_search(application, host, fresh)
            _stale_search(inline, host, fresh)
        deferred_before = availability.Stats.reloads_deferred
        runs: dict[str, list[tuple[float, float]]] = {"after": [], "inline": []}
        for _ in range(ROUNDS):
            runs["after"].append(_stale_search(application, host, fresh))
            runs["inline"].append(_stale_search(inline, host, fresh))
        assert availability.Stats.reloads_deferred == deferred_before + ROUNDS
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    after = statistics.median(a for a, _ in runs["after"])
    after_done = statistics.median(d for _, d in runs["after"])
    inline_answered = statistics.median(a for a, _ in runs["inline"])
    print(
        f"\nThe search that finds the availability copy stale (200 classes; median of {ROUNDS}, "
        "alternated)\n"
        f"  reloaded after the answer   answered in {after:.2f} ms "
        f"(the reload after it: done at {after_done:.2f} ms)\n"
        f"  reloaded before the answer  answered in {inline_answered:.2f} ms\n"
        f"  answered in {after / inline_answered:.2f} of the time"
    )
