"""CPU of the Redis calls the opening's requests make, in one process, with whichever reply
parser and command packer redis-py finds (docs/benchmarks.md, issue 21, "Twentieth pass"):
hiredis when installed (``redis[hiredis]``), its pure-Python ones otherwise.

    .venv/bin/python tests/bench/redis_calls.py [--url redis://127.0.0.1:6379/9]

To compare, run it again with hiredis hidden: a folder holding a ``hiredis.py`` that raises
``ImportError``, first on ``PYTHONPATH``. ``time.process_time`` around 3,000 calls, best of
five rounds: an ``EVALSHA`` with 2 keys and 25 arguments (a join's script takes ~27), a search
page's pipeline (``MGET`` of a 10 KB page, ``HMGET`` of 20 fields, ``EXISTS``) and a ``GET``.
Writes a few keys under ``bench:redis-calls:`` (expiring in a minute). Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import time

import redis
import redis.utils


def _best(call, n: int = 3000, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            call()
        best = min(best, (time.process_time() - started) / n)
    return best * 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/9"
    parser.add_argument("--url", default=default)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.url, protocol=3)
    page, fields = "bench:redis-calls:page", "bench:redis-calls:seats"
    client.set(page, b"x" * 10_000, ex=60)
    client.hset(fields, mapping={str(i): str(i * 3) for i in range(20)})
    client.expire(fields, 60)
    script = client.script_load("return {KEYS[1], ARGV[1], #ARGV}")
    arguments = [str(i) for i in range(25)]

    def evalsha() -> None:
        client.evalsha(script, 2, "bench:redis-calls:a", "bench:redis-calls:b", *arguments)

    def pipeline() -> None:
        pipe = client.pipeline(transaction=False)
        pipe.mget([page, "bench:redis-calls:none"])
        pipe.hmget(fields, [str(i) for i in range(20)])
        pipe.exists(fields)
        pipe.execute()

    print(f"redis-py {redis.__version__}, hiredis: {redis.utils.HIREDIS_AVAILABLE}")
    print(f"  EVALSHA, 2 keys and 25 arguments  {_best(evalsha):6.1f} us")
    print(f"  a search page's pipeline          {_best(pipeline):6.1f} us")
    print(f"  GET                               {_best(lambda: client.get(page)):6.1f} us")


if __name__ == "__main__":
    main()
