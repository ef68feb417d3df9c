"""CPU of one registration of a free class in the Django process, as the opening benchmark's
families make it: the hold (``POST /api/v1/cart/items``) and the checkout (``POST
/api/v1/checkout``) with the family's bearer token and its waiting-room pass, the class in a
registration opening. Prints CPU milliseconds and statements per request, and with
``CHECKOUT_PROFILE=1`` the functions where the time goes (cProfile; ``CHECKOUT_PROFILE_OUT=path``
also writes the raw profile for ``pstats``, callers included; ``CHECKOUT_GAPS=1`` the Python CPU
before each statement). Asserts nothing on time.

    .venv/bin/python -m pytest tests/bench/checkout_cpu.py --reuse-db -q -s

Django's test client, warm (settings, routes, the opening's configuration cached), one student
per round so every hold is a new seat, ``time.process_time`` around each request, median of
``ROUNDS`` after ``WARM`` warm-up rounds. The test client's own work is in the figures.
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import statistics
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from tests.factories import StudentFactory
from tests.portal.enrollment_helpers import accept_policies, make_offering

pytestmark = pytest.mark.django_db

WARM = 10
ROUNDS = 60
GAP_ROUNDS = 30  # CHECKOUT_GAPS: rounds of each step


def test_print_checkout_cpu(family_a, monkeypatch):
    monkeypatch.setattr(waiting_room, "CONFIG_TTL", 600.0)
    offering = make_offering(name="Open gym", capacity=10_000, tuition=0)
    opening = RegistrationOpening.objects.create(
        name="Fall registration", opens_at=timezone.now() - timedelta(seconds=1)
    )
    opening.offerings.set([offering])
    family = family_a.family
    needed = WARM + ROUNDS + 2 * GAP_ROUNDS + 2
    students = [family_a.student] + [
        StudentFactory(family=family, first_name=f"Kid{i}") for i in range(needed)
    ]
    accept_policies(family)
    waiting_room.gated_offerings_clear()
    connection.set_schema_to_public()
    client = family_a.client()
    queue = f"/api/v1/openings/{opening.pk}/queue"
    client.post(queue)
    status = client.get(queue).json()
    assert status["state"] == "admitted", status
    headers = {"HTTP_X_WAITING_ROOM_PASS": status["pass_token"]}

    def hold(student) -> None:
        body = {"offering": offering.pk, "student": student.pk}
        answer = client.post("/api/v1/cart/items", body, format="json", **headers)
        assert answer.status_code == 201, answer.content

    def checkout() -> None:
        answer = client.post("/api/v1/checkout", {}, format="json", **headers)
        assert answer.status_code == 201, answer.content

    pending = iter(students)
    for _ in range(WARM):
        hold(next(pending))
        checkout()
    # Each request empties the connection's log (request_started): keep copies.
    with CaptureQueriesContext(connection) as ctx:
        hold(next(pending))
    hold_sql = list(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        checkout()
    checkout_sql = list(ctx.captured_queries)

    # CPU time, not wall time: waiting for PostgreSQL is not counted.
    profiler = cProfile.Profile(time.process_time) if os.environ.get("CHECKOUT_PROFILE") else None
    hold_ms, checkout_ms = [], []
    gc.collect()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    pg_before = _pg_cpu_seconds(backend)
    for _ in range(ROUNDS):
        student = next(pending)
        if profiler:
            profiler.enable()
        started = time.process_time()
        hold(student)
        middle = time.process_time()
        checkout()
        hold_ms.append((middle - started) * 1000)
        checkout_ms.append((time.process_time() - middle) * 1000)
        if profiler:
            profiler.disable()
    pg_ms = (_pg_cpu_seconds(backend) - pg_before) * 1000 / ROUNDS
    print(
        f"\nFree-class registration, CPU in the Django process (median of {ROUNDS}; "
        f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())})"
    )
    for name, values, sql in (
        ("hold", hold_ms, hold_sql),
        ("checkout", checkout_ms, checkout_sql),
    ):
        print(
            f"  {name:<9} {statistics.median(values):6.2f} ms  "
            f"(p10 {sorted(values)[len(values) // 10]:.2f}, {len(sql)} statements)"
        )
    print(
        f"  PostgreSQL's backend for both: {pg_ms:.1f} ms of CPU a registration "
        f"(/proc, {os.sysconf('SC_CLK_TCK')} ticks a second)"
    )
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"/work/main/(?!\.venv|tests)", 80)
        stats.sort_stats("tottime").print_stats(30)
        print(out.getvalue())
        if os.environ.get("CHECKOUT_PROFILE_OUT"):
            profiler.dump_stats(os.environ["CHECKOUT_PROFILE_OUT"])
    if os.environ.get("CHECKOUT_GAPS"):
        _print_gaps(hold, checkout, pending)
    if os.environ.get("CHECKOUT_SQL"):
        for name, sql in (("hold", hold_sql), ("checkout", checkout_sql)):
            print(f"--- {name}")
            for q in sql:
                text = q["sql"]
                if text.startswith("SELECT set_config('pghistory"):
                    text = "[audited] " + text.split("; ", 1)[-1]
                print(f"  {q['time']}  {' '.join(text.split())[:220]}")


def _print_gaps(hold, checkout, pending) -> None:
    """The Python CPU spent before each statement of a hold and a checkout (from the end of the
    previous statement, or the request's start: building and compiling it, and whatever the
    code did in between) and after the last one, median over ``GAP_ROUNDS``."""
    rounds = GAP_ROUNDS
    marks: list[tuple[float, float, str]] = []

    def wrapper(execute, sql, params, many, context):
        started = time.thread_time()
        try:
            return execute(sql, params, many, context)
        finally:
            marks.append((started, time.thread_time(), sql))

    for name, step in (("hold", hold), ("checkout", checkout)):
        gaps: dict[int, list[float]] = {}
        texts: dict[int, str] = {}
        for _ in range(rounds):
            if name == "hold":
                student = next(pending)
                checkout_args: tuple = (student,)
            else:
                hold(next(pending))
                checkout_args = ()
            marks.clear()
            with connection.execute_wrapper(wrapper):
                began = time.thread_time()
                step(*checkout_args)
                ended = time.thread_time()
            previous = began
            for index, (start, end, sql) in enumerate(marks):
                gaps.setdefault(index, []).append((start - previous) * 1000)
                texts[index] = sql
                previous = end
            gaps.setdefault(len(marks), []).append((ended - previous) * 1000)
            texts[len(marks)] = "(after the last statement: the answer)"
            if name == "hold":
                checkout()
        total = sum(statistics.median(v) for v in gaps.values())
        print(f"--- {name}: Python CPU before each statement, median of {rounds} ({total:.1f} ms)")
        for index in sorted(gaps):
            text = " ".join(texts[index].split())
            if text.startswith("SELECT set_config('pghistory"):
                text = "[audited] " + text.split("; ", 1)[-1]
            print(f"  {statistics.median(gaps[index]):6.2f} ms  {text[:150]}")


def _pg_cpu_seconds(pid: int) -> float:
    """User and system CPU of a PostgreSQL backend on this machine (the server is local)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
