"""CPU of a warm class search in the Django process, against the opening benchmark's trivial
endpoint: ``GET /api/v1/offerings`` (a page of 20 results kept in Redis, availability spliced
in) and ``GET /api/v1/theme/tokens.json``, as the opening's search / trivial ratio compares
them over HTTP. Prints CPU milliseconds per request, and with ``SEARCH_PROFILE=1`` where the
search's time goes (cProfile on process time). Asserts nothing on time.

    .venv/bin/python -m pytest tests/bench/search_cpu.py --reuse-db -q -s

Django's test client, warm (20 requests of each first), ``time.process_time`` around each
round of 300 requests, best of 3 rounds. The test client's own work is in both figures.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import time

import pytest
from django.db import connection

from tests.factories import OfferingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/offerings"
TRIVIAL = "/api/v1/theme/tokens.json"
ROUNDS = 3
PER_ROUND = 300


def test_print_search_cpu(in_tenant_a):
    for n in range(20):
        OfferingFactory(name=f"Tumbling {n}")
    connection.set_schema_to_public()
    client = client_for(in_tenant_a)
    for url in (SEARCH, TRIVIAL):
        for _ in range(20):
            assert client.get(url).status_code == 200
    best: dict[str, list[float]] = {SEARCH: [], TRIVIAL: []}
    for _ in range(ROUNDS):
        for url in (SEARCH, TRIVIAL):  # alternated round by round
            started = time.process_time()
            for _ in range(PER_ROUND):
                client.get(url)
            best[url].append((time.process_time() - started) / PER_ROUND * 1000)
    size = len(client.get(SEARCH).content)
    search, trivial = min(best[SEARCH]), min(best[TRIVIAL])
    print(
        f"\nWarm search CPU in the Django process (best of {ROUNDS} rounds of {PER_ROUND}; "
        f"20 results, {size:,} bytes)\n"
        f"  search   {search:.2f} ms   (rounds: {', '.join(f'{v:.2f}' for v in best[SEARCH])})\n"
        f"  trivial  {trivial:.2f} ms   (rounds: {', '.join(f'{v:.2f}' for v in best[TRIVIAL])})\n"
        f"  trivial / search CPU {trivial / search:.2f} (the HTTP ratio's in-process counterpart)"
    )
    if os.environ.get("SEARCH_PROFILE"):
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(PER_ROUND):
            client.get(SEARCH)
        profile.disable()
        for order, limit in (("cumulative", 45), ("tottime", 25)):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(limit)
            print(out.getvalue())
