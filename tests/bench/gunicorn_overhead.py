"""What a request costs gunicorn outside Django, by worker kind (docs/benchmarks.md, issue 21,
"Tenth pass").

One gunicorn worker with the production config (``saas_platform/gunicorn_conf.py``) serves
``tests/bench/bare_wsgi.py`` (an 11-byte answer, no Django), driven by Debian's ``wrk`` over 8
keep-alive connections (``make bench-deps``); the worker's CPU per request is read from
``/proc`` around the measured seconds. Each kind in turn, ``--rounds`` times:

- ``fair``: ``FairThreadWorker`` (the default: the fair thread pool, running places, queue
  stamps);
- ``gthread``: gunicorn's own thread pool (``GUNICORN_FAIR=0``);
- ``sync``: one request at a time (``GUNICORN_THREADS=1``).

    .venv/bin/python tests/bench/gunicorn_overhead.py [--seconds 6] [--rounds 2]

Prints figures; asserts nothing. wrk runs on the same machine, so requests a second is the
pair's; the CPU per request is the worker's alone.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = {
    "fair": {},
    "gthread": {"GUNICORN_FAIR": "0"},
    "sync": {"GUNICORN_THREADS": "1"},
}
TICKS = os.sysconf("SC_CLK_TCK")


def requests_done(wrk_output: str) -> int:
    """The request count of a wrk run ("12345 requests in 6.00s")."""
    found = re.search(r"(\d+) requests in ", wrk_output)
    if found is None:
        raise ValueError(f"no request count in wrk's output: {wrk_output[:200]!r}")
    return int(found.group(1))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _worker_of(master: int) -> int:
    for _ in range(100):
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def measure(kind: str, seconds: float) -> tuple[float, float]:
    """(requests a second, worker CPU microseconds a request) for one worker of ``kind``."""
    port = _free_port()
    env = {
        **os.environ,
        **KINDS[kind],
        "DJANGO_SETTINGS_MODULE": "saas_platform.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "gunicorn-overhead-bench"),
        "DEBUG": "0",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_MAX_REQUESTS": "0",
        "GUNICORN_ACCESS_LOG": "",
        "GUNICORN_CPU_LOG_DIR": "",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [sys.executable, "-m", "gunicorn", "-c", "saas_platform/gunicorn_conf.py"]
    cmd.append("tests.bench.bare_wsgi:application")
    master = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        worker = _worker_of(master.pid)
        wrk = ["wrk", "-t1", "-c8"]
        subprocess.run([*wrk, "-d2s", url], capture_output=True, check=True)  # warm up
        before = _cpu_seconds(worker)
        out = subprocess.run(
            [*wrk, f"-d{seconds:.0f}s", url], capture_output=True, text=True, check=True
        ).stdout
        cpu = _cpu_seconds(worker) - before
    finally:
        master.terminate()
        master.wait(timeout=30)
    done = requests_done(out)
    return done / seconds, cpu / done * 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    for _ in range(args.rounds):
        for kind in KINDS:
            results[kind].append(measure(kind, args.seconds))
    print("gunicorn outside Django (one worker, a bare WSGI app, wrk -t1 -c8 keep-alive)")
    for kind, runs in results.items():
        rps = ", ".join(f"{r:,.0f}" for r, _ in runs)
        cpu = ", ".join(f"{c:.0f}" for _, c in runs)
        print(f"  {kind:8s} requests a second {rps:24s} worker CPU a request (us) {cpu}")


if __name__ == "__main__":
    main()
