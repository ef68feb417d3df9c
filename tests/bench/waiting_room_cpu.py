"""CPU per waiting-room request in the Django process: a join (bearer token) and a leave
(ticket only, as the opening benchmark's families send it; and with the app's bearer token
along) answered before the stack (saas_platform/waiting_room_poll.py) against the same request
through the whole stack (the middleware left out). Prints figures; asserts nothing on time.

Run it on its own, in one process, against the test database (docs/benchmarks.md, issue 21,
"Fourth pass"):

    .venv/bin/python -m pytest tests/bench/waiting_room_cpu.py --reuse-db -q -s

(``WR_PROFILE=1``: also where a fast join's CPU goes, cProfile on process time.)

Django's test client, warm (opening settings, portal settings and routes cached; the token's
last use recorded), ``time.process_time`` around each round of 300 requests, best of 3 rounds,
the two paths alternated round by round. The opening has opened and 1,000 families (Redis
only) are in line ahead, admitted one a second, so each join answers ``waiting`` with a place,
as in the opening's first seconds. The test client's own work (building the request, reading
the response) is in both figures.
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

FAST = "saas_platform.waiting_room_poll.WaitingRoomPollMiddleware"
ROUNDS = 3
PER_ROUND = 300
AHEAD = 1_000


@contextmanager
def whole_stack():
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != FAST]):
        yield


@pytest.fixture
def opening(in_tenant_a):
    opening = RegistrationOpening.objects.create(
        name="Fall registration",
        opens_at=timezone.now() - timedelta(seconds=1),
        admit_per_minute=60,
    )
    for i in range(AHEAD):
        waiting_room.queue_join(opening_id=opening.pk, family_id=10_000_000 + i)
    yield opening
    connection.set_tenant(in_tenant_a)
    waiting_room.queue_clear(opening=opening)
    waiting_room.configs_clear()
    connection.set_schema_to_public()


def _cpu_ms(send) -> float:
    """CPU milliseconds per request over one round."""
    gc.collect()
    started = time.process_time()
    for _ in range(PER_ROUND):
        send()
    return (time.process_time() - started) * 1000 / PER_ROUND


def _queries(send) -> int:
    with CaptureQueriesContext(connection) as ctx:
        send()
    return len([q for q in ctx.captured_queries if not q["sql"].startswith("SET ")])


def test_print_waiting_room_cpu(opening, family_a):
    url = f"/api/v1/openings/{opening.pk}/queue"
    connection.set_schema_to_public()
    with whole_stack():  # a client's handler loads the middleware list in effect now
        stack_app = family_a.client()
        stack_anonymous = client_for(family_a.tenant)
        for client in (stack_app, stack_anonymous):
            client.handler.load_middleware()
    fast_app = family_a.client()
    fast_anonymous = client_for(family_a.tenant)
    ticket = fast_app.post(url).json()["ticket"]

    cases = {
        "poll (ticket)": (
            lambda: fast_anonymous.get(url, HTTP_X_WAITING_ROOM_TICKET=ticket),
            lambda: stack_app.get(url, HTTP_X_WAITING_ROOM_TICKET=ticket),
            200,
        ),
        "join (bearer token)": (
            lambda: fast_app.post(url),
            lambda: stack_app.post(url),
            200,
        ),
        "leave (ticket only)": (
            lambda: fast_anonymous.delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket),
            lambda: stack_anonymous.delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket),
            204,
        ),
        "leave (ticket + bearer token)": (
            lambda: fast_app.delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket),
            lambda: stack_app.delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket),
            204,
        ),
    }
    lines = []
    for name, (fast, stack, expected) in cases.items():
        for send in (fast, stack):  # warm, and check the answers
            for _ in range(20):
                answer = send()
            assert answer.status_code == expected, answer.content
        fast_queries, stack_queries = _queries(fast), _queries(stack)
        fast_ms, stack_ms = [], []
        for _ in range(ROUNDS):
            fast_ms.append(_cpu_ms(fast))
            stack_ms.append(_cpu_ms(stack))
        lines.append(
            f"  {name:<30} fast {min(fast_ms):5.2f} ms ({fast_queries} queries)   "
            f"whole stack {min(stack_ms):5.2f} ms ({stack_queries} queries)   "
            f"{min(stack_ms) / min(fast_ms):4.1f}x less CPU   "
            f"(rounds: fast {', '.join(f'{v:.2f}' for v in fast_ms)}; "
            f"stack {', '.join(f'{v:.2f}' for v in stack_ms)})"
        )
    state = fast_app.post(url).json()
    print(
        f"\nWaiting room CPU per request in the Django process (best of {ROUNDS} rounds of "
        f"{PER_ROUND}; the join answers {state['state']!r}, place {state['position']}; "
        f"load average {', '.join(f'{v:.1f}' for v in _loadavg())})"
    )
    print("\n".join(lines))
    if os.environ.get("WR_PROFILE"):  # where a fast join's (or poll's) CPU goes
        join = cases[os.environ.get("WR_PROFILE_CASE", "join (bearer token)")][0]
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(PER_ROUND):
            join()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())


def _loadavg() -> tuple[float, float, float]:
    import os

    return os.getloadavg()
